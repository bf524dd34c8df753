import { describe, expect, it } from 'vitest';
import {
  entropy,
  findApplicationError,
  findDirectoryListing,
  javaScriptComments,
  parseCsp,
  parseSetCookie,
  passiveAlerts,
  redactedCookie,
  type ObservedExchange,
} from '../../../scanners/web/passiveRules.js';
import { ZAP_ALERTS } from '../../../scanners/web/zapRules.js';

const NOW = Date.parse('2026-06-01T00:00:00Z');

/** A response with every defence in place; each test takes one away. */
const SAFE_HEADERS: Record<string, string> = {
  'content-type': 'text/html; charset=utf-8',
  'content-security-policy':
    "default-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'",
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'strict-transport-security': 'max-age=31536000',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-embedder-policy': 'require-corp',
  'cross-origin-resource-policy': 'same-origin',
  'cache-control': 'no-store',
};

function exchange(
  overrides: {
    headers?: Record<string, string | undefined>;
    setCookies?: string[];
    body?: string;
    status?: number;
    url?: string;
  } = {},
): ObservedExchange {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries({ ...SAFE_HEADERS, ...overrides.headers })) {
    if (value !== undefined) headers[name] = value;
  }
  const rawHeaders: [string, string][] = Object.entries(headers);
  for (const cookie of overrides.setCookies ?? []) rawHeaders.push(['Set-Cookie', cookie]);
  return {
    url: overrides.url ?? 'https://shop.example.com/account',
    method: 'GET',
    status: overrides.status ?? 200,
    headers,
    rawHeaders,
    setCookies: overrides.setCookies ?? [],
    body: overrides.body ?? '<html><head><title>t</title></head><body><p>Hello</p></body></html>',
    requestHadCredentials: false,
  };
}

const refs = (e: ObservedExchange) => passiveAlerts(e, { now: NOW }).map((a) => a.alertRef);

