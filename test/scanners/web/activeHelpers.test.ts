import { describe, expect, it } from 'vitest';
import { identify } from '../../../domain/shared/finding.js';
import { createAlertReport, locationOf } from '../../../scanners/web/alertReport.js';
import { defaultValue, endpointsOf, insertionPointsOf } from '../../../scanners/web/endpoints.js';
import { baselineOf, sameAsBaseline } from '../../../scanners/web/responseDiff.js';
import { findQueryError } from '../../../scanners/web/sqlErrors.js';
import { executableProof, jsStateAt, reflectionContexts, xssPayloads } from '../../../scanners/web/xssContext.js';
import { boundedResult, RESULT_BUDGET_BYTES, type WebScanResult } from '../../../scanners/web/webResult.js';
import { ZAP_ALERTS, zapAlert } from '../../../scanners/web/zapRules.js';

describe('XSS contexts and proofs', () => {
  it('finds where a marker lands', () => {
    const html = `<p>zqm</p><input value="zqm"><a href='zqm'>x</a><!-- zqm --><script>var a = 'zqm'; var b = zqm;</script><textarea>zqm</textarea>`;
    const kinds = reflectionContexts(html, 'zqm').map((c) =>
      c.kind === 'script'
        ? `script:${c.state}`
        : c.kind === 'attribute'
          ? `attribute:${c.name}:${c.quote}:${c.atStart}`
          : c.kind,
    );
    expect(kinds).toEqual([
      'html',
      'attribute:value:":true',
      "attribute:href:':true",
      'comment',
      "script:'",
      'script:code',
      'rcdata',
    ]);
  });

  it('proposes payloads for the contexts found', () => {
    let n = 0;
    const next = () => String(++n);
    const payloads = xssPayloads([{ kind: 'attribute', quote: '"', name: 'href', atStart: true }], next).map(
      (p) => p.payload,
    );
    expect(payloads[0]).toBe('javascript:alert(1)');
    expect(payloads).toContain('"><scrIpt>alert(2)</scrIpt>');
    expect(xssPayloads([{ kind: 'script', state: "'" }], next)[0]!.payload).toMatch(/^';alert\(\d+\);\/\/$/);
  });

  it('accepts only payloads that would run', () => {
    expect(executableProof('<p><scrIpt>alert(42)</scrIpt></p>', '42')).toContain('alert(42)');
    expect(executableProof('<p>&lt;script&gt;alert(42)&lt;/script&gt;</p>', '42')).toBeNull();
    expect(executableProof('<textarea><script>alert(42)</script></textarea>', '42')).toBeNull();
    expect(executableProof('<input value="x" onfocus=alert(42) x="">', '42')).toContain('onfocus');
    expect(executableProof('<input value="&quot; onfocus=alert(42)">', '42')).toBeNull();
    expect(executableProof('<a href="javascript:alert(42)">x</a>', '42')).toContain('href');
    expect(executableProof("<script>var a = '';alert(42);//';</script>", '42')).toContain('alert(42)');
    expect(executableProof("<script>var a = '\\';alert(42);//';</script>", '42')).toBeNull();
    expect(executableProof('<!-- <script>alert(42)</script> -->', '42')).toBeNull();
    expect(jsStateAt('a = "x" + `y', 11)).toBe('`');
  });
});

describe('query error messages', () => {
  it('recognizes databases, XPath and LDAP', () => {
    expect(
      findQueryError(
        'You have an error in your SQL syntax; check the manual that corresponds to your MySQL server version',
      ),
    ).toMatchObject({ language: 'SQL', dbms: 'MySQL' });
    expect(findQueryError('ERROR:  syntax error at or near "x"')).toMatchObject({ dbms: 'PostgreSQL' });
    expect(findQueryError('Unclosed quotation mark after the character string')).toMatchObject({
      dbms: 'Microsoft SQL Server',
    });
    expect(findQueryError('ORA-01756: quoted string not properly terminated')).toMatchObject({ dbms: 'Oracle' });
    expect(findQueryError('sqlite3.OperationalError: unrecognized token: "\'"')).toMatchObject({ dbms: 'SQLite' });
    expect(findQueryError('org.apache.xpath.XPathException: Expected ]')).toMatchObject({ language: 'XPath' });
    expect(findQueryError('InvalidSearchFilterException: Bad search filter')).toMatchObject({ language: 'LDAP' });
    expect(findQueryError('<p>We sell SQL books and MySQL mugs.</p>')).toBeNull();
  });
});

describe('page comparison', () => {
  it('ignores what changes between two fetches and what was sent', () => {
    const page = (token: string, extra = '', results = 'Results for 1') =>
      `<p>Red shoes</p>\n<input type="hidden" value="${token}">\n<p>${results}</p>\n<p>${extra}</p>`;
    const a = { status: 200, body: page('9f86d081884c7d659a2f', 'ad 1') };
    const b = { status: 200, body: page('60303ae22b998861bce3', 'ad 2') };
    const baseline = baselineOf(a, b);
    expect(sameAsBaseline({ status: 200, body: page('fd61a03af4f77d870fc2', 'ad 1') }, baseline)).toBe(true);
    expect(
      sameAsBaseline(
        { status: 200, body: page('a4e624d686e03ed2767c', 'ad 1', "Results for 1' AND '1'='1") },
        baseline,
        ["' AND '1'='1"],
      ),
    ).toBe(true);
    expect(sameAsBaseline({ status: 200, body: page('a4e624d686e03ed2767c', 'ad 1', 'No products') }, baseline)).toBe(
      false,
    );
    expect(sameAsBaseline({ ...a, status: 500 }, baseline)).toBe(false);
  });
});

describe('insertion points', () => {
  it('fills empty fields as a person would and attacks each parameter once per endpoint', () => {
    expect(defaultValue({ name: 'email', type: 'text', value: '' })).toBe('secably@example.com');
    expect(defaultValue({ name: 'qty', type: 'text', value: '' })).toBe('1');
    expect(defaultValue({ name: 'x', type: 'text', value: 'kept' })).toBe('kept');
    const endpoints = endpointsOf(
      [
        { url: 'http://a.test/p.php?id=1&sort=asc', status: 200, contentType: 'text/html', depth: 1, length: 1 },
        { url: 'http://a.test/p.php?id=2&sort=desc', status: 200, contentType: 'text/html', depth: 1, length: 1 },
        { url: 'http://a.test/gone?x=1', status: 404, contentType: 'text/html', depth: 1, length: 1 },
      ],
      [
        {
          pageUrl: 'http://a.test/',
          action: 'http://a.test/login',
          method: 'POST',
          enctype: 'application/x-www-form-urlencoded',
          fields: [
            { name: 'user', type: 'text', value: '' },
            { name: 'go', type: 'submit', value: 'Go' },
          ],
          tag: '<form>',
        },
      ],
    );
    expect(endpoints.map((e) => `${e.method} ${e.baseUrl} ${e.params.map(([n, v]) => `${n}=${v}`).join('&')}`)).toEqual(
      ['GET http://a.test/p.php id=1&sort=asc', 'POST http://a.test/login user=secably&go=Go'],
    );
    expect(insertionPointsOf(endpoints).map((p) => p.param)).toEqual(['id', 'sort', 'user', 'go']);
  });
});

describe('alert report', () => {
  it('locates findings by scope, names them by ZAP rule id and keeps their identity across runs', () => {
    const start = 'https://shop.example.com/app/';
    const site = zapAlert('10021');
    expect(
      locationOf(site, { alertRef: '10021', uri: 'https://shop.example.com/app/x?y=1', method: 'GET' }, start),
    ).toBe(start);
    expect(locationOf(zapAlert('10010'), { alertRef: '10010', uri: start, method: 'GET', param: 'sid' }, start)).toBe(
      `${start} (cookie sid)`,
    );
    expect(
      locationOf(
        zapAlert('40012'),
        { alertRef: '40012', uri: 'https://shop.example.com/s?q=%3Cx%3E&p=1', method: 'GET', param: 'q' },
        start,
      ),
    ).toBe('https://shop.example.com/s?q');
    expect(
      locationOf(
        zapAlert('90022'),
        { alertRef: '90022', uri: 'https://shop.example.com/s?id=%27', method: 'GET', locationParam: 'id' },
        start,
      ),
    ).toBe('https://shop.example.com/s?id');

    const run = (order: number[]) => {
      const report = createAlertReport({ startUrl: start, engine: 'zap' });
      const alerts = [
        { alertRef: '10021', uri: `${start}a`, method: 'GET' },
        { alertRef: '10021', uri: `${start}b`, method: 'GET' },
        {
          alertRef: '40012',
          uri: 'https://shop.example.com/s?q=1',
          method: 'GET',
          param: 'q',
          proof: { request: 'GET /s?q=1', response: 'HTTP/1.1 200' },
        },
      ];
      for (const i of order) report.raise(alerts[i]!);
      return report;
    };
    const first = run([0, 1, 2]);
    const second = run([2, 1, 0]);
    const ids = (r: ReturnType<typeof run>) =>
      r
        .findings()
        .map((f) => identify(f, { targetId: 't1', scannerType: 'zap' }).fingerprint)
        .sort();
    expect(ids(first)).toEqual(ids(second));
    const findings = first.findings();
    expect(findings.map((f) => [f.rule_id, f.risk, f.location])).toEqual([
      ['zap.40012', 'high', 'https://shop.example.com/s?q'],
      ['zap.10021', 'low', start],
    ]);
    expect(findings[0]!.evidence).toContain('Request:');
    expect(findings[1]!.evidence).toContain(`${start}a`);
    const [xss] = first.reportAlerts();
    expect(xss).toMatchObject({
      pluginid: '40012',
      riskcode: '3',
      confidence: '2',
      riskdesc: 'High (Medium)',
      cweid: '79',
      wascid: '8',
      count: '1',
    });
    expect(xss!.instances[0]).toMatchObject({ uri: 'https://shop.example.com/s?q=1', method: 'GET', param: 'q' });
  });
});

describe('the result’s size budget', () => {
  it('cuts instances, URLs and texts until the result fits, and says so', () => {
    const report = createAlertReport({ startUrl: 'https://a.test/', engine: 'zap' });
    const long = 'x'.repeat(2_000);
    for (const alertRef of ZAP_ALERTS.keys()) {
      for (let i = 0; i < 200; i++) {
        report.raise({
          alertRef,
          uri: `https://a.test/p${i}?${long}`,
          method: 'GET',
          param: `p${i}`,
          evidence: long,
          otherinfo: long,
          attack: long,
        });
      }
    }
    const build = (instances: number): WebScanResult => ({
      engine: 'zap',
      mode: 'full',
      spider: true,
      site: 'https://a.test',
      start_url: 'https://a.test/',
      pages_crawled: 1000,
      requests_sent: 1,
      duration_ms: 1,
      rules_run: [],
      alerts: report.reportAlerts(instances),
      urls: Array.from({ length: 200 }, (_, i) => `https://a.test/${i}/${long}`),
      off_origin: { links: [], redirects: [], forms: [], scripts: [] },
      limits_reached: [],
      truncated: false,
      notes: [],
    });
    expect(JSON.stringify(build(10)).length).toBeGreaterThan(RESULT_BUDGET_BYTES);
    const bounded = boundedResult(build);
    expect(Buffer.byteLength(JSON.stringify(bounded))).toBeLessThanOrEqual(RESULT_BUDGET_BYTES);
    expect(bounded.truncated).toBe(true);
    expect(bounded.alerts.length).toBeGreaterThan(0);
  });
});
