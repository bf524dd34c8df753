/**
 * runNmap end to end. Safety: every real scan targets 127.0.0.1 only, and only ports
 * of listeners this file starts (or ports it just bound and released, for "closed").
 * No scan of the whole port range: other services listen on this machine's loopback,
 * and a full connect scan of loopback finishes in about 2 s anyway (too fast to abort
 * reliably). The abort and timeout tests use a listener that accepts and never
 * answers, on which service detection (-sV) waits for minutes.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NmapScanConfig, nmapArguments, type NmapScanConfigInput } from '../../../scanners/nmap/nmapConfig.js';
import {
  detectRawSockets,
  NmapFailedError,
  NmapOutputError,
  runNmap,
  ScanAbortedError,
  ScannerUnavailableError,
  ScanTimeoutError,
  type NmapProgress,
} from '../../../scanners/nmap/nmap.scanner.js';

const nmapAvailable = spawnSync('nmap', ['--version'], { stdio: 'ignore' }).status === 0;
const rawSockets = await detectRawSockets();

/** `full` + port_range scans exactly the range (quick/fast would keep only top-1000 ports in it). */
const config = (input: NmapScanConfigInput) => NmapScanConfig.parse({ scan_type: 'full', ...input });

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

interface Listener {
  port: number;
  close(): Promise<void>;
}

