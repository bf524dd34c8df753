import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scanWebApp } from '../../../scanners/web/webScan.js';
import { startCountingListener, startInsecureApp, type TestWebApp } from './apps/webApps.js';
import { compareWithWapiti, hasWapiti, mapWapitiIssue, runWapiti, type WapitiIssue } from './apps/wapiti.js';

/**
 * `zap full` against Debian's wapiti on the insecure app, in the same run: every issue
 * wapiti finds, we find (HSTS, the cookie Secure flag and X-XSS-Protection over plain
 * HTTP excepted). Both scan their own instance of the same app on 127.0.0.1; wapiti goes
 * through a proxy that reaches only its app. Slow (wapiti takes about two minutes).
 */
if (!hasWapiti) console.warn('wapiti is not installed: the wapiti comparison is skipped (apt-get install wapiti)');

let other: TestWebApp;
const apps: TestWebApp[] = [];
beforeAll(async () => {
  other = await startCountingListener();
});
afterAll(async () => {
  await Promise.all([...apps, other].map((app) => app?.close()));
});

describe('wapiti categories onto ZAP rules', () => {
  const issue = (category: string, info = '', parameter = ''): WapitiIssue => ({
    kind: 'vulnerability',
    category,
    method: 'GET',
    path: '/x',
    parameter,
    info,
  });
  it('maps what we check and excepts what the issue excepts over plain HTTP', () => {
    expect(mapWapitiIssue(issue('Cross Site Scripting', '', 'q'), false)).toMatchObject({
      pluginIds: ['40012', '40014'],
      where: 'param',
    });
    expect(mapWapitiIssue(issue('HTTP Secure Headers', 'X-XSS-Protection is not set'), false)).toHaveProperty(
      'excepted',
    );
    expect(mapWapitiIssue(issue('HTTP Secure Headers', 'Strict-Transport-Security is not set'), false)).toHaveProperty(
      'excepted',
    );
    expect(mapWapitiIssue(issue('HTTP Secure Headers', 'Strict-Transport-Security is not set'), true)).toMatchObject({
      pluginIds: ['10035'],
    });
    expect(
      mapWapitiIssue(issue('Secure Flag cookie', 'Secure flag is not set in the cookie : sid'), true),
    ).toMatchObject({ pluginIds: ['10011'], name: 'sid' });
    expect(mapWapitiIssue(issue('Something new'), false)).toEqual({ unmapped: true });
  });
});

describe.skipIf(!hasWapiti)('zap full vs wapiti on the insecure app', () => {
  it('finds every issue wapiti finds', { timeout: 600_000 }, async () => {
    const forWapiti = await startInsecureApp({ otherOrigin: other.url });
    const forUs = await startInsecureApp({ otherOrigin: other.url });
    apps.push(forWapiti, forUs);
    const wapiti = await runWapiti(forWapiti.port, { maxScanSeconds: 400 });
    expect(wapiti.exitCode).toBe(0);
    expect(wapiti.issues.length).toBeGreaterThan(10);
    const ours = await scanWebApp({
      address: '127.0.0.1',
      origin: { scheme: 'http', hostname: '127.0.0.1', port: forUs.port },
      mode: 'full',
      spider: true,
      signal: new AbortController().signal,
    });
    const comparison = compareWithWapiti(ours.findings, wapiti.issues);
    console.info(
      `wapiti: ${wapiti.issues.length} issues, ${wapiti.requests} requests, ${Math.round(wapiti.durationMs / 1000)} s; ` +
        `zap full: ${ours.findings.length} findings, ${ours.result.requests_sent} requests, ${Math.round(ours.result.duration_ms / 1000)} s; ` +
        `matched ${comparison.matched.length}, excepted ${comparison.excepted.length}, only ours ${comparison.onlyOurs.length}`,
    );
    expect(comparison.unmapped).toEqual([]);
    expect(comparison.missed).toEqual([]);
    expect(comparison.matched.length).toBeGreaterThan(10);
    // Neither tool reached the other host; wapiti never left its app.
    expect(other.requests).toEqual([]);
    expect(wapiti.refused).toEqual([]);
  });
});
