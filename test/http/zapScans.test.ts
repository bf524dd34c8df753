import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { staticResolver } from '../../adapters/dnsResolver.js';
import {
  startCountingListener,
  startEndlessApp,
  startInsecureApp,
  type TestWebApp,
} from '../scanners/web/apps/webApps.js';
import { ADMIN_TOKEN, registerAndLogin, testRuntime, type TestRuntime } from '../support/testRuntime.js';
import { waitFor } from '../support/waitFor.js';

/**
 * `zap` scans end to end through the API (embedded, and the distributed processes with
 * SECABLY_TEST_MODE=distributed) against loopback web apps this test starts
 * (SECABLY_ALLOWED_TARGETS=127.0.0.0/8; the name shop.test resolves to 127.0.0.1 in the
 * service's resolver). Nothing else is scanned.
 */
const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
const HOST = 'shop.test';
let rt: TestRuntime;
let other: TestWebApp;
let insecure: TestWebApp;
let hardened: TestWebApp;
const apps: TestWebApp[] = [];

beforeAll(async () => {
  rt = await testRuntime(
    { SECABLY_ALLOWED_TARGETS: '127.0.0.0/8', SECABLY_WORKER_CONCURRENCY: '4' },
    { resolver: staticResolver({ [HOST]: ['127.0.0.1'] }) },
  );
  other = await startCountingListener();
  insecure = await startInsecureApp({ otherOrigin: other.url });
  hardened = await startInsecureApp({ hardened: true, otherOrigin: other.url });
  apps.push(other, insecure, hardened);
});
afterAll(async () => {
  await rt?.cleanup();
  await Promise.all(apps.map((app) => app.close()));
});

async function userWithTarget(credits: number, targetValue: string) {
  const session = await registerAndLogin(rt);
  if (credits > 0) {
    const res = await rt.call('POST', `/api/v1/admin/users/${session.userId}/credits/`, {
      headers: admin,
      body: { credits, reason: 'test' },
    });
    expect(res.status).toBe(200);
  }
  const target = await rt.call('POST', '/api/v1/targets/', {
    token: session.access,
    body: { name: 'shop', target_value: targetValue },
  });
  expect(target.status, JSON.stringify(target.body)).toBe(201);
  return { ...session, targetId: target.body.id as string };
}

async function balance(token: string): Promise<number> {
  return (await rt.call('GET', '/api/v1/account/credits/', { token })).body.balance.available as number;
}

/** Waits on the read model (no API quota spent polling), then reads the scan through the API. */
async function scanUntil(token: string, scanId: string, done: (scan: any) => boolean, timeoutMs = 120_000) {
  const scans = rt.deps.readModels.collection('scans');
  let last: any;
  await waitFor(
    async () => {
      const doc = await scans.get(scanId);
      if (!doc || !done(doc)) return false;
      last = (await rt.call('GET', `/api/v1/scans/${scanId}/`, { token })).body;
      return done(last);
    },
    timeoutMs,
    20,
  );
  return last;
}

const ended = (scan: any) => ['completed', 'failed', 'cancelled'].includes(scan.status);

async function startZap(token: string, targetId: string, scan_config: Record<string, unknown>) {
  return rt.call('POST', '/api/v1/scans/create/', {
    token,
    body: { target_id: targetId, scanner_type: 'zap', scan_config },
  });
}

