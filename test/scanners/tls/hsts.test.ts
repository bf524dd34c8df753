/**
 * checkHsts against a node:https server on 127.0.0.1: the header, a redirect to a
 * page that has it, none, an invalid one, compression (BREACH), and an HTTPS port
 * that does not speak HTTP.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import { createServer as createTlsServer } from 'node:tls';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkHsts } from '../../../scanners/tls/hsts.js';
import { rsaCertificate, workDir } from './tlsTargets.js';

const work = workDir();
let port = 0;
let notHttpPort = 0;
const servers: Server[] = [];
const sockets = new Set<import('node:net').Socket>();
function track(server: {
  on(event: 'connection' | 'secureConnection', listener: (s: import('node:net').Socket) => void): unknown;
}) {
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
}

beforeAll(async () => {
  const { cert, key } = rsaCertificate(work.dir, 'hsts');
  const tls = { cert: readFileSync(cert), key: readFileSync(key) };
  const server = createServer(tls, (req, res) => {
    const gzip = /gzip/.test(String(req.headers['accept-encoding'] ?? ''));
    switch (req.url) {
      case '/':
        res.writeHead(200, {
          'strict-transport-security': 'max-age=63072000; includeSubDomains; preload',
          ...(gzip ? { 'content-encoding': 'gzip' } : {}),
        });
        res.end(gzip ? gzipSync('hello') : 'hello');
        return;
      case '/login':
        res.writeHead(302, { location: '/account' });
        res.end();
        return;
      case '/account':
        res.writeHead(200, { 'strict-transport-security': 'max-age=300' });
        res.end('account');
        return;
      case '/broken':
        res.writeHead(200, { 'strict-transport-security': 'includeSubDomains' });
        res.end('x');
        return;
      default:
        res.writeHead(200);
        res.end('plain');
    }
  });
  servers.push(server);
  track(server);
  port = await new Promise<number>((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)),
  );
  const raw = createTlsServer(tls, (socket) => socket.end('* OK IMAP4rev1 ready\r\n'));
  servers.push(raw as unknown as Server);
  track(raw);
  notHttpPort = await new Promise<number>((resolve) =>
    raw.listen(0, '127.0.0.1', () => resolve((raw.address() as { port: number }).port)),
  );
});

afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  work.cleanup();
});

const check = (path: string, on = port) =>
  checkHsts({
    address: '127.0.0.1',
    hostname: 'localhost',
    port: on,
    path,
    signal: new AbortController().signal,
    timeoutMs: 3_000,
  });

describe('checkHsts', () => {
  it('reads the policy, and sees compression', async () => {
    expect(await check('/')).toMatchObject({
      status: 'present',
      max_age: 63072000,
      include_subdomains: true,
      preload: true,
      http_status: 200,
      http_compression: 'gzip',
    });
  });

  it('follows a same-origin redirect when the first answer has no header', async () => {
    expect(await check('/login')).toMatchObject({
      status: 'present',
      max_age: 300,
      url: `https://localhost:${port}/account`,
    });
  });

  it('no header, an invalid header', async () => {
    expect(await check('/plain')).toMatchObject({ status: 'missing', header: null, http_compression: null });
    expect(await check('/broken')).toMatchObject({ status: 'invalid', header: 'includeSubDomains' });
  });

  it('a TLS port that does not speak HTTP: an error, not a finding', async () => {
    const result = await check('/', notHttpPort);
    expect(result.status).toBe('error');
    expect(result.error).toMatch(/no HTTPS answer/);
  });
});
