import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { sqliteEventStore } from '../../adapters/sqliteEventStore.js';
import { parentDeathWrapper } from '../../scanners/shared/childProcess.js';
import { startListeners, type Listeners } from '../support/listeners.js';
import { call, killAllServers, startServer, type ServerProcess } from '../support/serverProcess.js';
import { ADMIN_TOKEN, newUser } from '../support/testRuntime.js';
import { sleep, waitFor } from '../support/waitFor.js';

/**
 * kill -9 of the service (the real entry point) while a real nmap scan runs:
 * the kernel kills nmap with it (every tool is started behind `setpriv --pdeathsig
 * KILL`), and the restarted service retries the scan once — the first run is gone,
 * so the host is never scanned by two runs at once. The target is a listener of
 * this test on 127.0.0.1 that accepts and never answers: nmap's service detection
 * waits on it for minutes, a long scan on demand.
 *
 * nmap is started through a wrapper that ignores SIGPIPE (`trap '' PIPE; exec nmap`):
 * a plain nmap orphan dies on its next progress write to the dead service's pipe
 * (within a second), which would hide a missing parent-death signal; this one would
 * scan on for minutes, so only the kernel's kill can end it in time.
 */
const hasNmap = (() => {
  try {
    execFileSync('nmap', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
const linuxWithSetpriv = process.platform === 'linux' && parentDeathWrapper() !== null;
if (!hasNmap || !linuxWithSetpriv) {
  console.warn('kill -9 test skipped: it needs nmap and util-linux setpriv on Linux');
}

const dataDir = mkdtempSync(join(tmpdir(), 'secably-kill9-'));
const stubbornNmap = join(dataDir, 'nmap-ignoring-sigpipe');
writeFileSync(stubbornNmap, '#!/bin/sh\ntrap \'\' PIPE\nexec nmap "$@"\n', { mode: 0o755 });
const opened: Listeners[] = [];
afterAll(async () => {
  killAllServers();
  for (const pid of nmapProcesses(0)) process.kill(pid, 'SIGKILL'); // none expected; ours if any
  await Promise.all(opened.map((l) => l.close()));
  rmSync(dataDir, { recursive: true, force: true });
});

/** Pids of running nmap processes scanning `port` (0: our quiet ports, any), from /proc. */
function nmapProcesses(port: number): number[] {
  const ports = port === 0 ? opened.flatMap((l) => l.ports.map(String)) : [String(port)];
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      const state = /^State:\s+(\S)/m.exec(readFileSync(`/proc/${entry}/status`, 'utf8'))?.[1];
      if (state === 'Z') continue; // exited, not reaped yet: not running
      const isNmap = (argv[0] ?? '').split('/').pop() === 'nmap';
      const range = argv[argv.indexOf('-p') + 1];
      if (isNmap && argv.includes('-p') && range !== undefined && ports.includes(range)) pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

/** The one nmap scanning `port`, or false while there is none (or, wrongly, several). */
function onlyNmap(port: number): number | false {
  const pids = nmapProcesses(port);
  return pids.length === 1 ? pids[0]! : false;
}

describe.skipIf(!hasNmap || !linuxWithSetpriv)('kill -9 of the service during a real nmap scan', () => {
  it(
    'leaves no nmap behind, and the restarted service runs the scan again once, never beside the first run',
    {
      timeout: 180_000,
    },
    async () => {
      const quiet = await startListeners(1, 'quiet');
      opened.push(quiet);
      const port = quiet.ports[0]!;
      const env = {
        SECABLY_DATA_DIR: join(dataDir, 'data'),
        SECABLY_NMAP_PATH: stubbornNmap,
        SECABLY_ALLOWED_TARGETS: '127.0.0.0/8',
        SECABLY_ADMIN_TOKEN: ADMIN_TOKEN,
        SECABLY_RATE_LIMIT_MULTIPLIER: '100',
      };
      const first: ServerProcess = await startServer(env);
      const registered = await call(first.base, 'POST', '/auth/register/', { body: newUser() });
      const token = registered.body.access as string;
      const userId = registered.body.user.id as string;
      const plan = await fetch(`${first.base}/api/v1/admin/users/${userId}/subscription/`, {
        method: 'POST',
        headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ plan: 'enterprise' }),
      });
      expect(plan.status).toBe(200);
      const target = await call(first.base, 'POST', '/targets/', {
        token,
        body: { name: 'lo', target_value: '127.0.0.1' },
      });
      const start = await call(first.base, 'POST', '/nmap/scan/', {
        token,
        body: { target_id: target.body.id, scan_type: 'full', port_range: String(port), aggressive: true },
      });
      expect(start.status).toBe(201);
      const scanId = start.body.scan_id as string;
      // Running: ScanStarted is stored, and nmap is at work on the port.
      await waitFor(
        async () => (await call(first.base, 'GET', `/scans/${scanId}/`, { token })).body.status === 'running',
        30_000,
        100,
      );
      const firstRun = await waitFor(() => onlyNmap(port), 30_000);

      first.child.kill('SIGKILL');
      await first.exited;
      // The kernel kills nmap with its parent: no orphan goes on scanning (nothing here kills it).
      await waitFor(() => nmapProcesses(port).length === 0, 5_000, 20);

      const second = await startServer(env);
      // The restarted service retries the scan (attempt 2): one nmap again, the first one long gone.
      const secondRun = await waitFor(() => onlyNmap(port), 30_000);
      expect(secondRun).not.toBe(firstRun);
      // Never two runs at once, and never a third: sampled while the retry runs.
      for (let i = 0; i < 20; i++) {
        expect(nmapProcesses(port)).toEqual([secondRun]);
        await sleep(100);
      }
      const store = sqliteEventStore({ path: join(dataDir, 'data', 'events.sqlite') });
      try {
        const events = await store.readStream(`scan-${scanId}`);
        const started = events.filter((e) => e.type === 'ScanStarted').map((e) => e.data.attempt);
        const retried = events.filter((e) => e.type === 'ScanRetried').map((e) => e.data.attempt);
        expect(started).toEqual([1, 2]);
        expect(retried).toEqual([2]);
        const firstStart = events.findIndex((e) => e.type === 'ScanStarted');
        const retry = events.findIndex((e) => e.type === 'ScanRetried');
        expect(String(events[retry]!.data.reason)).toMatch(/restarted/);
        expect(retry).toBeGreaterThan(firstStart);
      } finally {
        await store.close();
      }

      // Cancel: the retry's nmap stops too, and the credits come back.
      const cancel = await call(second.base, 'POST', `/scans/${scanId}/cancel/`, { token });
      expect(cancel.status).toBe(200);
      await waitFor(() => nmapProcesses(port).length === 0, 10_000, 50);
      second.child.kill('SIGTERM');
      expect(await second.exited).toBe(0);
    },
  );
});
