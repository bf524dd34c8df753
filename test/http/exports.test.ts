/**
 * Exports end to end (embedded mode): scans of test scanners with chosen findings
 * (test/support/scanners/canned/) and with 20,000 findings (echo), exported as PDF,
 * JSON, CSV and SARIF through HTTP, each checked with the tool its users would use
 * (pdftotext/pdftoppm, a JSON Schema validator, a CSV parser, the official SARIF
 * schema), and verified against the event store, untouched and tampered with.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { identifyAll } from '../../domain/scans/scan.decider.js';
import type { ScannerFinding } from '../../domain/shared/finding.js';
import type { Runtime } from '../../processes/embedded.js';
import { csvCellValue } from '../../reports/csvReport.js';
import { BUILT_IN_SCANNERS, scannerRegistry } from '../../scanners/registry.js';
import { pdfPages, pdfText, pdfToolsMissing } from '../reports/chromium.js';
import { sarifErrors, scanReportErrors } from '../reports/schemas.js';
import { cannedScanner } from '../support/scanners/canned/canned.plugin.js';
import { echoScanner } from '../support/scanners/echo/echo.plugin.js';
import { ADMIN_TOKEN, needsEmbedded, registerAndLogin, testRuntime, type TestRuntime } from '../support/testRuntime.js';
import { waitFor } from '../support/waitFor.js';

const scanners = scannerRegistry([...BUILT_IN_SCANNERS, echoScanner, cannedScanner]);
const API = '/api/v1';

const FINDINGS: ScannerFinding[] = [
  {
    name: '<script>alert(1)</script>',
    risk: 'high',
    description: 'Reflected cross-site scripting: the q parameter is written into the page unescaped.',
    solution: 'Encode output for its HTML context; add a Content-Security-Policy.',
    evidence: '<script>alert(1)</script> reflected in the response body',
    location: 'http://127.0.0.1/search?q',
    rule_id: '40012',
    engine: 'zap',
    confidence: 'medium',
    cwe: [79],
    references: ['https://owasp.org/www-community/attacks/xss/'],
  },
  {
    name: 'Telnet service exposed',
    risk: 'critical',
    description: 'A Telnet server is reachable; credentials travel in cleartext.',
    solution: 'Disable Telnet and use SSH.',
    evidence: '=cmd|"/C calc"!A0',
    location: '127.0.0.1:23/tcp',
    rule_id: 'nmap.telnet-service-exposed',
    engine: 'nmap',
    confidence: 'high',
    cwe: [319],
  },
  {
    name: 'TLS 1.0 enabled',
    risk: 'medium',
    description: 'The server accepts TLS 1.0.',
    solution: 'Allow TLS 1.2 and 1.3 only.',
    evidence: 'Accepted TLSv1.0 ECDHE-RSA-AES128-SHA',
    location: '127.0.0.1:443',
    rule_id: 'tls.protocol.tls10',
    engine: 'secably-tls',
    confidence: 'confirmed',
    cvss: { score: 5.9, vector: 'CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:N/A:N' },
  },
  {
    name: 'Open port 22/tcp (ssh)',
    risk: 'info',
    description: 'TCP port 22 is open, service ssh.',
    solution: 'Make sure it is meant to be reachable.',
    evidence: '22/tcp open ssh',
    location: '127.0.0.1:22/tcp',
    rule_id: 'nmap.open-port',
    engine: 'nmap',
    confidence: 'confirmed',
  },
];

let rt: TestRuntime;

beforeAll(async () => {
  if (needsEmbedded) return;
  rt = await testRuntime({ SECABLY_ALLOWED_TARGETS: '127.0.0.0/8', SECABLY_PDF_CONCURRENCY: '2' }, { scanners });
});
afterAll(async () => rt?.cleanup());

/** A raw response (bytes and headers): the embedded runtime's app, in process. */
async function raw(method: string, path: string, token: string, body?: unknown): Promise<Response> {
  const { app } = rt as unknown as Runtime;
  const headers: Record<string, string> = { authorization: `Bearer ${token}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const env = { incoming: { socket: { remoteAddress: '127.0.0.1', remotePort: 50000 } } };
  return app.request(path, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) }, env);
}

const jsonOf = (res: Response): Promise<any> => res.json();

async function user(runtime = rt) {
  const session = await registerAndLogin(runtime);
  await runtime.call('POST', `${API}/admin/users/${session.userId}/subscription/`, {
    headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    body: { plan: 'enterprise' },
  });
  const target = await runtime.call('POST', `${API}/targets/`, {
    token: session.access,
    body: { name: 'Shop <b>prod</b>', target_value: '127.0.0.1' },
  });
  expect(target.status).toBe(201);
  return { token: session.access, targetId: target.body.id as string };
}

async function ended(token: string, scanId: string, runtime = rt) {
  return waitFor(
    async () => {
      const res = await runtime.call('GET', `${API}/scans/${scanId}/`, { token });
      return ['completed', 'failed', 'cancelled'].includes(res.body.status) ? res.body : false;
    },
    90_000,
    20,
  );
}

async function startScan(
  token: string,
  targetId: string,
  scannerType: string,
  scanConfig: Record<string, unknown>,
  runtime = rt,
) {
  const res = await runtime.call('POST', `${API}/scans/create/`, {
    token,
    body: { target_id: targetId, scanner_type: scannerType, scan_config: scanConfig },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.scan_id as string;
}

describe.skipIf(needsEmbedded)('scan exports', () => {
  let token: string;
  let targetId: string;
  let scanId: string;
  let scan: any;

  beforeAll(async () => {
    ({ token, targetId } = await user());
    scanId = await startScan(token, targetId, 'canned', { findings: FINDINGS });
    scan = await ended(token, scanId);
    expect(scan.status).toBe('completed');
  });

  const expected = () => identifyAll(FINDINGS, { targetId, scannerType: 'canned' });

  it('JSON: the full result, valid against its schema, named and typed as a download', async () => {
    const res = await raw('POST', `${API}/scans/${scanId}/export/`, token, { format: 'json' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
    const date = (scan.completed_at as string).slice(0, 10);
    expect(res.headers.get('content-disposition')).toBe(
      `attachment; filename="secably-127.0.0.1-canned-${date}-${scanId.slice(0, 8)}.json"`,
    );
    const report = await jsonOf(res);
    expect(scanReportErrors(report)).toBe('');
    expect(report.findings).toEqual(expected());
    expect(report.summary).toMatchObject({
      security_score: scan.security_score,
      risk_level: scan.risk_level,
      findings_count: FINDINGS.length,
    });
    expect(report.source).toMatchObject({
      stream: `scan-${scanId}`,
      digest: res.headers.get('x-secably-report-digest'),
    });
    expect(String(report.source.last_revision)).toBe(res.headers.get('x-secably-report-revision'));
    expect(res.headers.get('x-secably-report-stream')).toBe(`scan-${scanId}`);
    expect(res.headers.get('cache-control')).toBe('no-store');
  });

  it('GET ?format= gives the same export (browsers, curl -OJ)', async () => {
    const posted = await raw('POST', `${API}/scans/${scanId}/export/`, token, { format: 'sarif' });
    const got = await raw('GET', `${API}/scans/${scanId}/export/?format=sarif`, token);
    expect(got.status).toBe(200);
    expect(got.headers.get('content-type')).toBe('application/sarif+json; charset=utf-8');
    expect(got.headers.get('content-disposition')).toMatch(
      /^attachment; filename="secably-127\.0\.0\.1-canned-.*\.sarif"$/,
    );
    expect(got.headers.get('x-secably-report-digest')).toBe(posted.headers.get('x-secably-report-digest'));
  });

  it('CSV: parsed back, equals the findings; a cell starting with = is neutralised', async () => {
    const res = await raw('GET', `${API}/scans/${scanId}/export/?format=csv`, token);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8; header=present');
    const rows = parse(await res.text(), { bom: true, columns: true }) as Record<string, string>[];
    expect(rows).toHaveLength(FINDINGS.length);
    const findings = expected();
    rows.forEach((row, i) => {
      const f = findings[i]!;
      expect({
        name: csvCellValue(row.name!),
        risk: row.risk,
        description: csvCellValue(row.description!),
        solution: csvCellValue(row.solution!),
        evidence: csvCellValue(row.evidence!),
        location: csvCellValue(row.location!),
        rule_id: csvCellValue(row.rule_id!),
        engine: row.engine,
        confidence: row.confidence,
        fingerprint: row.fingerprint,
        cwe: row.cwe,
        cvss_score: row.cvss_score,
      }).toEqual({
        name: f.name,
        risk: f.risk,
        description: f.description,
        solution: f.solution,
        evidence: f.evidence,
        location: f.location,
        rule_id: f.rule_id,
        engine: f.engine,
        confidence: f.confidence,
        fingerprint: f.fingerprint,
        cwe: (f.cwe ?? []).map((id) => `CWE-${id}`).join('; '),
        cvss_score: f.cvss ? String(f.cvss.score) : '',
      });
      expect(row.report_digest).toBe(res.headers.get('x-secably-report-digest'));
    });
    expect(rows[1]!.evidence).toBe(`'=cmd|"/C calc"!A0`);
  });

  it('SARIF: valid against the official 2.1.0 schema', async () => {
    const res = await raw('POST', `${API}/scans/${scanId}/export/`, token, { format: 'sarif' });
    const log = await jsonOf(res);
    expect(sarifErrors(log)).toBe('');
    const run = log.runs[0];
    expect(run.results.map((r: any) => r.locations[0].physicalLocation.artifactLocation.uri)).toEqual([
      'http://127.0.0.1/search?q',
      'tcp://127.0.0.1:23',
      'tcp://127.0.0.1:443',
      'tcp://127.0.0.1:22',
    ]);
    expect(run.properties.secablyReport.digest).toBe(res.headers.get('x-secably-report-digest'));
  });

  describe.skipIf(pdfToolsMissing)('PDF', () => {
    it('holds the target, the score, the digest and every finding name, as text', async () => {
      const res = await raw('POST', `${API}/scans/${scanId}/export/`, token, { format: 'pdf' });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('application/pdf');
      expect(res.headers.get('content-disposition')).toMatch(
        /^attachment; filename="secably-127\.0\.0\.1-canned-.*\.pdf"$/,
      );
      const pdf = new Uint8Array(await res.arrayBuffer());
      expect(Buffer.from(pdf.subarray(0, 5)).toString()).toBe('%PDF-');
      const text = pdfText(pdf);
      const flat = text.replace(/\s+/g, ' ');
      expect(flat).toContain('Shop <b>prod</b>');
      expect(flat).toContain('127.0.0.1');
      expect(flat).toMatch(new RegExp(`\\b${scan.security_score}\\s*out of 100`));
      expect(text.replace(/\s+/g, '')).toContain(res.headers.get('x-secably-report-digest'));
      for (const finding of FINDINGS) expect(flat).toContain(finding.name);
      expect(flat).toContain('<script>alert(1)</script>');
    });

    it('renders every page (pdftoppm)', async () => {
      const res = await raw('GET', `${API}/scans/${scanId}/export/?format=pdf`, token);
      const { count, pngs } = pdfPages(new Uint8Array(await res.arrayBuffer()));
      expect(count).toBeGreaterThanOrEqual(5);
      expect(pngs).toHaveLength(count);
      for (const png of pngs) {
        expect(png.subarray(1, 4).toString()).toBe('PNG');
        expect(png.length).toBeGreaterThan(1000);
      }
    });

    it('5 concurrent exports succeed with one browser process', { timeout: 120_000 }, async () => {
      const responses = await Promise.all(
        Array.from({ length: 5 }, () => raw('POST', `${API}/scans/${scanId}/export/`, token, { format: 'pdf' })),
      );
      for (const res of responses) {
        expect(res.status).toBe(200);
        expect(pdfText(new Uint8Array(await res.arrayBuffer()))).toContain('Telnet service exposed');
      }
      expect(rt.deps.pdfRenderer.stats()).toMatchObject({ launches: 1, running: 0, queued: 0 });
      expect(childBrowsers()).toHaveLength(1);
    });
  });

  it('refuses an unknown or missing format (400)', async () => {
    const posted = await rt.call('POST', `${API}/scans/${scanId}/export/`, { token, body: { format: 'docx' } });
    expect(posted.status).toBe(400);
    expect(posted.body.details.fields.format[0]).toContain('pdf, json, csv, sarif');
    expect((await rt.call('GET', `${API}/scans/${scanId}/export/?format=xml`, { token })).status).toBe(400);
    expect((await rt.call('GET', `${API}/scans/${scanId}/export/`, { token })).status).toBe(400);
    expect((await rt.call('POST', `${API}/scans/${scanId}/export/`, { token, body: {} })).status).toBe(400);
    const extra = await rt.call('POST', `${API}/scans/${scanId}/export/`, { token, body: { format: 'json', x: 1 } });
    expect(extra.status).toBe(400);
  });

  it('a scan that is not yours, or does not exist, is not found (404); no credentials: 401', async () => {
    const other = await user();
    for (const path of [
      `/scans/${scanId}/export/?format=json`,
      `/scans/${scanId}/export/verify/?digest=${'a'.repeat(64)}`,
    ]) {
      expect((await rt.call('GET', `${API}${path}`, { token: other.token })).status).toBe(404);
    }
    const notYours = await rt.call('POST', `${API}/scans/${scanId}/export/`, {
      token: other.token,
      body: { format: 'docx' },
    });
    expect(notYours.status).toBe(404);
    const unknown = '00000000-0000-4000-8000-000000000000';
    expect((await rt.call('GET', `${API}/scans/${unknown}/export/?format=json`, { token })).status).toBe(404);
    expect((await rt.call('GET', `${API}/scans/not-a-uuid/export/?format=json`, { token })).status).toBe(404);
    expect((await rt.call('GET', `${API}/scans/${scanId}/export/?format=json`)).status).toBe(401);
  });

  it('a scan that has not completed is a conflict (409) with its status', async () => {
    const slow = await startScan(token, targetId, 'echo', { slow: true });
    await waitFor(
      async () => (await rt.call('GET', `${API}/scans/${slow}/`, { token })).body.status === 'running',
      30_000,
      20,
    );
    const running = await rt.call('GET', `${API}/scans/${slow}/export/?format=json`, { token });
    expect(running.status).toBe(409);
    expect(running.body).toMatchObject({ code: 'scan_not_completed', details: { status: 'running' } });
    expect((await rt.call('POST', `${API}/scans/${slow}/cancel/`, { token })).status).toBe(200);
    const cancelled = await rt.call('POST', `${API}/scans/${slow}/export/`, { token, body: { format: 'pdf' } });
    expect(cancelled.status).toBe(409);
    expect(cancelled.body).toMatchObject({ code: 'scan_not_completed', details: { status: 'cancelled' } });

    const failing = await startScan(token, targetId, 'canned', { fail_with: 'engine crashed' });
    expect((await ended(token, failing)).status).toBe('failed');
    const failed = await rt.call('GET', `${API}/scans/${failing}/export/?format=csv`, { token });
    expect(failed.status).toBe(409);
    expect(failed.body).toMatchObject({
      code: 'scan_not_completed',
      details: { status: 'failed', error: { code: 'scanner_error', reason: 'engine crashed' } },
    });
  });

  describe('verification', () => {
    it('accepts the digest of an untouched export and refuses a changed one', async () => {
      const res = await raw('POST', `${API}/scans/${scanId}/export/`, token, { format: 'json' });
      const report = await jsonOf(res);
      const digest = report.source.digest as string;
      const ok = await rt.call('GET', `${API}/scans/${scanId}/export/verify/?digest=${digest}`, { token });
      expect(ok.status).toBe(200);
      expect(ok.body).toMatchObject({
        scan_id: scanId,
        stream: `scan-${scanId}`,
        digest,
        matches: true,
        covers_revision: report.source.last_revision,
        last_revision: report.source.last_revision,
        current: true,
      });
      const prefixed = await rt.call(
        'GET',
        `${API}/scans/${scanId}/export/verify/?digest=sha256:${digest.toUpperCase()}`,
        {
          token,
        },
      );
      expect(prefixed.body.matches).toBe(true);
      const changed = `${digest.slice(0, -1)}${digest.endsWith('0') ? '1' : '0'}`;
      const refused = await rt.call('GET', `${API}/scans/${scanId}/export/verify/?digest=${changed}`, { token });
      expect(refused.status).toBe(200);
      expect(refused.body).toMatchObject({ matches: false, covers_revision: null, current: false });
      const invalid = await rt.call('GET', `${API}/scans/${scanId}/export/verify/?digest=abc`, { token });
      expect(invalid.status).toBe(400);
      expect(invalid.body.details.fields.digest).toBeDefined();
    });

    it('tampering with a stored finding changes the digest: the report no longer verifies', async () => {
      const tampered = await startScan(token, targetId, 'canned', { findings: FINDINGS });
      expect((await ended(token, tampered)).status).toBe('completed');
      const before = await jsonOf(await raw('GET', `${API}/scans/${tampered}/export/?format=json`, token));

      // Someone with access to the database quietly downgrades the critical finding.
      const db = new Database(join(rt.dataDir, 'events.sqlite'));
      try {
        const row = db
          .prepare(`SELECT event_id, data FROM events WHERE stream_name = ? AND type = 'FindingsReported'`)
          .get(`scan-${tampered}`) as { event_id: string; data: string };
        const data = JSON.parse(row.data);
        data.findings[1].risk = 'low';
        db.prepare('UPDATE events SET data = ? WHERE event_id = ?').run(JSON.stringify(data), row.event_id);
      } finally {
        db.close();
      }

      const verify = await rt.call('GET', `${API}/scans/${tampered}/export/verify/?digest=${before.source.digest}`, {
        token,
      });
      expect(verify.body).toMatchObject({ matches: false, covers_revision: null });
      const after = await jsonOf(await raw('GET', `${API}/scans/${tampered}/export/?format=json`, token));
      expect(after.findings[1].risk).toBe('low');
      expect(after.source.digest).not.toBe(before.source.digest);
      expect(after.source.last_revision).toBe(before.source.last_revision);
    });
  });

  it('a scan of 20,000 findings exports whole as CSV, JSON and SARIF', { timeout: 180_000 }, async () => {
    const big = await startScan(token, targetId, 'echo', { findings: 20_000 });
    expect((await ended(token, big)).status).toBe('completed');
    const csv = await raw('GET', `${API}/scans/${big}/export/?format=csv`, token);
    const rows = parse(await csv.text(), { bom: true, columns: true }) as Record<string, string>[];
    expect(rows).toHaveLength(20_000);
    expect(new Set(rows.map((r) => r.fingerprint)).size).toBe(20_000);
    const json = await jsonOf(await raw('GET', `${API}/scans/${big}/export/?format=json`, token));
    expect(json.findings).toHaveLength(20_000);
    expect(json.summary.by_risk).toEqual({ critical: 4000, high: 4000, medium: 4000, low: 4000, info: 4000 });
    const sarif = await jsonOf(await raw('GET', `${API}/scans/${big}/export/?format=sarif`, token));
    expect(sarif.runs[0].results).toHaveLength(20_000);
  });
});

