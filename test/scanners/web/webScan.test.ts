import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { identify, ScannerFinding } from '../../../domain/shared/finding.js';
import { ScanAbortedError, TargetUnreachableError } from '../../../scanners/shared/errors.js';
import { webScanner } from '../../../scanners/web/web.plugin.js';
import { scanWebApp, type WebScanInput } from '../../../scanners/web/webScan.js';
import { ACTIVE_RULES, PASSIVE_RULES } from '../../../scanners/web/zapRules.js';
import { selfSignedCertificate, type TestCertificate } from '../../support/certificates.js';
import { closedPorts } from '../../support/listeners.js';
import { startCountingListener, startEndlessApp, startInsecureApp, type TestWebApp } from './apps/webApps.js';

/**
 * The native engine against loopback apps this test starts: every rule fires on the
 * insecure app and none on its hardened twin, over HTTP and HTTPS; nothing leaves the
 * target; the caps hold on an app with endless links. Only 127.0.0.1 is contacted.
 */
const HOST = 'shop.test';
let other: TestWebApp;
let certificate: TestCertificate;
const apps: TestWebApp[] = [];

beforeAll(async () => {
  other = await startCountingListener();
  certificate = selfSignedCertificate({ commonName: HOST, altNames: [HOST] });
});
afterAll(async () => {
  await Promise.all([...apps, other].map((app) => app?.close()));
});

async function app(options: { hardened?: boolean; https?: boolean } = {}) {
  const started = await startInsecureApp({
    hardened: options.hardened ?? false,
    otherOrigin: other.url,
    ...(options.https ? { tls: certificate } : {}),
  });
  apps.push(started);
  return started;
}

function scan(target: TestWebApp, overrides: Partial<WebScanInput> = {}) {
  return scanWebApp({
    address: '127.0.0.1',
    origin: { scheme: target.url.startsWith('https') ? 'https' : 'http', hostname: HOST, port: target.port },
    mode: 'full',
    spider: true,
    signal: new AbortController().signal,
    ...overrides,
  });
}

const pluginOf = (ruleId: string) => ruleId.replace(/^zap\./, '').split('-')[0]!;
const HTTPS_ONLY = new Set(['10011', '10035', '10015', '10040']);
const ALL_RULES = [...PASSIVE_RULES, ...ACTIVE_RULES].map((r) => r.pluginid);

