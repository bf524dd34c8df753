import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ScannerFinding } from '../../../domain/shared/finding.js';
import { ScanAbortedError, ScannerUnavailableError } from '../../../scanners/shared/errors.js';
import type { ScanJobInput } from '../../../scanners/shared/scanner.js';
import { webScanner } from '../../../scanners/web/web.plugin.js';
import { mapZapAlerts, scanWithZapDaemon, type ZapApiAlert } from '../../../scanners/web/zapDaemon.js';
import { closedPorts } from '../../support/listeners.js';

/**
 * A stub of ZAP's JSON API (written for this test, not ZAP): the endpoints the adapter
 * calls, with answers in the shapes ZAP documents (https://www.zaproxy.org/docs/api/),
 * statuses that move on each poll, and canned alerts. It records every call.
 */
interface StubOptions {
  apiKey?: string;
  /** Polls before a spider / active scan reports 100 (default 1). */
  pollsToFinish?: number;
  alerts?: ZapApiAlert[];
}

const TARGET = 'http://shop.example.com';

const CANNED_ALERTS: ZapApiAlert[] = [
  {
    pluginId: '10021',
    alertRef: '10021',
    alert: 'X-Content-Type-Options Header Missing',
    risk: 'Low',
    confidence: 'Medium',
    cweid: '693',
    wascid: '15',
    url: `${TARGET}/`,
    method: 'GET',
    param: 'x-content-type-options',
  },
  {
    pluginId: '10021',
    alertRef: '10021',
    alert: 'X-Content-Type-Options Header Missing',
    risk: 'Low',
    confidence: 'Medium',
    cweid: '693',
    wascid: '15',
    url: `${TARGET}/about`,
    method: 'GET',
    param: 'x-content-type-options',
  },
  {
    pluginId: '10020',
    alertRef: '10020-1',
    alert: 'Missing Anti-clickjacking Header',
    risk: 'Medium',
    confidence: 'Medium',
    cweid: '1021',
    wascid: '15',
    url: `${TARGET}/`,
    method: 'GET',
    param: 'x-frame-options',
  },
  {
    pluginId: '40012',
    alertRef: '40012',
    alert: 'Cross Site Scripting (Reflected)',
    risk: 'High',
    confidence: 'Medium',
    cweid: '79',
    wascid: '8',
    url: `${TARGET}/search?q=%3CscrIpt%3Ealert%281%29%3B%3C%2FscRipt%3E`,
    method: 'GET',
    param: 'q',
    attack: '<scrIpt>alert(1);</scRipt>',
    evidence: '<scrIpt>alert(1);</scRipt>',
  },
  {
    pluginId: '10010',
    alertRef: '10010',
    alert: 'Cookie No HttpOnly Flag',
    risk: 'Low',
    confidence: 'Medium',
    cweid: '1004',
    wascid: '13',
    url: `${TARGET}/`,
    method: 'GET',
    param: 'sid',
    evidence: 'Set-Cookie: sid',
  },
  {
    pluginId: '10003',
    alertRef: '10003',
    alert: 'Vulnerable JS Library',
    name: 'Vulnerable JS Library',
    risk: 'Medium',
    confidence: 'Medium',
    cweid: '1395',
    wascid: '0',
    url: `${TARGET}/js/jquery-1.8.1.min.js`,
    method: 'GET',
    evidence: 'jquery-1.8.1.min.js',
    description: 'The identified library jquery, version 1.8.1 is vulnerable.',
    solution: 'Upgrade to the latest version of jquery.',
    reference: 'https://nvd.nist.gov/vuln/detail/CVE-2012-6708\nhttps://github.com/jquery/jquery/issues/2432',
  },
  {
    pluginId: '10027',
    alertRef: '10027',
    alert: 'Information Disclosure - Suspicious Comments',
    risk: 'Informational',
    confidence: 'False Positive',
    cweid: '615',
    wascid: '13',
    url: `${TARGET}/`,
    method: 'GET',
  },
];

