import { createServer as createHttpsServer } from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ScanAbortedError, TargetUnreachableError } from '../../../scanners/shared/errors.js';
import { loadUserTemplates } from '../../../scanners/nuclei/nuclei.scanner.js';
import type { LoadedTemplate } from '../../../scanners/nuclei/nucleiFindings.js';
import { NucleiScanResultSchema } from '../../../scanners/nuclei/nucleiResult.js';
import {
  boundResult,
  chooseOrigin,
  normalizeBasePath,
  requestPath,
  runTemplates,
  runTemplateScan,
  templateVariables,
} from '../../../scanners/nuclei/nucleiScan.js';
import { parseTemplate } from '../../../scanners/nuclei/templateParser.js';
import { selfSignedCertificate } from '../../support/certificates.js';
import { closedPorts } from '../../support/listeners.js';
import { html, startHttpApp, text, type HttpApp } from './httpApp.js';

let app: HttpApp;
let elsewhere: HttpApp;
beforeAll(async () => {
  app = await startHttpApp();
  elsewhere = await startHttpApp({ fallback: text('you reached the wrong host') });
});
afterAll(async () => {
  await app?.close();
  await elsewhere?.close();
});

const user = (yaml: string, ref = '00000000-0000-4000-8000-000000000001'): LoadedTemplate => ({
  template: parseTemplate(yaml),
  source: 'user',
  ref,
  sha256: 'x',
});

const template = (id: string, body: string) =>
  `id: ${id}\ninfo:\n  name: ${id}\n  author: test\n  severity: medium\nhttp:\n${body}`;

function run(templates: readonly LoadedTemplate[], options: { basePath?: string; maxRequests?: number } = {}) {
  return runTemplates({
    address: '127.0.0.1',
    origin: { scheme: 'http', hostname: 'app.test', port: app.port },
    ...(options.basePath !== undefined ? { basePath: options.basePath } : {}),
    mode: 'full',
    signal: new AbortController().signal,
    templates,
    ...(options.maxRequests !== undefined ? { budget: { maxRequests: options.maxRequests } } : {}),
  });
}

describe('the engine never leaves the target', () => {
  it('does not follow a redirect to another host or port: nothing reaches the second listener', async () => {
    app.use({
      routes: {
        '/go': { status: 302, headers: { location: `http://127.0.0.1:${elsewhere.port}/stolen` }, body: '' },
        '/go-name': { status: 301, headers: { location: `http://other.test:${elsewhere.port}/` }, body: '' },
        '/go-scheme': { status: 302, headers: { location: `https://app.test:${app.port}/` }, body: '' },
      },
    });
    elsewhere.reset();
    const redirecting = user(
      template(
        'follow-me',
        '  - path: ["{{BaseURL}}/go", "{{BaseURL}}/go-name", "{{BaseURL}}/go-scheme"]\n    redirects: true\n    max-redirects: 5\n    matchers:\n      - type: word\n        words: ["wrong host"]\n',
      ),
    );
    const { findings, result } = await run([redirecting]);
    expect(findings).toEqual([]);
    expect(elsewhere.requests).toEqual([]);
    expect(result.stats.off_target_refused).toEqual(
      expect.arrayContaining([
        `http://127.0.0.1:${elsewhere.port}/stolen`,
        `http://other.test:${elsewhere.port}/`,
        `https://app.test:${app.port}/`,
      ]),
    );
  });

  it('follows redirects on the target origin when the template asks, up to max-redirects', async () => {
    app.use({
      routes: {
        '/a': { status: 302, headers: { location: '/b' }, body: '' },
        '/b': { status: 302, headers: { location: `http://app.test:${app.port}/c` }, body: '' },
        '/c': text('arrived'),
      },
    });
    const follow = (max: number) =>
      user(
        template(
          `follow-${max}`,
          `  - path: ["{{BaseURL}}/a"]\n    redirects: true\n    max-redirects: ${max}\n    matchers:\n      - type: word\n        words: ["arrived"]\n`,
        ),
      );
    expect((await run([follow(2)])).findings).toHaveLength(1);
    expect((await run([follow(1)])).findings).toHaveLength(0);
    const noRedirects = user(
      template(
        'no-follow',
        '  - path: ["{{BaseURL}}/a"]\n    matchers:\n      - type: status\n        status: [302]\n',
      ),
    );
    expect((await run([noRedirects])).findings).toHaveLength(1);
  });

  it('refuses, at load, a user template that names another host', () => {
    const loaded = loadUserTemplates([
      {
        id: 'u1',
        template_id: 'evil',
        sha256: 'x',
        yaml: template(
          'evil',
          '  - path: ["http://169.254.169.254/latest"]\n    matchers:\n      - type: status\n        status: [200]\n',
        ),
      },
    ]);
    expect(loaded.templates).toEqual([]);
    expect(loaded.failed[0]!.error).toMatch(/absolute URL/);
  });

  it('sends Host and builds every reported URL from the target name, connecting to the address', async () => {
    app.use({ routes: { '/x': text('hello') } });
    const { result, findings } = await run([
      user(
        template(
          'host-check',
          '  - path: ["{{BaseURL}}/x"]\n    matchers:\n      - type: word\n        words: ["hello"]\n',
        ),
      ),
    ]);
    expect(app.requests.find((r) => r.path === '/x')!.headers.host).toBe(`app.test:${app.port}`);
    expect(findings[0]!.location).toBe(`http://app.test:${app.port}/x`);
    expect(result.results[0]!['curl-command']).toContain(`'http://app.test:${app.port}/x'`);
    expect(JSON.stringify(result)).not.toContain('127.0.0.1');
  });
});