function listen(onConnection: (socket: net.Socket) => void): Promise<Listener> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
    onConnection(socket);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      if (address === null || typeof address === 'string') return reject(new Error('no port'));
      resolve({
        port: address.port,
        close: () =>
          new Promise<void>((done) => {
            for (const socket of sockets) socket.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}

/** Ports that were free a moment ago: bound then released, so nothing listens there. */
async function closedPorts(count: number, avoid: readonly number[]): Promise<number[]> {
  const ports: number[] = [];
  for (let attempt = 0; ports.length < count && attempt < 50; attempt++) {
    const listener = await listen(() => undefined);
    await listener.close();
    if (!avoid.includes(listener.port) && !ports.includes(listener.port)) ports.push(listener.port);
  }
  return ports;
}

const httpLike = (socket: net.Socket) =>
  socket.once('data', () =>
    socket.end('HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok'),
  );
const ftpLike = (socket: net.Socket) => {
  socket.write('220 (vsFTPd 3.0.3)\r\n');
  socket.on('data', () => socket.write('530 Please login with USER and PASS.\r\n'));
};
/** Accepts and never says anything: -sV keeps probing it for minutes. */
const silent = () => undefined;

function expectMonotonic(progress: NmapProgress[]): void {
  for (let i = 1; i < progress.length; i++) {
    expect(progress[i]?.percent).toBeGreaterThanOrEqual(progress[i - 1]?.percent ?? 0);
  }
}

const realScans = 'runNmap against our own listeners on 127.0.0.1';
describe.skipIf(!nmapAvailable)(nmapAvailable ? realScans : `${realScans} (skipped: nmap is not installed)`, () => {
  let listeners: Listener[] = [];
  let open: number[] = [];
  let closed: number[] = [];
  let ftp: Listener;
  let quiet: Listener;

  beforeAll(async () => {
    ftp = await listen(ftpLike);
    quiet = await listen(silent);
    listeners = [await listen(httpLike), ftp, await listen(() => undefined)];
    open = listeners.map((l) => l.port).sort((a, b) => a - b);
    closed = await closedPorts(2, [...open, quiet.port]);
    expect(closed).toHaveLength(2);
  });

  afterAll(async () => {
    await Promise.all([...listeners, quiet].map((l) => l.close()));
  });

  it('finds exactly the listening ports among the requested ones (-sT)', async () => {
    const scanConfig = config({ scan_type: 'full', port_range: [...open, ...closed].join(',') });
    const progress: NmapProgress[] = [];
    const run = await runNmap({
      target: '127.0.0.1',
      config: scanConfig,
      timeoutMs: 60_000,
      onProgress: (p) => progress.push(p),
    });

    expect(run.args).toEqual(nmapArguments(scanConfig, '127.0.0.1', { rawSockets: false }));
    expect(run.args[0]).toBe('-sT');
    expect(run.result.hosts).toHaveLength(1);
    expect(run.result.hosts[0]?.open_ports.map((p) => p.port)).toEqual(open);
    expect(run.result.hosts[0]?.port_counts).toEqual({ open: 3, closed: 2 });
    expect(run.scanResult.host_info.status).toBe('up');
    expect(run.scanResult.open_ports.map((p) => [p.host, p.port, p.state])).toEqual(
      open.map((port) => ['127.0.0.1', port, 'open']),
    );
    expect(run.findings.map((f) => f.location)).toEqual(open.map((port) => `127.0.0.1:${port}/tcp`));
    expect(run.durationMs).toBeGreaterThan(0);
    expect(progress[0]).toEqual({ percent: 0, phase: 'starting' });
    expect(progress.at(-1)).toEqual({ percent: 100, phase: 'done' });
    expectMonotonic(progress);
  });

  it('aggressive (-sV) identifies a service by its banner on a random port', async () => {
    const run = await runNmap({
      target: '127.0.0.1',
      config: config({ aggressive: true, port_range: String(ftp.port) }),
      timeoutMs: 60_000,
    });
    expect(run.args.slice(0, 2)).toEqual(['-sT', '-sV']);
    expect(run.result.hosts[0]?.open_ports[0]).toMatchObject({
      port: ftp.port,
      service: 'ftp',
      product: 'vsftpd',
      method: 'probed',
    });
    expect(run.findings.map((f) => [f.risk, f.name, f.location])).toEqual([
      ['medium', 'FTP service exposed (cleartext)', `127.0.0.1:${ftp.port}/tcp`],
      ['info', `Open port ${ftp.port}/tcp (ftp)`, `127.0.0.1:${ftp.port}/tcp`],
    ]);
  });

  const synScan = 'uses a SYN scan (-sS) when raw sockets are available';
  it.skipIf(!rawSockets)(rawSockets ? synScan : `${synScan} (skipped: not root with CAP_NET_RAW)`, async () => {
    const run = await runNmap({
      target: '127.0.0.1',
      config: config({ port_range: [...open, ...closed].join(',') }),
      timeoutMs: 60_000,
      rawSockets: true,
    });
    expect(run.args[0]).toBe('-sS');
    expect(run.result.scan_info[0]?.type).toBe('syn');
    expect(run.result.hosts[0]?.open_ports.map((p) => p.port)).toEqual(open);
  });

  it(
    'abort: stops nmap (SIGTERM, then SIGKILL) and rejects with ScanAbortedError once it is gone',
    { timeout: 40_000 },
    async () => {
      const controller = new AbortController();
      const progress: NmapProgress[] = [];
      let pid: number | undefined;
      // Abort on nmap's first own progress report; never wait more than 15 s for it.
      const fallback = setTimeout(() => controller.abort(), 15_000);
      const started = Date.now();
      const run = runNmap({
        target: '127.0.0.1',
        config: config({ scan_type: 'full', aggressive: true, port_range: String(quiet.port) }),
        timeoutMs: 120_000,
        signal: controller.signal,
        onSpawn: (p) => (pid = p),
        onProgress: (p) => {
          progress.push(p);
          if (p.phase !== 'starting') controller.abort();
        },
      });
      await expect(run).rejects.toBeInstanceOf(ScanAbortedError);
      clearTimeout(fallback);
      expect(Date.now() - started).toBeLessThan(15_000 + 2_000 + 3_000);
      expect(pid).toBeTypeOf('number');
      expect(pidAlive(pid as number)).toBe(false);
      // nmap's progress arrived while it ran (from <taskprogress> on stdout): usually the
      // service scan's first report, or, on a busy machine, the connect scan's.
      expect(progress.map((p) => p.phase)).toHaveLength(2);
      expect(progress[0]?.phase).toBe('starting');
      expect(progress[1]?.phase).toMatch(/^(Service scan|Connect Scan)$/);
      expect(progress[1]?.percent).toBeGreaterThanOrEqual(0);
    },
  );

  it('timeout: stops nmap and rejects with ScanTimeoutError', async () => {
    let pid: number | undefined;
    const started = Date.now();
    const run = runNmap({
      target: '127.0.0.1',
      config: config({ aggressive: true, port_range: String(quiet.port) }),
      timeoutMs: 1_500,
      onSpawn: (p) => (pid = p),
    });
    await expect(run).rejects.toBeInstanceOf(ScanTimeoutError);
    expect(Date.now() - started).toBeLessThan(1_500 + 2_000 + 2_000);
    expect(pidAlive(pid as number)).toBe(false);
  });

  it('an already-aborted signal never starts nmap', async () => {
    let spawned = false;
    const controller = new AbortController();
    controller.abort();
    await expect(
      runNmap({
        target: '127.0.0.1',
        config: config({ port_range: String(closed[0]) }),
        timeoutMs: 10_000,
        signal: controller.signal,
        onSpawn: () => (spawned = true),
      }),
    ).rejects.toBeInstanceOf(ScanAbortedError);
    expect(spawned).toBe(false);
  });
});

describe('runNmap failures (no real scan)', () => {
  const fixtures = fileURLToPath(new URL('./fixtures/', import.meta.url));
  let dir: string;

  /** A stand-in for the nmap binary: a shell script, given its body. */
  function fakeNmap(name: string, body: string, mode = 0o755): string {
    const path = join(dir, name);
    writeFileSync(path, `#!/bin/sh\n${body}\n`);
    chmodSync(path, mode);
    return path;
  }

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'secably-fake-nmap-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const base = {
    target: '127.0.0.1',
    config: NmapScanConfig.parse({ scan_type: 'full', port_range: '1' }),
    timeoutMs: 10_000,
  };

  it('nmap missing: ScannerUnavailableError', async () => {
    const run = runNmap({ ...base, nmapPath: '/nonexistent/nmap' });
    await expect(run).rejects.toBeInstanceOf(ScannerUnavailableError);
    await expect(run).rejects.toThrow(
      /^nmap is not installed or not executable \(tried "\/nonexistent\/nmap": ENOENT\)/,
    );
  });

  it('nmap not executable: ScannerUnavailableError', async () => {
    const path = fakeNmap('not-executable', 'exit 0', 0o644);
    await expect(runNmap({ ...base, nmapPath: path })).rejects.toThrow(ScannerUnavailableError);
  });

  it('non-zero exit: NmapFailedError with the end of stderr', async () => {
    const path = fakeNmap('fails', 'echo "Starting Nmap" >&2; echo "QUITTING! something went wrong" >&2; exit 1');
    const error = await runNmap({ ...base, nmapPath: path }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NmapFailedError);
    expect(error).toMatchObject({
      exitCode: 1,
      message: 'nmap exited with code 1: Starting Nmap\nQUITTING! something went wrong',
    });
  });

  it('output that is not nmap XML: NmapOutputError', async () => {
    const path = fakeNmap('prints-text', 'echo "Nmap scan report for localhost"');
    await expect(runNmap({ ...base, nmapPath: path })).rejects.toThrow(NmapOutputError);
    const killed = fakeNmap('killed-output', `cat '${fixtures}killed-during-service-scan.xml'`);
    await expect(runNmap({ ...base, nmapPath: killed })).rejects.toThrow(/never closed/);
  });

  it('a target nmap skipped: NmapFailedError naming it', async () => {
    const path = fakeNmap(
      'skips',
      `cat '${fixtures}target-skipped-no-route.xml'; echo "setup_target: failed to determine route to 127.0.0.1" >&2`,
    );
    await expect(runNmap({ ...base, nmapPath: path })).rejects.toThrow(
      /^nmap scanned no host; skipped: 127\.0\.0\.1 \(invalid\): setup_target: failed to determine route to 127\.0\.0\.1$/,
    );
  });

  it('every host given up on (--host-timeout): ScanTimeoutError', async () => {
    const path = fakeNmap('host-timeout', `cat '${fixtures}host-timeout.xml'`);
    await expect(runNmap({ ...base, nmapPath: path })).rejects.toThrow(ScanTimeoutError);
  });

  // Each test reads progress from one pipe only: which of stdout and stderr is read
  // first is up to the scheduler, and progress never goes back.
  it('progress from <taskprogress> elements on stdout, even split across reads', async () => {
    const xml = readFileSync(join(fixtures, 'full-connect.xml'), 'utf8');
    const split = Buffer.byteLength(xml.slice(0, xml.indexOf('percent="86.34"')));
    const path = fakeNmap(
      'progress',
      `head -c ${split} '${fixtures}full-connect.xml'; sleep 0.3; tail -c +${split + 1} '${fixtures}full-connect.xml'`,
    );
    const progress: NmapProgress[] = [];
    const run = await runNmap({ ...base, nmapPath: path, onProgress: (p) => progress.push(p) });
    expect(run.result.hosts[0]?.open_ports).toHaveLength(6);
    // Port scan only (not aggressive): nmap's percent × 0.95, then 100 once parsed. The
    // same whether the two parts arrive in one read or two.
    expect(progress.map((p) => p.phase)).toEqual(['starting', 'Connect Scan', 'Connect Scan', 'done']);
    expect(progress.map((p) => p.percent)).toEqual([0, 44.75, 82.02, 100]);
  });

  it('progress from the "Timing: About N% done" text lines on stderr', async () => {
    // The same XML without its <taskprogress> elements: stderr is the only source.
    const path = fakeNmap(
      'text-progress',
      `echo "Connect Scan Timing: About 12.34% done; ETC: 07:00 (0:00:05 remaining)" >&2
grep -v '<taskprogress' '${fixtures}full-connect.xml'`,
    );
    const progress: NmapProgress[] = [];
    const run = await runNmap({ ...base, nmapPath: path, onProgress: (p) => progress.push(p) });
    expect(run.result.hosts[0]?.open_ports).toHaveLength(6);
    expect(progress.map((p) => p.phase)).toEqual(['starting', 'Connect Scan', 'done']);
    expect(progress.map((p) => p.percent)).toEqual([0, 11.72, 100]);
  });

  it('a throwing progress callback fails the scan with its error', async () => {
    const path = fakeNmap('slow', 'exec sleep 5');
    const boom = new Error('progress sink is down');
    const started = Date.now();
    await expect(
      runNmap({
        ...base,
        nmapPath: path,
        onProgress: () => {
          throw boom;
        },
      }),
    ).rejects.toBe(boom);
    expect(Date.now() - started).toBeLessThan(4_000);
  });

  it('a grandchild keeping the pipes open does not delay an abort', async () => {
    // sh runs sleep as a child (no exec): SIGTERM ends sh, the orphaned sleep (which
    // ends by itself within 3 s) keeps stdout open, so 'close' would come late.
    const path = fakeNmap('grandchild', 'sleep 3; true');
    const controller = new AbortController();
    let pid: number | undefined;
    const started = Date.now();
    const run = runNmap({ ...base, nmapPath: path, signal: controller.signal, onSpawn: (p) => (pid = p) });
    setTimeout(() => controller.abort(), 200);
    await expect(run).rejects.toBeInstanceOf(ScanAbortedError);
    expect(Date.now() - started).toBeLessThan(1_500);
    expect(pidAlive(pid as number)).toBe(false);
  });

  it('refuses a non-positive timeout', async () => {
    await expect(runNmap({ ...base, timeoutMs: 0 })).rejects.toThrow(RangeError);
  });
});
