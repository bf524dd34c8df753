import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { Socket } from 'node:net';

/** What a route answers. */
export interface Reply {
  readonly status?: number;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string | Buffer;
}

export type Route = Reply | ((request: IncomingMessage, body: string) => Reply);

/** An app: routes by exact path (with query), and what every other path gets. */
export interface App {
  readonly routes?: Readonly<Record<string, Route>>;
  readonly fallback?: Route;
}

export interface SeenRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
}

export interface HttpApp {
  readonly port: number;
  /** Swaps the app every later request sees. */
  use(app: App): void;
  /** Requests received since the last `use` (or `reset`). */
  readonly requests: SeenRequest[];
  reset(): void;
  close(): Promise<void>;
}

export const notFound: Reply = { status: 404, headers: { 'content-type': 'text/plain' }, body: 'Not Found' };

export const html = (body: string, status = 200, headers: Record<string, string> = {}): Reply => ({
  status,
  headers: { 'content-type': 'text/html; charset=utf-8', ...headers },
  body,
});
export const text = (body: string, status = 200, headers: Record<string, string> = {}): Reply => ({
  status,
  headers: { 'content-type': 'text/plain; charset=utf-8', ...headers },
  body,
});
export const json = (value: unknown, status = 200, headers: Record<string, string> = {}): Reply => ({
  status,
  headers: { 'content-type': 'application/json', ...headers },
  body: typeof value === 'string' ? value : JSON.stringify(value),
});
export const binary = (body: Buffer, type = 'application/octet-stream'): Reply => ({
  status: 200,
  headers: { 'content-type': type },
  body,
});

/** A loopback HTTP server on 127.0.0.1 (random port) whose app can be swapped between tests. */
export async function startHttpApp(initial: App = {}): Promise<HttpApp> {
  let app = initial;
  const requests: SeenRequest[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const path = request.url ?? '/';
      requests.push({ method: request.method ?? 'GET', path, headers: { ...request.headers } });
      const route = app.routes?.[path] ?? app.fallback ?? notFound;
      const reply = typeof route === 'function' ? route(request, Buffer.concat(chunks).toString('utf8')) : route;
      response.writeHead(reply.status ?? 200, { ...reply.headers });
      response.end(request.method === 'HEAD' ? undefined : (reply.body ?? ''));
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  const port = await new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : 0);
    });
  });
  return {
    port,
    requests,
    use(next) {
      app = next;
      requests.length = 0;
    },
    reset() {
      requests.length = 0;
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