describe('the shared request cache', () => {
  it('sends a request several templates need once, and counts the saved ones', async () => {
    app.use({ routes: { '/shared': text('one answer') } });
    const templates = [1, 2, 3].map((n) =>
      user(
        template(
          `shared-${n}`,
          '  - path: ["{{BaseURL}}/shared"]\n    matchers:\n      - type: word\n        words: ["answer"]\n',
        ),
        `ref-${n}`,
      ),
    );
    const { result, findings } = await run(templates);
    expect(findings).toHaveLength(3);
    expect(app.requests.filter((r) => r.path === '/shared')).toHaveLength(1);
    // The probe of {{BaseURL}} plus /shared went out; the two other /shared were served from the cache.
    expect(result.stats.requests_sent).toBe(2);
    expect(result.stats.requests_saved_by_cache).toBe(2);
  });

  it('does not share requests that differ in method, headers or body', async () => {
    app.use({ fallback: text('ok') });
    const a = user(
      template('plain', '  - path: ["{{BaseURL}}/p"]\n    matchers:\n      - type: status\n        status: [200]\n'),
      'a',
    );
    const b = user(
      template(
        'with-header',
        '  - path: ["{{BaseURL}}/p"]\n    headers:\n      X-Test: 1\n    matchers:\n      - type: status\n        status: [200]\n',
      ),
      'b',
    );
    const c = user(
      template(
        'posted',
        '  - method: POST\n    path: ["{{BaseURL}}/p"]\n    body: "a=1"\n    matchers:\n      - type: status\n        status: [200]\n',
      ),
      'c',
    );
    await run([a, b, c]);
    expect(app.requests.filter((r) => r.path === '/p')).toHaveLength(3);
  });
});

describe('budgets, failures and cancellation', () => {
  it('stops early when the request budget is used, keeping what it found', async () => {
    app.use({ fallback: text('ok') });
    const many = Array.from({ length: 10 }, (_, n) =>
      user(
        template(
          `t${n}`,
          `  - path: ["{{BaseURL}}/${n}"]\n    matchers:\n      - type: status\n        status: [200]\n`,
        ),
        `r${n}`,
      ),
    );
    const { result, findings } = await run(many, { maxRequests: 4 });
    expect(result.stats.stopped_early).toMatch(/budget of 4 requests/);
    expect(result.stats.requests_sent).toBe(4);
    expect(findings.length).toBeLessThanOrEqual(3);
  });

  it('fails with TargetUnreachableError when nothing answers HTTP', async () => {
    const [port] = await closedPorts(1);
    await expect(
      runTemplateScan({
        address: '127.0.0.1',
        origin: { scheme: 'http', hostname: 'app.test', port: port! },
        mode: 'quick',
        signal: new AbortController().signal,
      }),
    ).rejects.toBeInstanceOf(TargetUnreachableError);
  });

  it('stops at once when aborted', async () => {
    app.use({ fallback: text('ok') });
    const controller = new AbortController();
    controller.abort('cancelled');
    await expect(
      runTemplateScan({
        address: '127.0.0.1',
        origin: { scheme: 'http', hostname: 'app.test', port: app.port },
        mode: 'quick',
        signal: controller.signal,
      }),
    ).rejects.toBeInstanceOf(ScanAbortedError);
  });

  it('reports progress that never goes back, ending at 100', async () => {
    app.use({ fallback: html('<html>hi</html>') });
    const seen: number[] = [];
    await runTemplateScan({
      address: '127.0.0.1',
      origin: { scheme: 'http', hostname: 'app.test', port: app.port },
      mode: 'quick',
      signal: new AbortController().signal,
      onProgress: (p) => seen.push(p.percent),
    });
    expect(seen.at(-1)).toBe(100);
    expect(seen).toEqual([...seen].sort((x, y) => x - y));
  });
});

