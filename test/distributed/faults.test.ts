import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProfileDocument } from '../../projections/profiles.projection.js';
import { distributedRuntime, type DistributedRuntime } from '../support/distributedRuntime.js';
import { startListeners, type Listeners } from '../support/listeners.js';
import { ADMIN_TOKEN, newUser } from '../support/testRuntime.js';
import { waitFor } from '../support/waitFor.js';

/**
 * Faults in the distributed mode, with the four processes on the real servers:
 * a worker killed mid-scan, the projector restarted under load, the Kafka broker
 * restarted while scans are queued. Nothing may be lost, applied twice, or stuck.
 * Scans target only listeners opened here on 127.0.0.1.
 */
const SERVERS = join(import.meta.dirname, '..', '..', 'scripts', 'servers', 'servers.sh');
let rt: DistributedRuntime;
const listeners: Listeners[] = [];

beforeAll(async () => {
  rt = await distributedRuntime({
    SECABLY_ALLOWED_TARGETS: '127.0.0.0/8',
    SECABLY_ADMIN_TOKEN: ADMIN_TOKEN,
    SECABLY_RATE_LIMIT_MULTIPLIER: '100',
    // Short fuses so a lost attempt is noticed within seconds.
    SECABLY_WORKER_HEARTBEAT_MS: '500',
    SECABLY_WATCHDOG_SILENCE_MS: '4000',
    SECABLY_WATCHDOG_INTERVAL_MS: '500',
  });
});
afterAll(async () => {
  await rt?.cleanup();
  await Promise.all(listeners.map((l) => l.close()));
});

async function call(method: string, path: string, options: { token?: string; body?: unknown; admin?: boolean } = {}) {
  const headers: Record<string, string> = {};
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.admin) headers.authorization = `Bearer ${ADMIN_TOKEN}`;
  const res = await fetch(`${rt.base}/api/v1${path}`, {
    method,
    headers,
    ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

/** An enterprise user (no request quota to trip over) with a loopback target. */
async function user() {
  const body = newUser();
  const reg = await call('POST', '/auth/register/', { body });
  expect(reg.status).toBe(201);
  const userId = reg.body.user.id as string;
  expect(
    (await call('POST', `/admin/users/${userId}/subscription/`, { admin: true, body: { plan: 'enterprise' } })).status,
  ).toBe(200);
  const target = await call('POST', '/targets/', {
    token: reg.body.access,
    body: { name: 'lo', target_value: '127.0.0.1' },
  });
  expect(target.status).toBe(201);
  return { token: reg.body.access as string, userId, targetId: target.body.id as string };
}

async function scanStatus(token: string, scanId: string): Promise<any> {
  return (await call('GET', `/scans/${scanId}/`, { token })).body;
}

const ended = (status: string) => ['completed', 'failed', 'cancelled'].includes(status);

describe('faults in the distributed mode', () => {
  it(
    'a worker killed mid-scan: the scan is retried on another worker and ends, never stuck',
    { timeout: 120_000 },
    async () => {
      const quiet = await startListeners(1, 'quiet');
      listeners.push(quiet);
      const { token, targetId } = await user();
      const start = await call('POST', '/nmap/scan/', {
        token,
        body: { target_id: targetId, scan_type: 'full', port_range: String(quiet.ports[0]), aggressive: true },
      });
      expect(start.status).toBe(201);
      const scanId = start.body.scan_id as string;
      await waitFor(async () => (await scanStatus(token, scanId)).status === 'running', 30_000, 200);

      await rt.stopRole('worker', 'SIGKILL');
      quiet.setBehaviour('banner'); // the retry can finish quickly
      await rt.startRole('worker');

      const scan = (await waitFor(
        async () => {
          const s = await scanStatus(token, scanId);
          return ended(s.status) ? s : false;
        },
        90_000,
        250,
      )) as any;
      expect(['completed', 'failed']).toContain(scan.status);
      const ledger = (await call('GET', '/account/credits/', { token })).body;
      const types = ledger.history.results.map((e: { type: string }) => e.type);
      if (scan.status === 'failed') expect(types).toContain('CreditsRefunded');
      else expect(types).not.toContain('CreditsRefunded');
      // Spent at most once, whatever was redelivered.
      expect(types.filter((t: string) => t === 'CreditsSpent').length).toBeLessThanOrEqual(1);
    },
  );

  it(
    'the projector restarted under load: read models converge, nothing applied twice',
    { timeout: 120_000 },
    async () => {
      const { token, userId } = await user();
      const adds = Array.from({ length: 8 }, (_, i) =>
        call('POST', '/targets/', { token, body: { name: `t${i}`, target_value: `127.0.0.${i + 10}` } }),
      );
      // Crash the projector while the writes are in flight, then bring it back.
      await new Promise((resolve) => setTimeout(resolve, 50));
      await rt.stopRole('projector', 'SIGKILL');
      await rt.startRole('projector');
      const results = await Promise.all(adds);
      // A write's answer may have timed out waiting for the read model, but the event is stored.
      for (const r of results) expect([201, 500, 503], JSON.stringify(r.body)).toContain(r.status);

      const profiles = rt.deps.readModels.collection<ProfileDocument>('profiles');
      const targets = rt.deps.readModels.collection('targets');
      // 1 target from user() + 8.
      await waitFor(async () => (await targets.count({ user_id: userId })) === 9, 30_000, 100);
      const profile = await profiles.get(userId);
      // 1 target from user() + 8: counted once each, despite the replay after the crash.
      expect(profile?.targets_count).toBe(9);
      const listed = await call('GET', '/targets/?page_size=100', { token });
      expect(listed.body.count).toBe(9);
    },
  );

  it('the Kafka broker restarted while scans are queued: every scan still runs', { timeout: 240_000 }, async () => {
    const open = await startListeners(1, 'banner');
    listeners.push(open);
    const { token, targetId } = await user();
    await rt.stopRole('worker');
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await call('POST', '/nmap/scan/', {
        token,
        body: { target_id: targetId, scan_type: 'full', port_range: String(open.ports[0]) },
      });
      expect(res.status).toBe(201);
      ids.push(res.body.scan_id);
    }
    await waitFor(
      async () => {
        const statuses = await Promise.all(ids.map(async (id) => (await scanStatus(token, id)).status));
        return statuses.every((s) => s === 'queued');
      },
      30_000,
      200,
    );

    execFileSync('bash', [SERVERS, 'restart', 'kafka'], { stdio: 'ignore', timeout: 120_000 });
    await rt.startRole('worker');

    for (const id of ids) {
      const scan = (await waitFor(
        async () => {
          const s = await scanStatus(token, id);
          return ended(s.status) ? s : false;
        },
        120_000,
        500,
      )) as any;
      expect(scan.status).toBe('completed');
      const result = await call('GET', `/nmap/scan/${id}/`, { token });
      expect(result.body.scan_result.open_ports.map((p: { port: number }) => p.port)).toEqual([open.ports[0]]);
    }
    const ledger = (await call('GET', '/account/credits/', { token })).body;
    const spent = ledger.history.results.filter((e: { type: string }) => e.type === 'CreditsSpent');
    expect(spent).toHaveLength(3);
  });
});
