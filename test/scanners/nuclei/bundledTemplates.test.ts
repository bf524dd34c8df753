import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundledTemplates, templatesForMode } from '../../../scanners/nuclei/bundledTemplates.js';
import type { LoadedTemplate } from '../../../scanners/nuclei/nucleiFindings.js';
import { runTemplates } from '../../../scanners/nuclei/nucleiScan.js';
import { html, json, startHttpApp, text, type App, type HttpApp } from './httpApp.js';
import { TEMPLATE_CASES } from './templateCases.js';

/**
 * Every bundled template against loopback apps: it fires on its positive case and
 * stays silent on its near-miss negative case; and no template but
 * security-txt-missing fires on apps that answer every path the same way
 * (catch-all pages, echoed paths, redirects to a login page).
 */
let app: HttpApp;
beforeAll(async () => {
  app = await startHttpApp();
});
afterAll(() => app?.close());

const all = bundledTemplates();

async function scan(target: App, templates: readonly LoadedTemplate[], mode: 'quick' | 'full' = 'full') {
  app.use(target);
  return runTemplates({
    address: '127.0.0.1',
    origin: { scheme: 'http', hostname: 'app.test', port: app.port },
    mode,
    signal: new AbortController().signal,
    templates,
  });
}

describe('bundled templates', () => {
  it('are at least 40, each with a test case, a description, a remediation and a severity', () => {
    expect(all.length).toBeGreaterThanOrEqual(40);
    expect(Object.keys(TEMPLATE_CASES).sort()).toEqual(all.map((t) => t.template.id).sort());
    for (const { template } of all) {
      expect(template.info.description, template.id).toBeTruthy();
      expect(template.info.remediation, template.id).toBeTruthy();
      expect(template.info.severity, template.id).not.toBe('unknown');
      expect(template.info.author, template.id).toEqual(['secably']);
    }
  });

  it('quick is the subset tagged quick, full is all', () => {
    const quick = templatesForMode('quick');
    expect(quick.length).toBeGreaterThan(10);
    expect(quick.length).toBeLessThan(all.length);
    expect(quick.every((t) => t.template.info.tags.includes('quick'))).toBe(true);
    expect(templatesForMode('full')).toHaveLength(all.length);
  });

  for (const loaded of all) {
    const id = loaded.template.id;
    const cases = TEMPLATE_CASES[id];
    describe(id, () => {
      it('fires on its positive case', async () => {
        const { findings, result } = await scan(cases!.positive, [loaded]);
        expect(findings.map((f) => f.rule_id)).toEqual(Array(cases!.findings ?? 1).fill(`nuclei.${id}`));
        for (const finding of findings) {
          expect(finding.location.startsWith(`http://app.test:${app.port}/`)).toBe(true);
          expect(finding.location).not.toContain('127.0.0.1');
          expect(finding.engine).toBe('nuclei');
        }
        expect(result.results.length).toBeGreaterThanOrEqual(1);
        expect(result.results[0]!['template-id']).toBe(id);
      });

      it('stays silent on its negative case', async () => {
        for (const negative of [cases!.negative, ...(cases!.moreNegatives ?? [])]) {
          const { findings } = await scan(negative, [loaded]);
          expect(findings).toEqual([]);
        }
      });
    });
  }
});

const CATCH_ALL_HTML = `<!DOCTYPE html><html><head><title>Acme</title></head><body><div id="root"></div><script src="/static/app.js"></script></body></html>`;

const LOOK_ALIKE_APPS: Readonly<Record<string, App>> = {
  'a single-page app answering 200 with the same page for every path': { fallback: html(CATCH_ALL_HTML) },
  'a 404 page echoing the path': {
    fallback: (request) => html(`<html><body>Cannot GET ${request.url}</body></html>`, 404),
  },
  'a 200 page echoing the path': {
    fallback: (request) => html(`<html><body><h1>Search results for ${request.url}</h1></body></html>`),
  },
  'a plain-text 200 echoing the path': { fallback: (request) => text(`No such page: ${request.url}\n`) },
  'an API answering JSON for every path': { fallback: json({ status: 'ok', data: [] }) },
  'every path redirected to a login page': {
    routes: {
      '/login': html(
        '<html><head><title>Sign in</title></head><body><form><input name="password"></form></body></html>',
      ),
    },
    fallback: { status: 302, headers: { location: '/login' }, body: '' },
  },
};

describe('apps that answer every path alike', () => {
  for (const [name, target] of Object.entries(LOOK_ALIKE_APPS)) {
    it(`no exposure template fires on ${name}`, async () => {
      const { findings } = await scan(target, all);
      expect(findings.map((f) => f.rule_id)).toEqual(['nuclei.security-txt-missing']);
    });
  }
});
