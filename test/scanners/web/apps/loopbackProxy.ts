/**
 * A forward HTTP proxy for running a third-party scanner (wapiti) against a test app:
 * it forwards plain-HTTP requests to exactly one loopback origin and refuses
 * everything else (other hosts, CONNECT tunnels), so the tool cannot reach anything
 * but the app whatever it tries, and it counts what the tool sent.
 */
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface LoopbackProxy {
  readonly port: number;
  /** Requests forwarded to the app. */
  readonly forwarded: () => number;
  /** What was refused (host:port or CONNECT targets). */
  readonly refused: string[];
  close(): Promise<void>;
}

export async function startLoopbackProxy(allowed: { host: '127.0.0.1'; port: number }): Promise<LoopbackProxy> {
  let forwarded = 0;
  const refused: string[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((req, res) => {
    let target: URL;
    try {
      target = new URL(req.url ?? '');
    } catch {
      refused.push(String(req.url));
      res.writeHead(400).end('absolute-form requests only');
      return;
    }
    const port = Number(target.port || (target.protocol === 'https:' ? 443 : 80));
    if (target.protocol !== 'http:' || target.hostname !== allowed.host || port !== allowed.port) {
      if (refused.length < 1000) refused.push(`${target.protocol}//${target.host}`);
      res.writeHead(403, { 'content-type': 'text/plain' }).end('refused by the test proxy');
      return;
    }
    forwarded++;
    const headers = { ...req.headers };
    delete headers['proxy-connection'];
    const upstream = request(
      {
        host: allowed.host,
        port: allowed.port,
        method: req.method,
        path: `${target.pathname}${target.search}`,
        headers,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.statusMessage, answer.rawHeaders);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    req.pipe(upstream);
  });
  server.on('connect', (req, socket) => {
    if (refused.length < 1000) refused.push(`CONNECT ${req.url}`);
    socket.end('HTTP/1.1 403 Forbidden\r\n\r\n');
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    forwarded: () => forwarded,
    refused,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
