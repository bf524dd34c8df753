/** The PDF report's HTML: everything escaped, self-contained, bounded for big scans. */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Risk, ScannerFinding } from '../../domain/shared/finding.js';
import { footerHtml, mostSevere, pdfView, reportHtml } from '../../reports/pdfReport.js';
import { inputOf, manyFindings, sampleFindings, scanStream } from './scanStream.js';

const hostile: ScannerFinding = {
  name: '<script>alert(1)</script>',
  risk: 'high',
  description: '<img src=x onerror=alert(2)> & "quotes"',
  solution: '</p><h1>not a heading</h1>',
  evidence: '<iframe src="http://127.0.0.1:9/"></iframe>',
  location: 'https://example.com/?q=<svg/onload=alert(3)>',
  rule_id: '{{rule}}',
  engine: 'zap',
  references: ['javascript:alert(4)'],
};

async function html(findings: ScannerFinding[], options = {}, stream = {}) {
  const { events } = scanStream(findings, { targetName: 'Shop <b>prod</b>', ...stream });
  const view = await pdfView(inputOf(events), options);
  return { view, html: reportHtml(view), footer: footerHtml(view) };
}

describe('the PDF report HTML', () => {
  it('prints every user-provided text as text', async () => {
    const { html: page, footer } = await html([...sampleFindings(), hostile]);
    expect(page).not.toMatch(/<script/i);
    expect(page).not.toMatch(/<img|<iframe|<svg\/|onerror=|onload=/i);
    expect(page).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(page).toContain('&lt;img src&#x3D;x onerror&#x3D;alert(2)&gt; &amp; &quot;quotes&quot;');
    expect(page).toContain('Shop &lt;b&gt;prod&lt;/b&gt;');
    expect(page).toContain('{{rule}}');
    expect(page).not.toContain('<h1>not a heading</h1>');
    expect(page).not.toMatch(/href=/i);
    expect(footer).toContain('Shop &lt;b&gt;prod&lt;/b&gt;');
    expect(footer).not.toContain('<b>');
  });

  it('is self-contained: a CSP that allows nothing external, no URL in any src or href', async () => {
    const { html: page } = await html(sampleFindings());
    expect(page).toContain(`default-src 'none'`);
    expect(page).not.toMatch(/\b(src|href)\s*=/i);
    expect(page).not.toMatch(/url\(/i);
    expect(page).not.toMatch(/@import/i);
  });

  it('no template writes unescaped output', () => {
    const dir = new URL('../../reports/templates/', import.meta.url);
    const templates = readdirSync(dir).filter((name) => name.endsWith('.hbs'));
    expect(templates.length).toBeGreaterThanOrEqual(8);
    for (const name of templates) expect(readFileSync(new URL(name, dir), 'utf8')).not.toContain('{{{');
  });

  it('shows the score, the counts, the digest and the source', async () => {
    const { view, html: page } = await html(sampleFindings());
    expect(view.score).toMatchObject({ value: 29, level: { label: 'Critical' } });
    expect(view.cards.map((c) => c.count)).toEqual(['1', '1', '1', '1', '1']);
    expect(page).toContain(view.source.digest);
    expect(page).toContain(view.source.stream);
    expect(page).toContain(`/api/v1/scans/${view.scan.id}/export/verify/?digest&#x3D;${view.source.digest}`);
    expect(view.table.rows.map((r) => r.risk)).toEqual(['critical', 'high', 'medium', 'low', 'info']);
    expect(view.details.items.map((d) => d.number)).toEqual(['F-001', 'F-002', 'F-003', 'F-004', 'F-005']);
  });

  it('keeps the table and the detail sections to the most severe findings, and says so', async () => {
    const { view, html: page } = await html(manyFindings(50), { tableLimit: 12, detailLimit: 4 });
    expect(view.table).toMatchObject({ truncated: true, shown: '12', total: '50', omitted: '38' });
    expect(view.table.rows.map((r) => r.risk)).toEqual([...Array(10).fill('critical'), 'high', 'high']);
    expect(view.details).toMatchObject({ truncated: true, shown: '4', total: '50' });
    expect(view.details.items.map((d) => d.name)).toEqual(['Finding 0', 'Finding 5', 'Finding 10', 'Finding 15']);
    expect(page).toContain('The 12 most severe of 50 findings');
    expect(page).toContain('38 more, all of lower or equal risk, are in the CSV, JSON and SARIF exports');
    expect(page).toContain('Detail sections cover the 4 most severe of 50 findings');
  });

  it('an empty scan still reads well', async () => {
    const { view, html: page } = await html([]);
    expect(view.score.value).toBe(100);
    expect(page).toContain('The scan reported no finding.');
    expect(view.details.items).toEqual([]);
  });
});

describe('mostSevere', () => {
  it('keeps the most severe, in order within a risk, with bounded memory', () => {
    const keep = mostSevere<{ risk: Risk; n: number }>(3);
    const risks: Risk[] = ['info', 'low', 'high', 'medium', 'high', 'critical', 'info', 'high'];
    risks.forEach((risk, n) => keep.add({ risk, n }));
    expect(keep.items()).toEqual([
      { risk: 'critical', n: 5 },
      { risk: 'high', n: 2 },
      { risk: 'high', n: 4 },
    ]);
    const none = mostSevere<{ risk: Risk }>(0);
    none.add({ risk: 'critical' });
    expect(none.items()).toEqual([]);
  });
});