describe('target URLs and placeholders', () => {
  it('computes nuclei placeholders for a URL target', () => {
    const origin = { scheme: 'https' as const, hostname: 'shop.example', port: 8443 };
    expect(templateVariables(origin, normalizeBasePath('/store/app/?q=1'))).toEqual({
      BaseURL: 'https://shop.example:8443/store/app',
      RootURL: 'https://shop.example:8443',
      Hostname: 'shop.example:8443',
      Host: 'shop.example',
      Port: '8443',
      Path: '/store',
    });
    expect(templateVariables({ scheme: 'http', hostname: 'a.test', port: 80 }, '')).toMatchObject({
      BaseURL: 'http://a.test',
      Hostname: 'a.test',
      Path: '',
    });
  });

  it('builds request paths from {{BaseURL}}, {{RootURL}} and raw request lines', () => {
    const vars = templateVariables({ scheme: 'http', hostname: 'a.test', port: 80 }, '/app');
    expect(requestPath({ base: 'BaseURL', rest: '/.env' }, '/app', vars)).toBe('/app/.env');
    expect(requestPath({ base: 'BaseURL', rest: '' }, '/app', vars)).toBe('/app');
    expect(requestPath({ base: 'BaseURL', rest: '?a=1' }, '/app', vars)).toBe('/app?a=1');
    expect(requestPath({ base: 'RootURL', rest: '/x' }, '/app', vars)).toBe('/x');
    expect(requestPath({ base: 'RootURL', rest: '' }, '/app', vars)).toBe('/');
    expect(requestPath({ base: 'raw', rest: '/login' }, '/app', vars)).toBe('/app/login');
    expect(requestPath({ base: 'raw', rest: '/' }, '/app', vars)).toBe('/app');
    expect(requestPath({ base: 'BaseURL', rest: '/{{Host}}.zip' }, '', vars)).toBe('/a.test.zip');
  });

  it('scans under the target path', async () => {
    app.use({ routes: { '/shop/.git/config': text('[core]\n\trepositoryformatversion = 0\n') } });
    const { findings } = await runTemplateScan({
      address: '127.0.0.1',
      origin: { scheme: 'http', hostname: 'app.test', port: app.port },
      basePath: '/shop/',
      mode: 'quick',
      signal: new AbortController().signal,
    });
    expect(findings.map((f) => [f.rule_id, f.location])).toContainEqual([
      'nuclei.git-config-exposure',
      `http://app.test:${app.port}/shop/.git/config`,
    ]);
  });

  it('scans an https origin (self-signed certificate), with SNI and Host from the name', async () => {
    const certificate = selfSignedCertificate({ commonName: 'secure.test' });
    const seen: string[] = [];
    const server = createHttpsServer({ key: certificate.key, cert: certificate.cert }, (request, response) => {
      seen.push(`${request.headers.host} ${request.url}`);
      if (request.url === '/.env') {
        response.writeHead(200, { 'content-type': 'text/plain' });
        response.end('DB_PASSWORD=x\nAPP_KEY=y\n');
      } else {
        response.writeHead(404);
        response.end();
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    try {
      const { findings } = await runTemplateScan({
        address: '127.0.0.1',
        origin: { scheme: 'https', hostname: 'secure.test', port },
        mode: 'quick',
        signal: new AbortController().signal,
      });
      expect(findings.map((f) => f.location)).toContain(`https://secure.test:${port}/.env`);
      expect(seen).toContain(`secure.test:${port} /.env`);
    } finally {
      server.close();
    }
  });

  it('chooses https for an IP/host name target when http redirects there or does not answer', async () => {
    const signal = new AbortController().signal;
    app.use({ routes: { '/': { status: 301, headers: { location: 'https://app.test/' }, body: '' } } });
    expect(await chooseOrigin('127.0.0.1', 'app.test', signal, { http: app.port, https: 9443 })).toEqual({
      scheme: 'https',
      hostname: 'app.test',
      port: 9443,
    });
    app.use({ routes: { '/': { status: 301, headers: { location: 'https://www.elsewhere.test/' }, body: '' } } });
    expect((await chooseOrigin('127.0.0.1', 'app.test', signal, { http: app.port, https: 9443 })).scheme).toBe('http');
    app.use({ fallback: html('<html>plain http</html>') });
    expect((await chooseOrigin('127.0.0.1', 'app.test', signal, { http: app.port, https: 9443 })).scheme).toBe('http');
    const [closed] = await closedPorts(1);
    expect(await chooseOrigin('127.0.0.1', 'app.test', signal, { http: closed!, https: 9443 })).toMatchObject({
      scheme: 'https',
      port: 9443,
    });
  });
});

describe('results', () => {
  it('are nuclei JSONL events with named matchers, extracted results and our counts; findings follow', async () => {
    app.use({
      routes: {
        '/status': html('<html><b>Version 3.2.1</b> admin</html>', 200, {
          server: 'Demo/3.2.1',
          'set-cookie': 'sid=abc; HttpOnly',
        }),
      },
    });
    const named = user(
      template(
        'named-check',
        `  - path: ["{{BaseURL}}/status"]
    matchers:
      - type: word
        name: admin-word
        words: ["admin"]
      - type: regex
        name: version-regex
        regex: ['Version \\d']
      - type: status
        name: not-found
        status: [404]
    extractors:
      - type: regex
        group: 1
        regex: ['Version ([0-9.]+)']
      - type: kval
        kval: [server, sid]
`,
      ),
    );
    const { result, findings } = await run([named]);
    expect(NucleiScanResultSchema.parse(result)).toEqual(result);
    expect(result.results.map((r) => r['matcher-name'])).toEqual(['admin-word', 'version-regex']);
    expect(result.results[0]).toMatchObject({
      'template-id': 'named-check',
      'template-path': 'user/00000000-0000-4000-8000-000000000001',
      type: 'http',
      host: `http://app.test:${app.port}`,
      'matched-at': `http://app.test:${app.port}/status`,
      'extracted-results': ['3.2.1', 'Demo/3.2.1', 'abc'],
      'matcher-status': true,
      info: { name: 'named-check', severity: 'medium', author: ['test'] },
    });
    expect(result.stats).toMatchObject({ templates_run: 1, templates_matched: 1, templates_failed: 0 });
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({
      rule_id: 'nuclei.user.named-check',
      risk: 'medium',
      engine: 'nuclei',
      confidence: 'medium',
      location: `http://app.test:${app.port}/status`,
    });
    expect(findings[0]!.evidence).toMatch(/GET http:\/\/app\.test:\d+\/status → HTTP 200/);
    expect(findings[0]!.evidence).toMatch(/matched: admin-word, version-regex/);
  });

  it('maps severity, CVE, CWE, CVSS and references into findings', async () => {
    app.use({ routes: { '/': html('<html>x</html>', 200, { server: 'Apache/2.4.49 (Unix)' }) } });
    const { findings } = await runTemplateScan({
      address: '127.0.0.1',
      origin: { scheme: 'http', hostname: 'app.test', port: app.port },
      mode: 'quick',
      signal: new AbortController().signal,
    });
    const cve = findings.find((f) => f.rule_id === 'nuclei.apache-httpd-cve-2021-41773');
    expect(cve).toMatchObject({
      risk: 'high',
      cve: ['CVE-2021-41773'],
      cwe: [22],
      cvss: { score: 7.5, vector: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N' },
      confidence: 'medium',
      references: expect.arrayContaining(['https://nvd.nist.gov/vuln/detail/CVE-2021-41773']),
    });
  });

  it('stay under the size budget, cutting results and saying so', () => {
    const event = {
      'template-id': 't',
      'template-path': 'secably/t.yaml',
      info: { name: 't', author: [], tags: [], severity: 'info' },
      type: 'http' as const,
      host: 'http://a',
      'matched-at': 'http://a/x',
      'extracted-results': ['y'.repeat(900)],
      'matcher-status': true as const,
      'curl-command': 'curl',
      timestamp: '2026-01-01T00:00:00.000Z',
    };
    const big = {
      engine: 'secably-nuclei' as const,
      mode: 'full' as const,
      target: 'http://a',
      results: Array(2000).fill(event),
      stats: {
        templates_run: 1,
        templates_matched: 1,
        templates_failed: 0,
        requests_sent: 1,
        requests_saved_by_cache: 0,
        request_errors: 0,
        bytes_received: 0,
        duration_ms: 1,
        off_target_refused: [],
      },
      templates: { bundled: 1, user: [] },
      errors: [],
    };
    const bounded = boundResult(big, 100_000);
    expect(bounded.truncated).toBe(true);
    expect(Buffer.byteLength(JSON.stringify(bounded))).toBeLessThanOrEqual(100_000);
    expect(bounded.results.length).toBeGreaterThan(50);
  });
});
