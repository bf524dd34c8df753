/**
 * Targets that are not (or stop being) TLS servers end in a clear failure within the
 * handshake timeout, never a hang; aborts stop everything; the connection limit and
 * the handshake budget hold. Every target is a listener this file starts on
 * 127.0.0.1 (or a port it just released).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer as createHttpServer } from 'node:http';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ScanAbortedError, ScanTimeoutError, TargetUnreachableError } from '../../../scanners/shared/errors.js';
import type { ScanJobInput } from '../../../scanners/shared/scanner.js';
import { createRunner } from '../../../scanners/tls/tls.scanner.js';
import { TlsScanConfig } from '../../../scanners/tls/tls.plugin.js';
import { analyzeTlsEndpoint, speaksTls } from '../../../scanners/tls/tlsAnalysis.js';
import { closedPorts } from '../../support/listeners.js';
import { waitFor } from '../../support/waitFor.js';
import { has, startModernServer, workDir } from './tlsTargets.js';

const FAST = 800; // handshake timeout for the failure cases, ms
const work = workDir();
const servers: Server[] = [];
const children: ChildProcess[] = [];
let modernPort = 0;
let closeModern: () => Promise<void> = async () => {};

function listen(server: Server): Promise<number> {
  servers.push(server);
  const sockets = new Set<Socket>();
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('close', () => sockets.forEach((s) => s.destroy()));
  (server as Server & { destroyAll?: () => void }).destroyAll = () => sockets.forEach((s) => s.destroy());
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : 0);
    }),
  );
}

/** A TCP proxy to `port` that counts connections open at once and can go silent. */
async function countingProxy(port: number) {
  const stats = { active: 0, total: 0, silentAfter: Infinity };
  const server = createServer((client) => {
    stats.total++;
    stats.active++;
    let open = true;
    const closed = () => {
      if (open) stats.active--;
      open = false;
    };
    client.on('end', closed);
    client.on('close', closed);
    if (stats.total > stats.silentAfter) return; // accept, read, never answer
    const upstream = connect({ host: '127.0.0.1', port });
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    client.pipe(upstream);
    upstream.pipe(client);
  });
  return { port: await listen(server), stats };
}

beforeAll(async () => {
  const modern = await startModernServer(work.dir);
  modernPort = modern.port;
  closeModern = modern.close;
}, 60_000);

afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  for (const server of servers) (server as Server & { destroyAll?: () => void }).destroyAll?.();
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  await closeModern();
  work.cleanup();
});

const analyze = (port: number, extra: Partial<Parameters<typeof analyzeTlsEndpoint>[0]> = {}) =>
  analyzeTlsEndpoint({
    address: '127.0.0.1',
    port,
    hostname: 'localhost',
    signal: new AbortController().signal,
    handshakeTimeoutMs: FAST,
    httpPath: null,
    ...extra,
  });

async function failure(promise: Promise<unknown>): Promise<TargetUnreachableError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(TargetUnreachableError);
  return error as TargetUnreachableError;
}

