import { createServer, type Server, type Socket } from 'node:net';

/** TCP listeners on 127.0.0.1 that the test owns: real targets for real scans. */
export interface Listeners {
  readonly ports: number[];
  /** Changes how new connections are answered. */
  setBehaviour(behaviour: 'banner' | 'quiet'): void;
  close(): Promise<void>;
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : 0);
    });
  });
}

/**
 * `count` listeners. `behaviour`: 'banner' greets like an FTP server and closes;
 * 'quiet' accepts and never answers (nmap's service detection keeps probing it for
 * minutes: a long scan on demand).
 */
export async function startListeners(count: number, initial: 'banner' | 'quiet' = 'banner'): Promise<Listeners> {
  let behaviour = initial;
  const servers: Server[] = [];
  const sockets = new Set<Socket>();
  const ports: number[] = [];
  for (let i = 0; i < count; i++) {
    const server = createServer((socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => {});
      if (behaviour === 'banner') socket.end('220 test service ready\r\n');
    });
    servers.push(server);
    ports.push(await listen(server));
  }
  return {
    ports,
    setBehaviour(next) {
      behaviour = next;
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    },
  };
}

/** Ports that were free a moment ago (bound, then released): closed ports to scan. */
export async function closedPorts(count: number): Promise<number[]> {
  const listeners = await startListeners(count);
  await listeners.close();
  return listeners.ports;
}
