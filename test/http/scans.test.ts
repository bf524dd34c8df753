import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { staticResolver } from '../../adapters/dnsResolver.js';
import { nmapScanner } from '../../scanners/nmap/nmap.plugin.js';
import { scannerRegistry } from '../../scanners/registry.js';
import type { AnyScannerPlugin, ScanJobInput } from '../../scanners/shared/scanner.js';
import { closedPorts, startListeners, type Listeners } from '../support/listeners.js';
import { ADMIN_TOKEN, needsEmbedded, registerAndLogin, testRuntime, type TestRuntime } from '../support/testRuntime.js';
import { waitFor } from '../support/waitFor.js';

/**
 * Scans end to end through HTTP with the real nmap, against listeners this test
 * opens on 127.0.0.1 (SECABLY_ALLOWED_TARGETS=127.0.0.0/8). Nothing else is scanned.
 */
const hasNmap = (() => {
  try {
    execFileSync('nmap', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
if (!hasNmap) console.warn('nmap is not installed: the real-nmap scan tests are skipped (apt-get install nmap)');

const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
let rt: TestRuntime;
const opened: Listeners[] = [];

beforeAll(async () => {
  rt = await testRuntime(
    { SECABLY_ALLOWED_TARGETS: '127.0.0.0/8', SECABLY_WORKER_CONCURRENCY: '4' },
    { resolver: staticResolver({ 'loopback.test': ['127.0.0.1'] }) },
  );
});
afterAll(async () => {
  await rt?.cleanup();
  await Promise.all(opened.map((l) => l.close()));
});

async function listeners(count: number, behaviour: 'banner' | 'quiet' = 'banner') {
  const l = await startListeners(count, behaviour);
  opened.push(l);
  return l;
}

/** A user with a loopback target and, when asked, purchased credits. */
async function userWithTarget(credits = 0, targetValue = '127.0.0.1') {
  const session = await registerAndLogin(rt);
  if (credits > 0) {
    const res = await rt.call('POST', `/api/v1/admin/users/${session.userId}/credits/`, {
      headers: admin,
      body: { credits, reason: 'test' },
    });
    expect(res.status).toBe(200);
  }
  // Enterprise: no monthly request quota to trip over while polling (0 monthly credits? no: 1000).
  const target = await rt.call('POST', '/api/v1/targets/', {
    token: session.access,
    body: { name: 'loopback', target_value: targetValue },
  });
  expect(target.status, JSON.stringify(target.body)).toBe(201);
  return { ...session, targetId: target.body.id as string };
}

async function balance(token: string): Promise<number> {
  const res = await rt.call('GET', '/api/v1/account/credits/', { token });
  return res.body.balance.available as number;
}

/**
 * Waits for a scan state by watching the read model (polling over HTTP would spend
 * the free plan's 100 requests a month), then reads the scan through the API.
 */
async function scanUntil(token: string, scanId: string, done: (scan: any) => boolean, timeoutMs = 90_000) {
  const scans = rt.deps.readModels.collection('scans');
  let last: any;
  await waitFor(
    async () => {
      const doc = await scans.get(scanId);
      if (!doc || !done(doc)) return false; // the document has the view's status and progress
      last = (await rt.call('GET', `/api/v1/scans/${scanId}/`, { token })).body;
      return done(last);
    },
    timeoutMs,
    20,
  );
  return last;
}

const ended = (scan: any) => ['completed', 'failed', 'cancelled'].includes(scan.status);

describe.skipIf(!hasNmap)('nmap scans through the API', () => {
  it('reports exactly the listeners that are open', async () => {
    const open = await listeners(3);
    const closed = await closedPorts(2);
    const { access, targetId } = await userWithTarget(1);
    const ports = [...open.ports, ...closed].sort((a, b) => a - b);
    const start = await rt.call('POST', '/api/v1/nmap/scan/', {
      token: access,
      body: { target_id: targetId, scan_type: 'full', port_range: ports.join(',') },
    });
    expect(start.status, JSON.stringify(start.body)).toBe(201);
    expect(start.body).toMatchObject({
      scan_id: expect.any(String),
      status: expect.stringMatching(/^(pending|queued|running)$/),
      message: 'Scan started successfully',
      scan_type: 'full',
      credits_used: 1,
      credits_remaining: 0,
      created_at: expect.any(String),
    });

    const scan = await scanUntil(access, start.body.scan_id, ended);
    expect(scan.status, JSON.stringify(scan.error)).toBe('completed');
    expect(scan).toMatchObject({
      website_url: '127.0.0.1',
      risk_level: 'info',
      security_score: 100,
      vulnerabilities_found: 0,
      vulnerabilities_by_risk: { Critical: 0, High: 0, Medium: 0, Low: 0, Informational: 3 },
      progress: { percent: 100, phase: 'done' },
    });
    expect(scan.vulnerabilities_list).toHaveLength(3);

    const result = await rt.call('GET', `/api/v1/nmap/scan/${start.body.scan_id}/`, { token: access });
    expect(result.status).toBe(200);
    const reported = result.body.scan_result.open_ports
      .map((p: { port: number }) => p.port)
      .sort((a: number, b: number) => a - b);
    expect(reported).toEqual([...open.ports].sort((a, b) => a - b));
    expect(result.body.scan_result.host_info.status).toBe('up');
    expect(result.body).toMatchObject({
      status: 'completed',
      target: '127.0.0.1',
      scan_type: 'full',
      security_score: 100,
    });
    expect(typeof result.body.duration).toBe('number');

    // The credit was reserved, then spent when the scan started; nothing refunded.
    const ledger = await rt.call('GET', '/api/v1/account/credits/', { token: access });
    expect(ledger.body.balance.available).toBe(0);
    expect(ledger.body.history.results.map((e: { type: string }) => e.type)).toContain('CreditsSpent');
    expect(ledger.body.history.results.map((e: { type: string }) => e.type)).not.toContain('CreditsRefunded');

    // And the target shows it.
    const stats = await rt.call('GET', '/api/v1/stats/', { token: access });
    expect(stats.body.recent_activity.latest_scans[0]).toMatchObject({ id: start.body.scan_id, status: 'completed' });
    expect(stats.body.usage.monthly_scans_used).toBe(1);
  });

  it('a full scan cancelled mid-run stops nmap and refunds', async () => {
    const quiet = await listeners(1, 'quiet');
    const { access, targetId } = await userWithTarget(1);
    const start = await rt.call('POST', '/api/v1/scans/create/', {
      token: access,
      body: {
        target_id: targetId,
        scanner_type: 'nmap',
        scan_config: { scan_type: 'full', port_range: String(quiet.ports[0]), aggressive: true },
      },
    });
    expect(start.status, JSON.stringify(start.body)).toBe(201);
    const scanId = start.body.scan_id as string;
    await scanUntil(access, scanId, (s) => s.status === 'running', 30_000);
    const nmapPids = () => {
      try {
        return execFileSync('pgrep', ['-f', `nmap .*-p ${quiet.ports[0]} `])
          .toString()
          .trim()
          .split('\n')
          .filter(Boolean);
      } catch {
        return [];
      }
    };
    await waitFor(() => nmapPids().length === 1, 10_000);

    const cancel = await rt.call('POST', `/api/v1/scans/${scanId}/cancel/`, { token: access });
    expect(cancel.status).toBe(200);
    expect(cancel.body.status).toBe('cancelled');
    await waitFor(() => nmapPids().length === 0, 10_000);
    await waitFor(async () => (await balance(access)) === 1, 10_000);
    const scan = (await rt.call('GET', `/api/v1/scans/${scanId}/`, { token: access })).body;
    expect(scan.status).toBe('cancelled');
    const again = await rt.call('POST', `/api/v1/scans/${scanId}/cancel/`, { token: access });
    expect(again.status).toBe(200);
  });

  it('progress of a running scan is visible', { timeout: 90_000 }, async () => {
    const quiet = await listeners(1, 'quiet');
    const { access, targetId } = await userWithTarget(1);
    const start = await rt.call('POST', '/api/v1/nmap/scan/', {
      token: access,
      body: {
        target_id: targetId,
        scan_config: { scan_type: 'full', port_range: String(quiet.ports[0]), aggressive: 'true' },
      },
    });
    const scanId = start.body.scan_id as string;
    const running = await scanUntil(
      access,
      scanId,
      (s) => s.status === 'running' && s.progress.phase !== 'starting',
      60_000,
    );
    expect(running.progress.percent).toBeGreaterThanOrEqual(0);
    expect(running.progress.phase).toEqual(expect.any(String));
    await rt.call('POST', `/api/v1/scans/${scanId}/cancel/`, { token: access });
  });
});

describe('credits and scans', () => {
  it('30 concurrent requests with credits for 5: exactly 5 accepted, the rest 402, never below 0', async () => {
    const { access, targetId } = await userWithTarget(5);
    const results = await Promise.all(
      Array.from({ length: 30 }, () =>
        rt.call('POST', '/api/v1/nmap/scan/', {
          token: access,
          body: { target_id: targetId, scan_config: { scan_type: 'full', port_range: '1' } },
        }),
      ),
    );
    const accepted = results.filter((r) => r.status === 201);
    const refused = results.filter((r) => r.status === 402);
    expect(accepted).toHaveLength(5);
    expect(refused).toHaveLength(25);
    expect(refused[0]!.body).toEqual({
      error: 'Insufficient scan credits',
      code: 'insufficient_credits',
      required: 1,
      available: 0,
      monthly_credits: 0,
      purchased_credits: 0,
      scanner_type: 'nmap',
      scan_profile: 'full',
      upgrade_url: '/pricing/',
    });
    expect(new Set(accepted.map((r) => r.body.scan_id)).size).toBe(5);
    const ledger = await rt.call('GET', '/api/v1/account/credits/', { token: access });
    expect(ledger.body.balance.available).toBeGreaterThanOrEqual(0);
    const reserved = ledger.body.history.results.filter((e: { type: string }) => e.type === 'CreditsReserved');
    expect(reserved).toHaveLength(5);
    for (const r of accepted) await rt.call('POST', `/api/v1/scans/${r.body.scan_id}/cancel/`, { token: access });
  });

  it('a retried request with the same Idempotency-Key charges once and answers the same', async () => {
    const { access, targetId } = await userWithTarget(3);
    const send = (key: string, port = '1') =>
      rt.call('POST', '/api/v1/nmap/scan/', {
        token: access,
        headers: { 'Idempotency-Key': key },
        body: { target_id: targetId, scan_config: { scan_type: 'full', port_range: port } },
      });
    const first = await send('retry-me-1');
    const second = await send('retry-me-1');
    expect(first.status).toBe(201);
    expect(second.status).toBe(201);
    expect(second.body).toEqual(first.body);
    expect(await balance(access)).toBe(2);

    // Concurrent retries: one scan, one charge.
    const burst = await Promise.all(Array.from({ length: 5 }, () => send('retry-me-2')));
    const ids = new Set(burst.filter((r) => r.status === 201).map((r) => r.body.scan_id));
    expect(ids.size).toBe(1);
    for (const r of burst) expect([201, 409]).toContain(r.status);
    expect(await balance(access)).toBe(1);

    // The same key with another request is refused.
    const other = await send('retry-me-1', '2');
    expect(other.status).toBe(409);
    expect(other.body.code).toBe('idempotency_key_reused');
    for (const id of [first.body.scan_id, ...ids])
      await rt.call('POST', `/api/v1/scans/${id}/cancel/`, { token: access });
  });

  it('a refusal is remembered under its key too (no charge on retry after topping up)', async () => {
    const { access, userId, targetId } = await userWithTarget(0);
    const send = () =>
      rt.call('POST', '/api/v1/nmap/scan/', {
        token: access,
        headers: { 'Idempotency-Key': 'broke' },
        body: { target_id: targetId, scan_type: 'full', port_range: '1' },
      });
    expect((await send()).status).toBe(402);
    await rt.call('POST', `/api/v1/admin/users/${userId}/credits/`, {
      headers: admin,
      body: { credits: 1, reason: 't' },
    });
    expect((await send()).status).toBe(402);
    expect(await balance(access)).toBe(1);
  });

  it('a scanner that is not available yet: 501, nothing charged', async () => {
    const { access, targetId } = await userWithTarget(20);
    for (const [scanner_type, scan_config] of [
      ['zap', { scan_mode: 'baseline' }],
      ['nuclei', { scan_mode: 'quick' }],
    ] as const) {
      const res = await rt.call('POST', '/api/v1/scans/create/', {
        token: access,
        body: { target_id: targetId, scanner_type, scan_config },
      });
      expect(res.status).toBe(501);
      expect(res.body.code).toBe('scanner_not_available');
    }
    for (const path of ['/api/v1/openvas/scan/']) {
      const res = await rt.call('POST', path, { token: access, body: { target_id: targetId } });
      expect(res.status).toBe(501);
    }
    expect(await balance(access)).toBe(20);
    expect((await rt.call('GET', '/api/v1/scans/', { token: access })).body.count).toBe(0);
  });
});

describe('validation and ownership', () => {
  it('every bad scan_config is a 400 with field errors', async () => {
    const { access, targetId } = await userWithTarget(5);
    const bad: unknown[] = [
      { scan_type: 'mega' },
      { scan_type: 5 },
      { port_range: '-oN /tmp/x' },
      { port_range: '1-2 --script' },
      { port_range: '80;rm -rf /' },
      { port_range: '0' },
      { port_range: '70000' },
      { port_range: '5-1' },
      { port_range: 80 },
      { aggressive: 'yes' },
      { aggressive: 1 },
      { unknown_option: true },
      'quick',
      [],
      null,
    ];
    for (const scan_config of bad) {
      const res = await rt.call('POST', '/api/v1/scans/create/', {
        token: access,
        body: { target_id: targetId, scanner_type: 'nmap', scan_config },
      });
      expect(res.status, JSON.stringify(scan_config)).toBe(400);
      expect(res.body.error).toEqual(expect.any(String));
    }
    for (const body of [
      {},
      { target_id: targetId },
      { target_id: 'nope', scanner_type: 'nmap' },
      { target_id: targetId, scanner_type: 'nessus' },
      { target_id: targetId, website_id: targetId, scanner_type: 'nmap' },
      { target_id: targetId, scanner_type: 'nmap', extra: 1 },
    ]) {
      const res = await rt.call('POST', '/api/v1/scans/create/', { token: access, body });
      expect(res.status, JSON.stringify(body)).toBe(400);
    }
    const both = await rt.call('POST', '/api/v1/nmap/scan/', {
      token: access,
      body: { target_id: targetId, scan_type: 'full', scan_config: { scan_type: 'quick' } },
    });
    expect(both.status).toBe(400);
    for (const query of ['?status=done', '?page=0', '?page_size=1000', '?scanner_type=x', '?what=1']) {
      expect((await rt.call('GET', `/api/v1/scans/${query}`, { token: access })).status, query).toBe(400);
    }
    expect(await balance(access)).toBe(5);
  });

  it('another user’s target or scan is a 404', async () => {
    const a = await userWithTarget(2);
    const b = await userWithTarget(2);
    const start = await rt.call('POST', '/api/v1/nmap/scan/', {
      token: a.access,
      body: { target_id: a.targetId, scan_config: { scan_type: 'full', port_range: '1' } },
    });
    expect(start.status).toBe(201);
    const id = start.body.scan_id as string;
    expect((await rt.call('GET', `/api/v1/scans/${id}/`, { token: b.access })).status).toBe(404);
    expect((await rt.call('GET', `/api/v1/nmap/scan/${id}/`, { token: b.access })).status).toBe(404);
    expect((await rt.call('POST', `/api/v1/scans/${id}/cancel/`, { token: b.access })).status).toBe(404);
    expect((await rt.call('GET', '/api/v1/scans/', { token: b.access })).body.count).toBe(0);
    for (const [method, path, body] of [
      ['POST', `/api/v1/targets/${a.targetId}/scan/`, {}],
      ['POST', `/api/v1/websites/${a.targetId}/scan/`, {}],
      ['POST', '/api/v1/scans/create/', { target_id: a.targetId, scanner_type: 'nmap' }],
      ['POST', '/api/v1/nmap/scan/', { target_id: a.targetId }],
    ] as const) {
      expect((await rt.call(method, path, { token: b.access, body })).status, path).toBe(404);
    }
    expect((await rt.call('GET', `/api/v1/sslyze/scan/${id}/`, { token: a.access })).status).toBe(404);
    expect(await balance(b.access)).toBe(2);
    await rt.call('POST', `/api/v1/scans/${id}/cancel/`, { token: a.access });
  });

  it('lists scans newest first, with filters and pages', async () => {
    const { access, targetId } = await userWithTarget(0);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await rt.call('POST', `/api/v1/targets/${targetId}/scan/`, {
        token: access,
        body: { scanner_type: 'nmap', scan_config: { scan_type: 'quick', port_range: '1' } },
      });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(res.body).toMatchObject({ message: 'Scan started successfully', credits_used: 0 });
      ids.push(res.body.scan_id);
    }
    const page1 = await rt.call('GET', '/api/v1/scans/?page_size=2', { token: access });
    expect(page1.body.count).toBe(3);
    expect(page1.body.results.map((s: { id: string }) => s.id)).toEqual([ids[2], ids[1]]);
    expect(page1.body.next).toContain('page=2');
    const page2 = await rt.call('GET', page1.body.next, { token: access });
    expect(page2.body.results.map((s: { id: string }) => s.id)).toEqual([ids[0]]);
    expect(page2.body.next).toBeNull();
    const filtered = await rt.call('GET', `/api/v1/scans/?scanner_type=nmap&target_id=${targetId}`, { token: access });
    expect(filtered.body.count).toBe(3);
    expect((await rt.call('GET', '/api/v1/scans/?scanner_type=zap', { token: access })).body.count).toBe(0);
    for (const id of ids) await scanUntil(access, id, ended);
  });
});

// It swaps in a recording scanner and moves DNS under the service: in-process only.
describe.skipIf(needsEmbedded)('the SSRF guard at scan time', () => {
  it('a hostname that now resolves inside is refused before anything runs', async () => {
    const table: Record<string, string[]> = { 'moving.test': ['127.0.0.1'] };
    const calls: ScanJobInput[] = [];
    const recording: AnyScannerPlugin = {
      ...nmapScanner,
      loadRunner: async () => async (input) => {
        calls.push(input);
        return { findings: [], scanResult: {} };
      },
    };
    const strict = await testRuntime(
      { SECABLY_ALLOWED_TARGETS: '127.0.0.0/8' },
      { resolver: staticResolver(table), scanners: scannerRegistry([recording]) },
    );
    try {
      const session = await registerAndLogin(strict);
      const target = await strict.call('POST', '/api/v1/targets/', {
        token: session.access,
        body: { name: 'moving', target_value: 'moving.test' },
      });
      expect(target.status).toBe(201);
      // The name moves to the cloud metadata address: refused now, and nothing is scanned.
      table['moving.test'] = ['169.254.169.254'];
      const res = await strict.call('POST', `/api/v1/targets/${target.body.id}/scan/`, {
        token: session.access,
        body: { scan_config: { port_range: '80' } },
      });
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('target_not_allowed');
      // Back to loopback: the scanner gets the checked IP, never the name.
      table['moving.test'] = ['127.0.0.1'];
      const ok = await strict.call('POST', `/api/v1/targets/${target.body.id}/scan/`, {
        token: session.access,
        body: { scan_config: { port_range: '80' } },
      });
      expect(ok.status).toBe(200);
      await waitFor(async () => {
        const scan = await strict.call('GET', `/api/v1/scans/${ok.body.scan_id}/`, { token: session.access });
        return scan.body.status === 'completed';
      }, 10_000);
      expect(calls).toHaveLength(1);
      expect(calls[0]!.host).toBe('127.0.0.1');
      expect(calls[0]!.target.hostname).toBe('moving.test');
    } finally {
      await strict.cleanup();
    }
  });
});