describe('targets that do not speak TLS', () => {
  it('a closed port: connection refused', async () => {
    const [port] = await closedPorts(1);
    const error = await failure(analyze(port!));
    expect(error.code).toBe('connection_refused');
    expect(error.message).toMatch(/refused the connection/);
  });

  it.skipIf(!has('python3'))(
    'a host that never completes the TCP handshake: unreachable within the timeout',
    async () => {
      // A listener whose accept queue is full: the kernel drops further SYNs (as a firewall would).
      const child = spawn(
        'python3',
        [
          '-c',
          [
            'import socket, sys, time',
            's = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(0)',
            'port = s.getsockname()[1]; fill = []',
            'for i in range(4):',
            '    c = socket.socket(); c.setblocking(False)',
            '    try: c.connect(("127.0.0.1", port))',
            '    except BlockingIOError: pass',
            '    fill.append(c)',
            'time.sleep(0.3); print(port, flush=True); time.sleep(60)',
          ].join('\n'),
        ],
        { stdio: ['ignore', 'pipe', 'ignore'] },
      );
      children.push(child);
      const port = await new Promise<number>((resolve) =>
        child.stdout!.once('data', (d: Buffer) => resolve(Number(String(d).trim()))),
      );
      const error = await failure(analyze(port));
      expect(error.code).toBe('target_unreachable');
      expect(error.message).toMatch(new RegExp(`did not accept a TCP connection within ${FAST} ms`));
      child.kill('SIGKILL');
    },
  );

  it('a plain HTTP server: not TLS, and says so', async () => {
    const port = await listen(createHttpServer((_req, res) => res.end('hello')));
    const error = await failure(analyze(port));
    expect(error.code).toBe('not_tls');
    expect(error.message).toMatch(/does not speak TLS: it answered in plain HTTP \("HTTP\/1\.1 400/);
    expect(await speaksTls('127.0.0.1', port, 'localhost', new AbortController().signal)).toBe(false);
  });

  it('an SSH server: not TLS', async () => {
    const port = await listen(createServer((socket) => socket.write('SSH-2.0-OpenSSH_9.2p1 Debian\r\n')));
    const error = await failure(analyze(port));
    expect(error.message).toMatch(/in SSH/);
  });

  it('a server that accepts and never answers: a stalled handshake, within the timeout', async () => {
    const port = await listen(createServer(() => {}));
    const error = await failure(analyze(port));
    expect(error.code).toBe('tls_handshake_timeout');
    expect(error.message).toMatch(new RegExp(`no TLS answer within ${FAST} ms`));
    expect(await speaksTls('127.0.0.1', port, 'localhost', new AbortController().signal)).toBe(false);
  });

  it('a server that stalls in the middle of its ServerHello: a stalled handshake', async () => {
    // A record header announcing 80 bytes of handshake, then 6 of them, then nothing.
    const port = await listen(
      createServer((socket) => socket.once('data', () => socket.write(Buffer.from('16030300500200004c0303', 'hex')))),
    );
    const error = await failure(analyze(port));
    expect(error.code).toBe('tls_handshake_timeout');
  });

  it('a server that hangs up on every hello: not TLS', async () => {
    const port = await listen(createServer((socket) => socket.once('data', () => socket.destroy())));
    const error = await failure(analyze(port));
    expect(error.code).toBe('not_tls');
    expect(error.message).toMatch(/closed the connection without a TLS answer/);
  });
});

describe('bounds', () => {
  it('never more than 4 connections at once to the host', async () => {
    const proxy = await countingProxy(modernPort);
    const { result } = await analyze(proxy.port, { handshakeTimeoutMs: 5_000 });
    expect(result.tls_versions?.tls_1_3).toBe(true);
    expect(proxy.stats.total).toBeGreaterThan(20);
    expect(result.scan_info.handshakes).toBe(proxy.stats.total);
    // Counted from connect to 'close' on our side (the proxy sees a close and the next connect in either order).
    expect(result.scan_info.max_parallel_connections).toBe(4);
  });

  it('the handshake budget caps the scan; what is missing is said', async () => {
    const proxy = await countingProxy(modernPort);
    const { result } = await analyze(proxy.port, { maxHandshakes: 12, handshakeTimeoutMs: 5_000 });
    expect(proxy.stats.total).toBeLessThanOrEqual(12);
    expect(result.scan_info.incomplete).toBe(true);
    expect(result.scan_info.notes.join('\n')).toMatch(/budget of 12 handshakes/);
  });

  it('a server that stops answering mid-scan: the scan ends, incomplete, with a note', async () => {
    const proxy = await countingProxy(modernPort);
    proxy.stats.silentAfter = 8;
    const { result } = await analyze(proxy.port);
    expect(result.scan_info.incomplete).toBe(true);
    expect(result.scan_info.notes.join('\n')).toMatch(/stopped answering|no complete answer/);
  });

  it('an abort stops every connection at once', async () => {
    const proxy = await countingProxy(modernPort);
    const controller = new AbortController();
    const outcome = analyze(proxy.port, {
      signal: controller.signal,
      handshakeTimeoutMs: 5_000,
      onProgress: (p) => {
        if (p.percent > 6) controller.abort('cancelled');
      },
    });
    await expect(outcome).rejects.toBeInstanceOf(ScanAbortedError);
    await waitFor(() => proxy.stats.active === 0, 5_000);
    const total = proxy.stats.total;
    expect(total).toBeGreaterThan(0);
    await new Promise((r) => setTimeout(r, 200));
    expect(proxy.stats.total).toBe(total); // nothing new after the abort
  });
});

describe('the sslyze runner', () => {
  const job = (port: number, overrides: Partial<ScanJobInput> = {}): ScanJobInput => ({
    host: '127.0.0.1',
    target: {
      id: 't1',
      value: `https://localhost:${port}/`,
      type: 'url',
      hostname: 'localhost',
      url: { scheme: 'https', port, path: '/' },
    },
    config: TlsScanConfig.parse({ check_cipher_suites: 'false' }),
    timeoutMs: 60_000,
    signal: new AbortController().signal,
    onProgress: () => {},
    scanId: 's1',
    targetValue: `https://localhost:${port}/`,
    targetType: 'url',
    ...overrides,
  });

  it('scans the URL target on its port, HSTS on its path, honouring check_cipher_suites=false', async () => {
    const run = createRunner({});
    const output = await run(job(modernPort));
    const result = output.scanResult as any;
    expect(result.port).toBe(modernPort);
    expect(result.cipher_suites).toBeNull();
    expect(result.tls_versions).toMatchObject({ tls_1_2: true, tls_1_3: true });
    expect(result.security_checks.hsts.status).toBe('present');
    expect(output.findings.every((f) => !f.rule_id.startsWith('tls.cipher.'))).toBe(true);
  });

  it('runs out of time: ScanTimeoutError', async () => {
    const port = await listen(createServer(() => {}));
    const run = createRunner({ SECABLY_TLS_HANDSHAKE_TIMEOUT_MS: 30_000 });
    await expect(run(job(port, { timeoutMs: 300 }))).rejects.toBeInstanceOf(ScanTimeoutError);
  });

  it('scan_config.port wins; a bad one is refused', () => {
    expect(TlsScanConfig.parse({ port: '8443' }).port).toBe(8443);
    for (const port of [0, 70000, 'x', 1.5, '-1'])
      expect(TlsScanConfig.safeParse({ port }).success, String(port)).toBe(false);
    expect(TlsScanConfig.safeParse({ check_certificate: 'yes' }).success).toBe(false);
    expect(TlsScanConfig.safeParse({ other: 1 }).success).toBe(false);
  });
});
