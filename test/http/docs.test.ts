/**
 * The interactive docs at /docs: Swagger UI served from the swagger-ui-dist package
 * (no CDN), opened in Debian's Chromium through playwright-core against a real HTTP
 * listener of the app on 127.0.0.1. The page must load nothing from anywhere else.
 */
import { existsSync, mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serve, type ServerType } from '@hono/node-server';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../http/app.js';
import { PLAN_IDS, PLANS } from '../../domain/accounts/plans.js';
import { needsEmbedded, registerAndLogin, testRuntime, type TestRuntime } from '../support/testRuntime.js';

const CHROMIUM = process.env.SECABLY_CHROMIUM_PATH ?? '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium)
  console.warn(`${CHROMIUM} is missing: the browser test of /docs is skipped (apt-get install chromium)`);

/**
 * Rendering the whole API takes Chromium a few seconds, much longer on a busy machine:
 * generous bounds (nothing here measures time).
 */
const BROWSER_TIMEOUT_MS = 120_000;

/** Where the screenshot of the docs goes (look at it). */
const SCREENSHOTS = process.env.SECABLY_SCREENSHOT_DIR ?? join(tmpdir(), 'secably-screenshots');

let rt: TestRuntime;
let server: ServerType;
let base: string;

beforeAll(async () => {
  if (needsEmbedded) return;
  rt = await testRuntime();
  server = serve({ fetch: createApp(rt.deps).fetch, port: 0, hostname: '127.0.0.1' });
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  await rt?.cleanup();
});