async function startStub(options: StubOptions = {}) {
  const calls: { path: string; params: Record<string, string>; key: string | undefined }[] = [];
  const polls = new Map<string, number>();
  const finishAfter = options.pollsToFinish ?? 1;
  let records = 2;
  const answer = (path: string, params: Record<string, string>): [number, unknown] => {
    switch (path) {
      case 'core/view/version':
        return [200, { version: '2.15.0' }];
      case 'core/action/accessUrl':
        return [200, { accessUrl: [{ requestHeader: `GET ${params.url} HTTP/1.1` }] }];
      case 'spider/action/scan':
        return [200, { scan: '3' }];
      case 'ascan/action/scan':
        return [200, { scan: '7' }];
      case 'spider/view/status':
      case 'ascan/view/status': {
        const n = (polls.get(path) ?? 0) + 1;
        polls.set(path, n);
        return [200, { status: n > finishAfter ? '100' : String(Math.floor((n / (finishAfter + 1)) * 100)) }];
      }
      case 'spider/action/stop':
      case 'ascan/action/stop':
        return [200, { Result: 'OK' }];
      case 'spider/view/results':
        return [200, { results: [`${TARGET}/`, `${TARGET}/about`, `${TARGET}/search?q=shoes`] }];
      case 'pscan/view/recordsToScan':
        records = Math.max(0, records - 1);
        return [200, { recordsToScan: String(records) }];
      case 'core/view/alerts': {
        const start = Number(params.start ?? 0);
        return [200, { alerts: (options.alerts ?? CANNED_ALERTS).slice(start, start + Number(params.count ?? 500)) }];
      }
      case 'core/view/numberOfMessages':
        return [200, { numberOfMessages: '321' }];
      case 'pscan/view/scanners':
        return [
          200,
          {
            scanners: [
              { id: '10021', name: 'X-Content-Type-Options Header Missing', enabled: 'true' },
              { id: '10096', name: 'Timestamp Disclosure', enabled: 'false' },
            ],
          },
        ];
      case 'ascan/view/scanners':
        return [200, { scanners: [{ id: '40012', name: 'Cross Site Scripting (Reflected)', enabled: 'true' }] }];
      default:
        return [400, { code: 'bad_view', message: `No such view: ${path}` }];
    }
  };
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://stub');
    const path = url.pathname.replace(/^\/JSON\//, '').replace(/\/$/, '');
    const key = req.headers['x-zap-api-key'] as string | undefined;
    calls.push({ path, params: Object.fromEntries(url.searchParams), key });
    const [status, body] =
      options.apiKey && key !== options.apiKey
        ? [403, { code: 'bad_api_key', message: 'Provided API key is illegal' }]
        : answer(path, Object.fromEntries(url.searchParams));
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const stub = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    calls,
    paths: () => calls.map((c) => c.path),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
  stubs.push(stub);
  return stub;
}

const stubs: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(stubs.splice(0).map((s) => s.close()));
});

const input = (overrides: Partial<Parameters<typeof scanWithZapDaemon>[1]> = {}) => ({
  startUrl: `${TARGET}/`,
  mode: 'baseline' as const,
  spider: true,
  signal: new AbortController().signal,
  totalTimeMs: 60_000,
  ...overrides,
});