describe('the native zap engine on the insecure app and its hardened twin', () => {
  it(
    'full over HTTP: every rule (but the HTTPS-only ones) fires on the insecure app; none on the hardened one',
    { timeout: 120_000 },
    async () => {
      const insecure = await app();
      const hardened = await app({ hardened: true });
      const [bad, good] = await Promise.all([scan(insecure), scan(hardened)]);
      const fired = new Set(bad.findings.map((f) => pluginOf(f.rule_id)));
      for (const rule of ALL_RULES.filter((r) => !HTTPS_ONLY.has(r)))
        expect(fired.has(rule), `rule ${rule}`).toBe(true);
      for (const rule of HTTPS_ONLY) expect(fired.has(rule), `rule ${rule} over HTTP`).toBe(false);
      expect(good.findings.map((f) => `${f.rule_id} ${f.location}`)).toEqual([]);

      // Names, never addresses; ZAP's rule ids; every finding passes the shared schema.
      for (const finding of bad.findings) {
        ScannerFinding.parse(finding);
        expect(finding.location).toMatch(new RegExp(`^http://${HOST}:${insecure.port}/`));
        expect(finding.location).not.toContain('127.0.0.1');
        expect(finding.rule_id).toMatch(/^zap\.\d+(-\d+)?$/);
        expect(finding.engine).toBe('zap');
      }
      // Active findings carry the request that proved them and the bit of the answer.
      const byRule = (id: string) => bad.findings.filter((f) => f.rule_id === id);
      for (const id of [
        'zap.40012',
        'zap.40018',
        'zap.6',
        'zap.20019',
        'zap.40003',
        'zap.90020',
        'zap.40034',
        'zap.40035',
      ]) {
        expect(byRule(id).length, id).toBeGreaterThan(0);
        for (const f of byRule(id))
          expect(f.evidence, id).toMatch(/Request:\n(GET|POST) [\s\S]*Response:\nHTTP\/1\.1 \d{3}/);
      }
      // One finding per parameter, located by it.
      expect(byRule('zap.40012').map((f) => f.location)).toContain(`http://${HOST}:${insecure.port}/search.php?q`);
      expect(
        byRule('zap.40018')
          .map((f) => f.location)
          .sort(),
      ).toEqual([
        `http://${HOST}:${insecure.port}/catalog.php?cat`,
        `http://${HOST}:${insecure.port}/products.php?id`,
        `http://${HOST}:${insecure.port}/track.php?ref`,
      ]);
      // Error-based, boolean-based and time-based each proved one of them.
      expect(
        byRule('zap.40018')
          .map((f) => f.description)
          .join('\n'),
      ).toMatch(/RDBMS MySQL|boolean conditions|query time/);
      for (const proof of [/RDBMS MySQL/, /boolean conditions/, /query time/]) {
        expect(
          byRule('zap.40018').some((f) => proof.test(f.description)),
          String(proof),
        ).toBe(true);
      }
      expect(byRule('zap.40035').map((f) => f.location)).toEqual([`http://${HOST}:${insecure.port}/.git/config`]);
      expect(
        byRule('zap.10010')
          .map((f) => f.location)
          .sort(),
      ).toEqual([
        `http://${HOST}:${insecure.port}/ (cookie PHPSESSID)`,
        `http://${HOST}:${insecure.port}/ (cookie lang)`,
      ]);
      expect(byRule('zap.10036-2')[0]).toMatchObject({
        risk: 'low',
        evidence: expect.stringContaining('Apache/2.4.49'),
      });
      expect(byRule('zap.10037')[0]!.evidence).toContain('PHP/7.2.1');

      // The result: ZAP's report shape, what was crawled and sent, the rules that ran, within budget.
      const result = webScanner.resultSchema.parse(bad.result) as typeof bad.result;
      expect(result).toMatchObject({
        engine: 'zap',
        mode: 'full',
        spider: true,
        site: `http://${HOST}:${insecure.port}`,
        limits_reached: [],
      });
      expect(result.pages_crawled).toBeGreaterThan(15);
      // (Node's HTTP parser answers the made-up method of the 403-bypass check itself: the app never sees it.)
      expect(result.requests_sent - insecure.requests.length).toBeGreaterThanOrEqual(0);
      expect(result.requests_sent - insecure.requests.length).toBeLessThanOrEqual(1);
      expect(result.rules_run.map((r) => r.pluginid).sort()).toEqual([...ALL_RULES].sort());
      const xss = result.alerts.find((a) => a.pluginid === '40012')!;
      expect(xss).toMatchObject({
        alert: 'Cross Site Scripting (Reflected)',
        riskcode: '3',
        confidence: '2',
        cweid: '79',
        wascid: '8',
      });
      expect(xss.instances[0]).toMatchObject({
        method: 'GET',
        param: expect.any(String),
        attack: expect.any(String),
        evidence: expect.any(String),
      });
      expect(JSON.stringify(result).length).toBeLessThan(512 * 1024);
      // Every request named us, and asked for the target by its name.
      expect(new Set(insecure.requests.map((r) => r.userAgent))).toEqual(new Set([expect.stringMatching(/SecAbly/)]));
      expect(new Set(insecure.requests.map((r) => r.host))).toEqual(new Set([`${HOST}:${insecure.port}`]));
    },
  );

  it(
    'full over HTTPS adds the HTTPS-only rules on the insecure app; the hardened one stays silent',
    { timeout: 120_000 },
    async () => {
      const insecure = await app({ https: true });
      const hardened = await app({ hardened: true, https: true });
      const [bad, good] = await Promise.all([scan(insecure), scan(hardened)]);
      const fired = new Set(bad.findings.map((f) => pluginOf(f.rule_id)));
      for (const rule of HTTPS_ONLY) expect(fired.has(rule), `rule ${rule}`).toBe(true);
      expect(good.findings.map((f) => `${f.rule_id} ${f.location}`)).toEqual([]);
      expect(bad.findings.every((f) => f.location.startsWith(`https://${HOST}:${insecure.port}/`))).toBe(true);
    },
  );

  it(
    'baseline runs the passive rules only; its findings keep their identity from one run to the next',
    { timeout: 60_000 },
    async () => {
      const insecure = await app();
      const first = await scan(insecure, { mode: 'baseline' });
      const second = await scan(insecure, { mode: 'baseline' });
      const active = new Set(ACTIVE_RULES.map((r) => r.pluginid));
      expect(first.findings.filter((f) => active.has(pluginOf(f.rule_id)))).toEqual([]);
      expect(first.result.rules_run.every((r) => r.type === 'passive')).toBe(true);
      const ids = (findings: typeof first.findings) =>
        findings.map((f) => identify(f, { targetId: 'target-1', scannerType: 'zap' }).fingerprint).sort();
      expect(ids(second.findings)).toEqual(ids(first.findings));
      expect(first.findings.length).toBeGreaterThan(10);
      // The baseline sends only GETs (the spider's), never a payload.
      expect(insecure.requests.every((r) => r.method === 'GET')).toBe(true);
    },
  );

  it('without the spider: the start URL and the well-known paths only', async () => {
    const insecure = await app();
    const { result, findings } = await scan(insecure, { mode: 'baseline', spider: false });
    expect(insecure.requests.map((r) => r.url).sort()).toEqual([
      '/',
      '/.well-known/security.txt',
      '/robots.txt',
      '/sitemap.xml',
    ]);
    expect(result.pages_crawled).toBe(4);
    expect(findings.length).toBeGreaterThan(0);
  });

  it('a redirect and links to another host are recorded, never followed', { timeout: 60_000 }, async () => {
    const insecure = await app();
    const before = other.requests.length;
    const { result } = await scan(insecure);
    expect(other.requests.length).toBe(before);
    expect(result.off_origin.links).toContain(`${other.url}/stolen`);
    expect(result.off_origin.redirects).toContain(`${other.url}/landing`);
    expect(result.off_origin.forms).toContain(`${other.url}/subscribe`);
    expect(result.off_origin.scripts).toContain('https://cdn.other.invalid/lib.js');
    // The open-redirect check points at a reserved name and never goes there either.
    expect(insecure.requests.some((r) => r.url.includes('secably-redirect-check.example.com'))).toBe(true);
  });

  it('caps hold on an app with endless links (pages, depth, requests, time)', { timeout: 60_000 }, async () => {
    const endless = await startEndlessApp();
    apps.push(endless);
    const pages = await scan(endless, { mode: 'baseline', limits: { maxPages: 40 } });
    expect(pages.result.pages_crawled).toBeLessThanOrEqual(40);
    expect(pages.result.limits_reached).toContain('max_pages');
    expect(endless.requests.length).toBeLessThanOrEqual(40);

    endless.requests.length = 0;
    const deep = await scan(endless, { mode: 'baseline', limits: { maxPages: 1000, maxDepth: 2 } });
    expect(deep.result.limits_reached).toContain('max_depth');
    expect(deep.result.limits_reached).not.toContain('max_pages');
    // Two pages at depth 0 (the start and security.txt), 4 links each, 4 again at depth 2, robots and sitemap.
    expect(endless.requests.length).toBeLessThanOrEqual(2 + 8 + 32 + 2);

    endless.requests.length = 0;
    const budget = await scan(endless, { mode: 'full', budget: { maxRequests: 25 } });
    expect(budget.result.requests_sent).toBeLessThanOrEqual(25);
    expect(endless.requests.length).toBeLessThanOrEqual(25);
    expect(budget.result.limits_reached).toContain('max_requests');

    const timed = await scan(endless, {
      mode: 'baseline',
      budget: { totalTimeMs: 300 },
      limits: { maxPages: 1_000_000, maxDepth: 1_000_000 },
    });
    expect(timed.result.limits_reached).toContain('time');
  });

  it('an unreachable target fails clearly; an aborted scan stops', async () => {
    const [closed] = await closedPorts(1);
    await expect(
      scanWebApp({
        address: '127.0.0.1',
        origin: { scheme: 'http', hostname: HOST, port: closed! },
        mode: 'baseline',
        spider: true,
        signal: new AbortController().signal,
      }),
    ).rejects.toBeInstanceOf(TargetUnreachableError);
    const endless = await startEndlessApp();
    apps.push(endless);
    const controller = new AbortController();
    const running = scan(endless, {
      mode: 'baseline',
      signal: controller.signal,
      limits: { maxPages: 1_000_000, maxDepth: 1_000_000 },
      onProgress: ({ phase }) => {
        if (phase === 'spider' && endless.requests.length > 20) controller.abort();
      },
    });
    await expect(running).rejects.toBeInstanceOf(ScanAbortedError);
  });
});