describe('passive rules (ZAP ids)', () => {
  it('a response with every defence raises nothing, and every alert raised is in the catalog', () => {
    expect(refs(exchange())).toEqual([]);
    const all = passiveAlerts(
      exchange({
        headers: Object.fromEntries(Object.keys(SAFE_HEADERS).map((k) => [k, undefined])),
        setCookies: ['a=1'],
      }),
      { now: NOW },
    );
    expect(all.length).toBeGreaterThan(5);
    for (const alert of all) expect(ZAP_ALERTS.has(alert.alertRef), alert.alertRef).toBe(true);
  });

  it('10010 / 10011 / 10054: cookie flags; Secure only over HTTPS; deletions ignored; values redacted', () => {
    const bare = exchange({ setCookies: ['session=abcdef123456; Path=/'] });
    const raised = passiveAlerts(bare, { now: NOW });
    expect(raised.map((a) => a.alertRef).sort()).toEqual(['10010', '10011', '10054-1']);
    expect(raised.every((a) => a.param === 'session')).toBe(true);
    expect(raised[0]!.evidence).toBe('session=ab…; Path=/');
    expect(refs(exchange({ setCookies: ['s=1; HttpOnly; Secure; SameSite=Lax'] }))).toEqual([]);
    expect(refs(exchange({ setCookies: ['s=1; HttpOnly; Secure; SameSite=None'] }))).toEqual(['10054-2']);
    expect(refs(exchange({ setCookies: ['s=1; HttpOnly; Secure; SameSite=Sometimes'] }))).toEqual(['10054-3']);
    expect(
      refs(
        exchange({
          url: 'http://shop.example.com/',
          setCookies: ['s=1; HttpOnly; SameSite=Lax'],
          headers: { 'strict-transport-security': undefined },
        }),
      ),
    ).toEqual([]);
    expect(refs(exchange({ setCookies: ['s=; Max-Age=0'] }))).toEqual([]);
    expect(refs(exchange({ setCookies: ['s=x; Expires=Thu, 01 Jan 1970 00:00:00 GMT'] }))).toEqual([]);
  });

  it('10020: anti-clickjacking on HTML pages (CSP frame-ancestors counts; malformed, multiple, meta)', () => {
    const noCsp = {
      'content-security-policy': "default-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'",
    };
    expect(refs(exchange({ headers: { ...noCsp, 'x-frame-options': undefined } }))).toContain('10020-1');
    expect(refs(exchange({ headers: { 'x-frame-options': undefined } }))).not.toContain('10020-1');
    expect(refs(exchange({ headers: { ...noCsp, 'x-frame-options': 'ALLOWALL' } }))).toContain('10020-4');
    const twice = exchange({ headers: noCsp });
    const withTwo = {
      ...twice,
      rawHeaders: [...twice.rawHeaders, ['X-Frame-Options', 'SAMEORIGIN'] as [string, string]],
    };
    expect(refs(withTwo)).toContain('10020-2');
    expect(
      refs(
        exchange({
          headers: noCsp,
          body: '<html><head><meta http-equiv="X-Frame-Options" content="DENY"></head></html>',
        }),
      ),
    ).toContain('10020-3');
    expect(
      refs(
        exchange({
          headers: { ...noCsp, 'x-frame-options': undefined, 'content-type': 'application/json' },
          body: '{}',
        }),
      ),
    ).not.toContain('10020-1');
    expect(refs(exchange({ headers: { ...noCsp, 'x-frame-options': undefined }, status: 404 }))).not.toContain(
      '10020-1',
    );
  });

  it('10021: X-Content-Type-Options missing or not nosniff', () => {
    expect(refs(exchange({ headers: { 'x-content-type-options': undefined } }))).toEqual(['10021']);
    expect(refs(exchange({ headers: { 'x-content-type-options': 'sniff' } }))).toEqual(['10021']);
    expect(refs(exchange({ headers: { 'x-content-type-options': undefined }, status: 302, body: '' }))).toEqual([]);
  });

  it('10035: HSTS on HTTPS only (missing, disabled, no max-age); not on a same-host HTTPS redirect', () => {
    expect(refs(exchange({ headers: { 'strict-transport-security': undefined } }))).toEqual(['10035-1']);
    expect(refs(exchange({ headers: { 'strict-transport-security': 'max-age=0' } }))).toEqual(['10035-2']);
    expect(refs(exchange({ headers: { 'strict-transport-security': 'includeSubDomains' } }))).toEqual(['10035-5']);
    expect(
      refs(exchange({ url: 'http://shop.example.com/', headers: { 'strict-transport-security': undefined } })),
    ).toEqual([]);
    expect(
      refs(
        exchange({
          status: 301,
          body: '',
          headers: { 'strict-transport-security': undefined, location: 'https://shop.example.com/a' },
        }),
      ),
    ).toEqual([]);
  });

  it('10038 / 10055: CSP missing, report-only, and weak (wildcards, unsafe-inline/eval, no fallback)', () => {
    expect(refs(exchange({ headers: { 'content-security-policy': undefined, 'x-frame-options': 'DENY' } }))).toEqual([
      '10038-1',
    ]);
    expect(
      refs(
        exchange({
          headers: {
            'content-security-policy': undefined,
            'content-security-policy-report-only': "default-src 'self'",
          },
        }),
      ),
    ).toEqual(['10038-3']);
    const weak = refs(
      exchange({ headers: { 'content-security-policy': "default-src * 'unsafe-inline' 'unsafe-eval'" } }),
    );
    expect(weak).toEqual(expect.arrayContaining(['10055-4', '10055-5', '10055-6', '10055-10', '10055-13']));
    expect(
      refs(
        exchange({
          headers: {
            'content-security-policy':
              "default-src 'self'; script-src 'self' 'unsafe-inline' 'nonce-abc'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'",
          },
        }),
      ),
    ).toEqual([]);
    expect(parseCsp("default-src 'self'; SCRIPT-SRC https://a.example").get('script-src')).toEqual([
      'https://a.example',
    ]);
    // A policy in a meta tag counts.
    expect(
      refs(
        exchange({
          headers: { 'content-security-policy': undefined },
          body: `<html><head><meta http-equiv="Content-Security-Policy" content="${SAFE_HEADERS['content-security-policy']}"></head></html>`,
        }),
      ),
    ).toEqual([]);
  });

  it('10036 / 10037: Server with or without a version, X-Powered-By', () => {
    expect(refs(exchange({ headers: { server: 'Apache/2.4.49 (Unix)' } }))).toEqual(['10036-2']);
    expect(refs(exchange({ headers: { server: 'nginx' } }))).toEqual(['10036-1']);
    expect(refs(exchange({ headers: { 'x-powered-by': 'PHP/7.2.1' } }))).toEqual(['10037']);
  });

  it('10015: session pages over HTTPS without no-store', () => {
    const sensitive = exchange({
      headers: { 'cache-control': 'public, max-age=600' },
      setCookies: ['s=1; HttpOnly; Secure; SameSite=Lax'],
    });
    expect(refs(sensitive)).toEqual(['10015']);
    expect(refs(exchange({ headers: { 'cache-control': 'public, max-age=600' } }))).toEqual([]);
    const withPassword = exchange({
      headers: { 'cache-control': undefined },
      body: '<form method="post"><input type="hidden" name="csrf_token" value="a8Fk29dLq0ZxP3"><input type="password" name="p"></form>',
    });
    expect(refs(withPassword)).toEqual(['10015']);
  });

  it('10017: scripts from another host without integrity', () => {
    const body =
      '<script src="https://cdn.other.example/a.js"></script><script src="/own.js"></script><script src="https://cdn.other.example/b.js" integrity="sha384-x"></script>';
    const raised = passiveAlerts(exchange({ body }), { now: NOW });
    expect(raised.map((a) => [a.alertRef, a.param])).toEqual([['10017', 'https://cdn.other.example/a.js']]);
  });

  it('10027: suspicious words in HTML and JavaScript comments, once per word', () => {
    const body =
      '<!-- TODO: remove --><!-- todo again --><p>FROM</p><script>var a = "// not a comment"; /* DEBUG mode */</script>';
    const raised = passiveAlerts(exchange({ body }), { now: NOW }).filter((a) => a.alertRef === '10027');
    expect(raised.map((a) => a.otherinfo?.match(/"(\w+)"/)?.[1]).sort()).toEqual(['DEBUG', 'TODO']);
    expect(javaScriptComments('a = "//x"; // real\n/* block */ b = `/*`;')).toEqual(['// real', '/* block */']);
    const js = exchange({
      url: 'https://shop.example.com/app.js',
      headers: { 'content-type': 'application/javascript' },
      body: '// FIXME later\nx()',
    });
    expect(refs(js)).toEqual(['10027']);
  });

  it('10096: Unix timestamps within ten years, not in caching headers', () => {
    const stamp = String(NOW / 1000 - 86_400);
    expect(refs(exchange({ body: `<div data-build="${stamp}"></div>` }))).toEqual(['10096']);
    expect(refs(exchange({ body: '<div data-id="1000000000"></div>' }))).toEqual([]);
    expect(refs(exchange({ headers: { etag: stamp } }))).toEqual([]);
  });

  it('10098: CORS open to any origin', () => {
    expect(refs(exchange({ headers: { 'access-control-allow-origin': '*' } }))).toEqual(['10098']);
    expect(refs(exchange({ headers: { 'access-control-allow-origin': 'https://shop.example.com' } }))).toEqual([]);
  });

  it('10202: POST forms without a token, or with a predictable one; GET and off-site forms are not reported', () => {
    expect(refs(exchange({ body: '<form method="post" action="/pay"><input name="amount"></form>' }))).toEqual([
      '10202',
    ]);
    expect(
      refs(exchange({ body: '<form method="post"><input type="hidden" name="csrf_token" value="1111"></form>' })),
    ).toEqual(['10202']);
    expect(
      refs(
        exchange({
          body: '<form method="post"><input type="hidden" name="authenticity_token" value="k3J9xQ2mZ8pL0vB7"></form>',
        }),
      ),
    ).toEqual([]);
    expect(refs(exchange({ body: '<form action="/search"><input name="q"></form>' }))).toEqual([]);
    expect(
      refs(
        exchange({ body: '<form method="post" action="https://newsletter.example.net/join"><input name="e"></form>' }),
      ),
    ).toEqual([]);
    expect(entropy('aaaa')).toBe(0);
    expect(entropy('abcd')).toBe(2);
  });

  it('90004: site isolation headers (CORP, COEP and COOP on documents)', () => {
    expect(refs(exchange({ headers: { 'cross-origin-resource-policy': undefined } }))).toEqual(['90004-1']);
    expect(refs(exchange({ headers: { 'cross-origin-embedder-policy': 'unsafe-none' } }))).toEqual(['90004-2']);
    expect(refs(exchange({ headers: { 'cross-origin-opener-policy': undefined } }))).toEqual(['90004-3']);
    expect(
      refs(
        exchange({
          headers: {
            'content-type': 'application/json',
            'cross-origin-opener-policy': undefined,
            'cross-origin-embedder-policy': undefined,
          },
          body: '{}',
        }),
      ),
    ).toEqual([]);
    expect(
      refs(
        exchange({
          headers: { 'cross-origin-resource-policy': undefined, 'access-control-allow-origin': 'https://a.example' },
        }),
      ),
    ).toEqual([]);
  });

  it('90022: error messages and 500 responses', () => {
    expect(refs(exchange({ body: '<p>You have an error in your SQL syntax near</p>' }))).toEqual(['90022']);
    const failed = passiveAlerts({ ...exchange(), status: 500, statusText: 'Internal Server Error' }, { now: NOW });
    expect(failed.map((a) => [a.alertRef, a.risk, a.evidence])).toEqual([
      ['90022', 1, 'HTTP/1.1 500 Internal Server Error'],
    ]);
    expect(findApplicationError('Traceback (most recent call last):\n  File "app.py"')).toBe(
      'Traceback (most recent call last):',
    );
    expect(findApplicationError('    at Object.handler (/srv/app/index.js:12:5)')).toMatch(/index\.js/);
    expect(findApplicationError('<p>An internal error? No: just prose about errors.</p>')).toBeNull();
  });

  it('10033: directory listings of common servers', () => {
    expect(refs(exchange({ body: '<html><head><title>Index of /files</title></head></html>' }))).toEqual(['10033']);
    expect(findDirectoryListing('<title>Directory listing for /</title>')?.server).toBe('Python http.server');
    expect(findDirectoryListing('<title>Indexes are fun</title>')).toBeNull();
  });

  it('10040: HTTPS pages loading HTTP content (scripts are worse)', () => {
    const image = passiveAlerts(exchange({ body: '<img src="http://cdn.example.net/a.png">' }), { now: NOW });
    expect(image.map((a) => [a.alertRef, a.name, a.risk])).toEqual([['10040', undefined, undefined]]);
    const script = passiveAlerts(
      exchange({ body: '<script src="http://cdn.example.net/a.js" integrity="sha384-x"></script>' }),
      { now: NOW },
    );
    expect(script.map((a) => [a.alertRef, a.name, a.risk])).toEqual([
      ['10040', 'Secure Pages Include Mixed Content (Including Scripts)', 2],
    ]);
    expect(
      refs(
        exchange({
          url: 'http://shop.example.com/',
          headers: { 'strict-transport-security': undefined },
          body: '<img src="http://cdn.example.net/a.png">',
        }),
      ),
    ).toEqual([]);
  });

  it('parses and redacts Set-Cookie', () => {
    expect(parseSetCookie('a=b=c; Path=/; HttpOnly')).toMatchObject({ name: 'a', value: 'b=c' });
    expect(redactedCookie('token=supersecretvalue; Secure')).toBe('token=su…; Secure');
  });
});