describe('the ZAP daemon adapter (against a stub of ZAP’s API)', () => {
  it('baseline: spider, passive wait, alerts — with the API key — and no active scan', async () => {
    const stub = await startStub({ apiKey: 'k3y', pollsToFinish: 2 });
    const progress: number[] = [];
    const { findings, result } = await scanWithZapDaemon(
      { apiUrl: stub.url, apiKey: 'k3y', pollIntervalMs: 1 },
      input({ onProgress: (p) => progress.push(p.percent) }),
    );
    expect(stub.calls.every((c) => c.key === 'k3y')).toBe(true);
    const paths = stub.paths();
    expect(paths.slice(0, 3)).toEqual(['core/view/version', 'core/action/accessUrl', 'spider/action/scan']);
    expect(paths.filter((p) => p === 'spider/view/status')).toHaveLength(3);
    expect(paths).toContain('pscan/view/recordsToScan');
    expect(paths.some((p) => p.startsWith('ascan/'))).toBe(false);
    expect(stub.calls.find((c) => c.path === 'spider/action/scan')!.params).toMatchObject({
      url: `${TARGET}/`,
      subtreeOnly: 'true',
    });
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
    expect(progress.at(-1)).toBe(100);

    expect(result).toMatchObject({
      engine: 'zap-daemon',
      zap_version: '2.15.0',
      pages_crawled: 3,
      requests_sent: 321,
      rules_run: [{ pluginid: '10021', name: 'X-Content-Type-Options Header Missing', type: 'passive' }],
    });
    webScanner.resultSchema.parse(result);
    for (const finding of findings) ScannerFinding.parse(finding);
    expect(findings.map((f) => [f.rule_id, f.risk, f.location, f.engine])).toEqual([
      ['zap.40012', 'high', `${TARGET}/search?q`, 'zap-daemon'],
      ['zap.10003', 'medium', `${TARGET}/js/jquery-1.8.1.min.js`, 'zap-daemon'],
      ['zap.10020-1', 'medium', `${TARGET}/`, 'zap-daemon'],
      ['zap.10010', 'low', `${TARGET}/ (cookie sid)`, 'zap-daemon'],
      ['zap.10021', 'low', `${TARGET}/`, 'zap-daemon'],
    ]);
    // A rule our catalog does not know keeps ZAP's own texts.
    const library = findings.find((f) => f.rule_id === 'zap.10003')!;
    expect(library).toMatchObject({
      name: 'Vulnerable JS Library',
      solution: 'Upgrade to the latest version of jquery.',
      cwe: [1395],
    });
    expect(library.references).toEqual([
      'https://nvd.nist.gov/vuln/detail/CVE-2012-6708',
      'https://github.com/jquery/jquery/issues/2432',
    ]);
    // Two instances of a site-wide alert make one finding; the report keeps ZAP's shape.
    expect(result.alerts.find((a) => a.alertRef === '10021')).toMatchObject({
      pluginid: '10021',
      riskcode: '1',
      count: '2',
    });
  });

  it('full: the active scan runs after the passive wait; without the spider only the start URL is accessed', async () => {
    const stub = await startStub();
    const { result } = await scanWithZapDaemon(
      { apiUrl: stub.url, pollIntervalMs: 1 },
      input({ mode: 'full', spider: false }),
    );
    const paths = stub.paths();
    expect(paths.some((p) => p.startsWith('spider/'))).toBe(false);
    expect(paths.indexOf('ascan/action/scan')).toBeGreaterThan(paths.indexOf('pscan/view/recordsToScan'));
    expect(stub.calls.find((c) => c.path === 'ascan/action/scan')!.params).toMatchObject({
      url: `${TARGET}/`,
      recurse: 'true',
    });
    expect(result.rules_run.map((r) => `${r.type}:${r.pluginid}`)).toEqual(['passive:10021', 'active:40012']);
  });

  it('a cancelled scan stops the daemon’s scan', async () => {
    const stub = await startStub({ pollsToFinish: 1_000_000 });
    const controller = new AbortController();
    const running = scanWithZapDaemon(
      { apiUrl: stub.url, pollIntervalMs: 1 },
      input({ signal: controller.signal, onProgress: (p) => p.phase === 'spider' && controller.abort() }),
    );
    await expect(running).rejects.toBeInstanceOf(ScanAbortedError);
    expect(stub.paths()).toContain('spider/action/stop');
  });

  it('a wrong key or an unreachable daemon makes the scanner unavailable', async () => {
    const stub = await startStub({ apiKey: 'right' });
    await expect(scanWithZapDaemon({ apiUrl: stub.url, apiKey: 'wrong' }, input())).rejects.toBeInstanceOf(
      ScannerUnavailableError,
    );
    const [closed] = await closedPorts(1);
    await expect(scanWithZapDaemon({ apiUrl: `http://127.0.0.1:${closed}` }, input())).rejects.toBeInstanceOf(
      ScannerUnavailableError,
    );
  });

  it('drops false positives and keeps ZAP’s risk per instance', () => {
    const { raised, definitions } = mapZapAlerts(CANNED_ALERTS);
    expect(raised.map((a) => a.alertRef)).not.toContain('10027');
    expect(definitions.has('10003')).toBe(true);
    expect(raised.find((a) => a.alertRef === '40012')).toMatchObject({ risk: 3, confidence: 2, param: 'q' });
  });

  it('the plug-in’s runner drives the daemon when ZAP_API_URL is set', async () => {
    const stub = await startStub({ apiKey: 'k' });
    const runner = await webScanner.loadRunner!({ ZAP_API_URL: stub.url, ZAP_API_KEY: 'k' });
    const job: ScanJobInput = {
      host: '127.0.0.1',
      target: {
        id: 't',
        value: `${TARGET}/`,
        type: 'url',
        hostname: 'shop.example.com',
        url: { scheme: 'http', port: 80, path: '/' },
      },
      config: { scan_mode: 'baseline', spider_enabled: false },
      timeoutMs: 120_000,
      signal: new AbortController().signal,
      onProgress: () => {},
      scanId: 's',
      targetValue: `${TARGET}/`,
      targetType: 'url',
    };
    const output = await runner(job);
    expect(output.scanResult).toMatchObject({ engine: 'zap-daemon', start_url: `${TARGET}/` });
    expect(stub.calls.find((c) => c.path === 'core/action/accessUrl')!.params.url).toBe(`${TARGET}/`);
    expect(output.findings.every((f) => f.engine === 'zap-daemon')).toBe(true);
  });
});
