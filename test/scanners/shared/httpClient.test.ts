import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ScanAbortedError } from '../../../scanners/shared/errors.js';
import {
  createHttpClient,
  HttpBudgetError,
  HttpRequestError,
  OffTargetError,
} from '../../../scanners/shared/httpClient.js';
import { selfSignedCertificate } from '../../support/certificates.js';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

async function serve(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

describe('pinned HTTP client', () => {
  const seen: { path: string; host: string; method: string }[] = [];
  let otherHits = 0;
  let port = 0;
  let otherPort = 0;
  let server: Server;
  let other: Server;

  const routes: Record<string, Handler> = {
    '/': (_req, res) => res.end('home'),
    '/to-same': (_req, res) => res.writeHead(302, { location: '/landing' }).end(),
    '/landing': (_req, res) => res.end('landed'),
    '/to-other': (_req, res) => res.writeHead(302, { location: `http://127.0.0.1:${otherPort}/stolen` }).end(),
    '/big': (_req, res) => res.end('x'.repeat(200_000)),
    '/slow': () => {},
    '/cookies': (_req, res) => {
      res.setHeader('set-cookie', ['a=1; HttpOnly', 'b=2']);
      res.end('ok');
    },
  };

  beforeAll(async () => {
    server = createServer((req, res) => {
      seen.push({ path: req.url ?? '', host: req.headers.host ?? '', method: req.method ?? '' });
      const handler = routes[(req.url ?? '').split('?')[0]!];
      if (handler) handler(req, res);
      else res.writeHead(404).end('not found');
    });
    other = createServer((_req, res) => {
      otherHits++;
      res.end('other');
    });
    port = await serve(server);
    otherPort = await serve(other);
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    await new Promise((r) => other.close(r));
  });

  const client = (extra: Partial<Parameters<typeof createHttpClient>[0]> = {}) =>
    createHttpClient({
      origin: { scheme: 'http', hostname: 'shop.example.test', port },
      address: '127.0.0.1',
      ...extra,
    });

  it('connects to the pinned address with the target name in Host, and names us in User-Agent', async () => {
    const http = client();
    const res = await http.request({ url: '/' });
    expect(res.status).toBe(200);
    expect(res.text).toBe('home');
    expect(seen.at(-1)).toMatchObject({ host: `shop.example.test:${port}`, path: '/' });
    expect(res.request.headers['user-agent']).toMatch(/SecAbly/);
    http.close();
  });

  it('sends raw paths unchanged (no dot-segment normalization)', async () => {
    const http = client();
    await http.request({ url: `http://shop.example.test:${port}/a/../..%2f..%2fetc/passwd?x=<y>` });
    expect(seen.at(-1)?.path).toBe('/a/../..%2f..%2fetc/passwd?x=%3Cy%3E'.replace('%3Cy%3E', '<y>'));
    http.close();
  });

  it('refuses another origin and a foreign Host header, and records them', async () => {
    const http = client();
    await expect(http.request({ url: `http://127.0.0.1:${otherPort}/` })).rejects.toBeInstanceOf(OffTargetError);
    await expect(http.request({ url: `https://shop.example.test:${port}/` })).rejects.toBeInstanceOf(OffTargetError);
    await expect(http.request({ url: '/', headers: { Host: 'evil.test' } })).rejects.toBeInstanceOf(OffTargetError);
    expect(http.stats().offTarget).toHaveLength(3);
    expect(otherHits).toBe(0);
    http.close();
  });

  it('follows same-origin redirects when asked, and never one that leaves the origin', async () => {
    const http = client();
    const same = await http.request({ url: '/to-same', followRedirects: true });
    expect(same.status).toBe(200);
    expect(same.text).toBe('landed');
    expect(same.redirects).toEqual([`http://shop.example.test:${port}/landing`]);
    const off = await http.request({ url: '/to-other', followRedirects: true });
    expect(off.status).toBe(302);
    expect(off.offTargetRedirect).toBe(`http://127.0.0.1:${otherPort}/stolen`);
    const notAsked = await http.request({ url: '/to-same' });
    expect(notAsked.status).toBe(302);
    expect(otherHits).toBe(0);
    http.close();
  });

  it('cuts long bodies, keeps cookies apart, and counts bytes', async () => {
    const http = client({ maxResponseBytes: 1_000 });
    const big = await http.request({ url: '/big' });
    expect(big.truncated).toBe(true);
    expect(big.body.length).toBe(1_000);
    const cookies = await http.request({ url: '/cookies' });
    expect(cookies.setCookies).toEqual(['a=1; HttpOnly', 'b=2']);
    expect(http.stats().bytesReceived).toBeGreaterThanOrEqual(1_000);
    http.close();
  });

  it('enforces the request budget, the per-request timeout and aborts', async () => {
    const limited = client({ maxRequests: 2 });
    await limited.request({ url: '/' });
    await limited.request({ url: '/' });
    await expect(limited.request({ url: '/' })).rejects.toBeInstanceOf(HttpBudgetError);
    limited.close();

    const slow = client({ requestTimeoutMs: 200 });
    await expect(slow.request({ url: '/slow' })).rejects.toBeInstanceOf(HttpRequestError);
    slow.close();

    const controller = new AbortController();
    const aborting = client({ signal: controller.signal });
    const pending = aborting.request({ url: '/slow' });
    setTimeout(() => controller.abort(), 50);
    await expect(pending).rejects.toBeInstanceOf(ScanAbortedError);
    aborting.close();
  });

  it('sends identical requests once with the shared cache', async () => {
    const http = client({ cache: true });
    const before = seen.length;
    const [a, b] = await Promise.all([
      http.request({ url: '/' }),
      http.request({ url: `http://shop.example.test:${port}/` }),
    ]);
    expect(a.text).toBe(b.text);
    expect(seen.length - before).toBe(1);
    expect(http.stats()).toMatchObject({ requests: 1, cacheHits: 1 });
    http.close();
  });

  it('speaks TLS to the pinned address with the target name as SNI, whatever the certificate', async () => {
    const { key, cert } = selfSignedCertificate({ commonName: 'secure.example.test' });
    let sni: string | undefined;
    const tlsServer = createHttpsServer({ key, cert }, (req, res) => {
      sni = (req.socket as TLSSocket).servername || undefined;
      res.end(`hello ${req.headers.host}`);
    });
    await new Promise<void>((resolve) => tlsServer.listen(0, '127.0.0.1', resolve));
    const tlsPort = (tlsServer.address() as AddressInfo).port;
    const http = createHttpClient({
      origin: { scheme: 'https', hostname: 'secure.example.test', port: tlsPort },
      address: '127.0.0.1',
    });
    const res = await http.request({ url: '/' });
    expect(res.text).toBe(`hello secure.example.test:${tlsPort}`);
    expect(sni).toBe('secure.example.test');
    http.close();
    tlsServer.closeAllConnections();
    await new Promise((r) => tlsServer.close(r));
  });
});