describe.skipIf(needsEmbedded)('without Chromium', () => {
  let bare: TestRuntime;
  beforeAll(async () => {
    bare = await testRuntime(
      { SECABLY_ALLOWED_TARGETS: '127.0.0.0/8', SECABLY_CHROMIUM_PATH: '/nonexistent/chromium' },
      { scanners },
    );
  });
  afterAll(async () => bare?.cleanup());

  it('PDF export answers 503 with a clear message; the other formats work', async () => {
    const { token, targetId } = await user(bare);
    const id = await startScan(token, targetId, 'canned', { findings: FINDINGS.slice(0, 1) }, bare);
    expect((await ended(token, id, bare)).status).toBe('completed');
    const pdf = await bare.call('POST', `${API}/scans/${id}/export/`, { token, body: { format: 'pdf' } });
    expect(pdf.status).toBe(503);
    expect(pdf.body).toMatchObject({ code: 'pdf_unavailable', error: expect.stringContaining('Chromium') });
    for (const format of ['json', 'csv', 'sarif']) {
      expect((await bare.call('GET', `${API}/scans/${id}/export/?format=${format}`, { token })).status).toBe(200);
    }
  });
});

/** Chromium browser processes (not their helpers) this test process started. */
function childBrowsers(): number[] {
  const browsers: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (parent !== process.pid) continue;
      const args = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (/chrom/i.test(args[0] ?? '') && !args.some((a) => a.startsWith('--type='))) browsers.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return browsers;
}