describe('zap scans through the API', () => {
  it(
    'baseline on a URL target: priced, findings with ZAP’s names at the target’s name, the ZAP-shaped result',
    { timeout: 180_000 },
    async () => {
      const { access, targetId } = await userWithTarget(5, `http://${HOST}:${insecure.port}/`);
      const start = await startZap(access, targetId, { scan_mode: 'baseline', spider_enabled: 'true' });
      expect(start.status, JSON.stringify(start.body)).toBe(201);
      expect(start.body).toMatchObject({
        scan_type: 'baseline',
        credits_used: 5,
        credits_remaining: 0,
        estimated_duration: '~20 min',
      });

      const scan = await scanUntil(access, start.body.scan_id, ended);
      expect(scan.status, JSON.stringify(scan.error)).toBe('completed');
      expect(scan.vulnerabilities_found).toBeGreaterThan(10);
      const names = scan.vulnerabilities_list.map((v: { name: string }) => v.name);
      expect(names).toEqual(
        expect.arrayContaining([
          'Missing Anti-clickjacking Header',
          'X-Content-Type-Options Header Missing',
          'Content Security Policy (CSP) Header Not Set',
          'Server Leaks Version Information via "Server" HTTP Response Header Field',
          'Server Leaks Information via "X-Powered-By" HTTP Response Header Field(s)',
          'Cookie No HttpOnly Flag',
          'Absence of Anti-CSRF Tokens',
          'Directory Browsing',
        ]),
      );
      for (const v of scan.vulnerabilities_list) {
        expect(v.location).toMatch(new RegExp(`^http://${HOST}:${insecure.port}/`));
        expect(v.fingerprint).toMatch(/^[0-9a-f]{32}$/);
      }
      expect(JSON.stringify(scan.vulnerabilities_list)).not.toContain('127.0.0.1:' + insecure.port);

      const result = await rt.call('GET', `/api/v1/zap/scan/${start.body.scan_id}/`, { token: access });
      expect(result.status).toBe(200);
      expect(result.body.scan_result).toMatchObject({
        engine: 'zap',
        mode: 'baseline',
        spider: true,
        site: `http://${HOST}:${insecure.port}`,
        requests_sent: expect.any(Number),
        pages_crawled: expect.any(Number),
      });
      expect(result.body.scan_result.pages_crawled).toBeGreaterThan(10);
      expect(result.body.scan_result.alerts.find((a: any) => a.pluginid === '10020')).toMatchObject({
        alert: 'Missing Anti-clickjacking Header',
        riskcode: '2',
        cweid: '1021',
        instances: expect.any(Array),
      });
      expect(other.requests).toEqual([]);
    },
  );

  it(
    'full finds the injections (high risk); the same scan again gives the same findings',
    { timeout: 240_000 },
    async () => {
      const { access, targetId } = await userWithTarget(20, `http://${HOST}:${insecure.port}/`);
      const fingerprints: string[][] = [];
      for (let i = 0; i < 2; i++) {
        const start = await startZap(access, targetId, { scan_mode: 'full' });
        expect(start.status, JSON.stringify(start.body)).toBe(201);
        expect(start.body).toMatchObject({ scan_type: 'full', credits_used: 10, estimated_duration: '~45 min' });
        const scan = await scanUntil(access, start.body.scan_id, ended);
        expect(scan.status, JSON.stringify(scan.error)).toBe('completed');
        expect(scan.risk_level).toBe('high');
        const byName = (name: string) => scan.vulnerabilities_list.filter((v: any) => v.name === name);
        expect(byName('Cross Site Scripting (Reflected)').map((v: any) => v.location)).toContain(
          `http://${HOST}:${insecure.port}/search.php?q`,
        );
        expect(byName('SQL Injection').map((v: any) => v.location)).toContain(
          `http://${HOST}:${insecure.port}/products.php?id`,
        );
        expect(byName('External Redirect').map((v: any) => v.location)).toEqual([
          `http://${HOST}:${insecure.port}/go.php?url`,
        ]);
        expect(byName('.env Information Leak')[0].evidence).toMatch(/Request:\nGET \/\.env/);
        fingerprints.push(scan.vulnerabilities_list.map((v: any) => v.fingerprint).sort());
      }
      // Run to run the crawl and the checks are the same: so are the identities.
      expect(fingerprints[1]).toEqual(fingerprints[0]);
      expect(other.requests).toEqual([]);
    },
  );

  it('the hardened twin: a clean full scan', { timeout: 180_000 }, async () => {
    const { access, targetId } = await userWithTarget(10, `http://${HOST}:${hardened.port}/`);
    const start = await startZap(access, targetId, { scan_mode: 'full', spider_enabled: true });
    expect(start.status).toBe(201);
    const scan = await scanUntil(access, start.body.scan_id, ended);
    expect(scan.status, JSON.stringify(scan.error)).toBe('completed');
    expect(scan).toMatchObject({ vulnerabilities_found: 0, security_score: 100 });
  });

  it('refuses a bad scan_config or too few credits before anything runs', async () => {
    const { access, targetId } = await userWithTarget(5, `http://${HOST}:${insecure.port}/`);
    for (const scan_config of [{ scan_mode: 'aggressive' }, { spider_enabled: 'yes' }, { depth: 3 }]) {
      const res = await startZap(access, targetId, scan_config);
      expect(res.status, JSON.stringify(scan_config)).toBe(400);
    }
    const full = await startZap(access, targetId, { scan_mode: 'full' });
    expect(full.status).toBe(402);
    expect(full.body).toMatchObject({ required: 10, available: 5, scanner_type: 'zap', scan_profile: 'full' });
    expect(await balance(access)).toBe(5);
  });

  it('an unreachable web server fails the scan with a reason', { timeout: 120_000 }, async () => {
    const gone = await startInsecureApp();
    const port = gone.port;
    await gone.close();
    const { access, targetId } = await userWithTarget(5, `http://${HOST}:${port}/`);
    const start = await startZap(access, targetId, { scan_mode: 'baseline' });
    expect(start.status).toBe(201);
    const scan = await scanUntil(access, start.body.scan_id, ended);
    expect(scan.status).toBe('failed');
    expect(scan.error).toMatchObject({ code: 'target_unreachable' });
  });

  it('a cancelled full scan stops and refunds', { timeout: 120_000 }, async () => {
    const endless = await startEndlessApp();
    apps.push(endless);
    const { access, targetId } = await userWithTarget(10, `http://${HOST}:${endless.port}/`);
    const start = await startZap(access, targetId, { scan_mode: 'full' });
    expect(start.status).toBe(201);
    await scanUntil(access, start.body.scan_id, (s) => s.status === 'running', 60_000);
    const cancel = await rt.call('POST', `/api/v1/scans/${start.body.scan_id}/cancel/`, { token: access });
    expect(cancel.status).toBe(200);
    await waitFor(async () => (await balance(access)) === 10, 30_000);
    const scan = (await rt.call('GET', `/api/v1/scans/${start.body.scan_id}/`, { token: access })).body;
    expect(scan.status).toBe('cancelled');
  });
});