describe.skipIf(needsEmbedded)('the docs page and its files', () => {
  it('serves the page with a Content-Security-Policy that allows only itself', async () => {
    for (const path of ['/docs', '/docs/']) {
      const res = await fetch(`${base}${path}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
      const csp = res.headers.get('content-security-policy') ?? '';
      expect(csp).toContain("default-src 'self'");
      expect(csp).toContain("script-src 'self'");
      expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|https?:/);
      expect(res.headers.get('cache-control')).toBe('no-cache');
      const html = await res.text();
      expect(html).toContain('/api/v1/openapi.json');
      expect(html).not.toMatch(/https?:\/\//); // nothing from elsewhere
      expect(html).not.toMatch(/<script>/); // no inline script
    }
  });

  it("serves swagger-ui-dist's files with their types, cache headers and gzip, and nothing else of the package", async () => {
    const types: Record<string, string> = {
      'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
      'swagger-ui.css': 'text/css; charset=utf-8',
      'favicon-32x32.png': 'image/png',
      'docs.js': 'text/javascript; charset=utf-8',
    };
    for (const [file, type] of Object.entries(types)) {
      const res = await fetch(`${base}/docs/assets/${file}`);
      expect(res.status, file).toBe(200);
      expect(res.headers.get('content-type'), file).toBe(type);
      expect(res.headers.get('cache-control'), file).toBe('public, max-age=86400');
      expect(res.headers.get('x-content-type-options'), file).toBe('nosniff');
      const etag = res.headers.get('etag')!;
      await res.arrayBuffer();
      const again = await fetch(`${base}/docs/assets/${file}`, { headers: { 'if-none-match': etag } });
      expect(again.status, file).toBe(304);
    }
    const bundle = await fetch(`${base}/docs/assets/swagger-ui-bundle.js`, { headers: { 'accept-encoding': 'gzip' } });
    expect(bundle.headers.get('content-encoding')).toBe('gzip');
    expect((await bundle.text()).length).toBeGreaterThan(1_000_000); // fetch decompresses
    for (const file of ['package.json', 'index.html', 'swagger-initializer.js', '..%2Fpackage.json', 'x.js']) {
      expect((await fetch(`${base}/docs/assets/${file}`)).status, file).toBe(404);
    }
  });
});

describe.skipIf(needsEmbedded || !hasChromium)('the interactive docs in Chromium', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    });
  });
  afterAll(async () => browser?.close());

  it(
    'runs GET /plans/ from the page and shows the plans; every request stays on 127.0.0.1',
    async () => {
      const context = await browser.newContext({ viewport: { width: 1280, height: 1000 } });
      const page = await context.newPage();
      page.setDefaultTimeout(BROWSER_TIMEOUT_MS);
      const requests: string[] = [];
      const problems: string[] = [];
      page.on('request', (request) => requests.push(request.url()));
      page.on('console', (message) => {
        if (message.type() === 'error') problems.push(message.text());
      });
      page.on('pageerror', (error) => problems.push(error.message));
      try {
        await page.goto(`${base}/docs`);
        const plans = page.locator('#operations-Plans-listPlans');
        await plans.locator('.opblock-summary').first().waitFor();
        await plans.locator('.opblock-summary-control').click();
        // "Try it out" is on from the start (tryItOutEnabled): its button already reads "Cancel".
        await plans.getByRole('button', { name: 'Cancel' }).waitFor({ state: 'visible' });
        await plans.getByRole('button', { name: 'Execute' }).click();
        const body = plans.locator('.live-responses-table .response-col_description pre').first();
        await body.waitFor();
        const text = await body.innerText();
        for (const id of PLAN_IDS) expect(text).toContain(PLANS[id].name);
        expect(await plans.locator('.live-responses-table tr.response .response-col_status').innerText()).toContain(
          '200',
        );

        await body.scrollIntoViewIfNeeded();
        mkdirSync(SCREENSHOTS, { recursive: true });
        const file = join(SCREENSHOTS, 'docs-plans.png');
        await page.screenshot({ path: file, fullPage: false });
        console.log(`screenshot of /docs: ${file}`);

        expect(problems).toEqual([]);
        const elsewhere = requests.filter((url) => !url.startsWith(`${base}/`) && !/^(data|blob):/.test(url));
        expect(elsewhere).toEqual([]);
        expect(requests).toContain(`${base}/api/v1/openapi.json`);
        expect(requests).toContain(`${base}/api/v1/plans/`);
      } finally {
        await context.close();
      }
    },
    3 * BROWSER_TIMEOUT_MS,
  );

  it(
    'authorizes with an access token, calls GET /profile/, and keeps the token across a reload',
    async () => {
      const session = await registerAndLogin(rt);
      const context = await browser.newContext({ viewport: { width: 1280, height: 1000 } });
      const page = await context.newPage();
      page.setDefaultTimeout(BROWSER_TIMEOUT_MS);
      const requests: string[] = [];
      page.on('request', (request) => requests.push(request.url()));
      try {
        await page.goto(`${base}/docs`);
        await page.locator('.auth-wrapper .authorize').click();
        const dialog = page.locator('.dialog-ux');
        const jwt = dialog.locator('.auth-container').filter({ hasText: 'bearerAuth' });
        await jwt.locator('input').fill(session.access);
        await jwt.getByRole('button', { name: 'Apply credentials' }).click(); // "Authorize"
        await jwt.getByRole('button', { name: 'Remove authorization' }).waitFor(); // "Logout": authorized
        await dialog.locator('.close-modal').click();

        const profile = async () => {
          const block = page.locator('#operations-Account-getProfile');
          await block.locator('.opblock-summary').waitFor();
          // Deep linking reopens the operation after the reload: expand it only when it is closed.
          if (!/\bis-open\b/.test((await block.getAttribute('class')) ?? '')) {
            await block.locator('.opblock-summary-control').click();
          }
          await block.getByRole('button', { name: 'Execute' }).click();
          const body = block.locator('.live-responses-table .response-col_description pre').first();
          await body.waitFor();
          return body.innerText();
        };
        expect(await profile()).toContain(session.user.email);
        // persistAuthorization: a reload keeps the token.
        await page.reload();
        expect(await profile()).toContain(session.user.email);
        expect(requests.filter((url) => !url.startsWith(`${base}/`) && !/^(data|blob):/.test(url))).toEqual([]);
      } finally {
        await context.close();
      }
    },
    3 * BROWSER_TIMEOUT_MS,
  );
});
