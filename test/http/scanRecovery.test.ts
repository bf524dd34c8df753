import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startListeners, type Listeners } from '../support/listeners.js';
import { call, killAllServers, startServer } from '../support/serverProcess.js';
import { ADMIN_TOKEN, newUser, registerAndLogin, testRuntime } from '../support/testRuntime.js';
import { waitFor } from '../support/waitFor.js';

const hasNmap = (() => {
  try {
    execFileSync('nmap', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

const dataDir = mkdtempSync(join(tmpdir(), 'secably-recovery-'));
const listeners: Listeners[] = [];

afterAll(async () => {
  killAllServers();
  await Promise.all(listeners.map((l) => l.close()));
  rmSync(dataDir, { recursive: true, force: true });
});

function childPids(parent: number): number[] {
  try {
    return execFileSync('pgrep', ['-P', String(parent)])
      .toString()
      .trim()
      .split('\n')
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe.skipIf(!hasNmap)('a worker killed mid-scan', () => {
  it('the scan ends (completed on retry, or failed and refunded), never stuck', { timeout: 120_000 }, async () => {
    const quiet = await startListeners(1, 'quiet');
    listeners.push(quiet);
    const env = {
      SECABLY_DATA_DIR: dataDir,
      SECABLY_ALLOWED_TARGETS: '127.0.0.0/8',
      SECABLY_ADMIN_TOKEN: ADMIN_TOKEN,
      SECABLY_RATE_LIMIT_MULTIPLIER: '100',
    };
    const first = await startServer(env);
    const user = newUser();
    const registered = await call(first.base, 'POST', '/auth/register/', { body: user });
    const token = registered.body.access as string;
    const userId = registered.body.user.id as string;
    const admin = (path: string, body: unknown) =>
      fetch(`${first.base}/api/v1/admin/users/${userId}/${path}/`, {
        method: 'POST',
        headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    expect((await admin('subscription', { plan: 'enterprise' })).status).toBe(200);
    const target = await call(first.base, 'POST', '/targets/', {
      token,
      body: { name: 'lo', target_value: '127.0.0.1' },
    });
    expect(target.status).toBe(201);
    const before = (await call(first.base, 'GET', '/account/credits/', { token })).body.balance.available as number;

    const start = await call(first.base, 'POST', '/nmap/scan/', {
      token,
      body: { target_id: target.body.id, scan_type: 'full', port_range: String(quiet.ports[0]), aggressive: true },
    });
    expect(start.status).toBe(201);
    const scanId = start.body.scan_id as string;
    await waitFor(
      async () => (await call(first.base, 'GET', `/scans/${scanId}/`, { token })).body.status === 'running',
      30_000,
      200,
    );
    const nmapPids = (await waitFor(() => {
      const pids = childPids(first.child.pid!);
      return pids.length > 0 ? pids : false;
    }, 10_000)) as number[];

    first.child.kill('SIGKILL');
    await first.exited;
    // The orphaned nmap dies on its next write to the closed pipe; make sure of it (it is ours).
    try {
      await waitFor(() => nmapPids.every((pid) => !alive(pid)), 10_000, 100);
    } catch {
      for (const pid of nmapPids) if (alive(pid)) process.kill(pid, 'SIGKILL');
    }

    // The retry can now finish: the port answers at once.
    quiet.setBehaviour('banner');
    const second = await startServer(env);
    const scan = await waitFor(
      async () => {
        const body = (await call(second.base, 'GET', `/scans/${scanId}/`, { token })).body;
        return ['completed', 'failed', 'cancelled'].includes(body.status) ? body : false;
      },
      60_000,
      250,
    );
    const ledger = (await call(second.base, 'GET', '/account/credits/', { token })).body;
    if (scan.status === 'completed') {
      expect(ledger.balance.available).toBe(before - 1);
      const result = await call(second.base, 'GET', `/nmap/scan/${scanId}/`, { token });
      expect(result.body.scan_result.open_ports.map((p: { port: number }) => p.port)).toEqual([quiet.ports[0]]);
    } else {
      expect(scan.status).toBe('failed');
      expect(ledger.balance.available).toBe(before);
      expect(ledger.history.results.map((e: { type: string }) => e.type)).toContain('CreditsRefunded');
    }
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
  });
});

describe('nmap missing', () => {
  it('the scan fails with a clear message, and its credits come back', async () => {
    const rt = await testRuntime({ SECABLY_ALLOWED_TARGETS: '127.0.0.0/8', SECABLY_NMAP_PATH: '/nonexistent/nmap' });
    try {
      const { access, userId } = await registerAndLogin(rt);
      await rt.call('POST', `/api/v1/admin/users/${userId}/credits/`, {
        headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
        body: { credits: 2, reason: 'test' },
      });
      const target = await rt.call('POST', '/api/v1/targets/', {
        token: access,
        body: { name: 'lo', target_value: '127.0.0.1' },
      });
      const start = await rt.call('POST', '/api/v1/nmap/scan/', {
        token: access,
        body: { target_id: target.body.id, scan_type: 'full', port_range: '1' },
      });
      expect(start.status).toBe(201);
      const scans = rt.deps.readModels.collection('scans');
      await waitFor(async () => (await scans.get(start.body.scan_id))?.status === 'failed', 10_000);
      const scan = await rt.call('GET', `/api/v1/scans/${start.body.scan_id}/`, { token: access });
      expect(scan.body.error).toMatchObject({ code: 'scanner_unavailable', reason: expect.stringMatching(/nmap/i) });
      await waitFor(async () => {
        const ledger = await rt.call('GET', '/api/v1/account/credits/', { token: access });
        return ledger.body.balance.available === 2;
      }, 10_000);
    } finally {
      await rt.cleanup();
    }
  });
});
