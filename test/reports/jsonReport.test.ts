import { describe, expect, it } from 'vitest';
import { jsonReport } from '../../reports/jsonReport.js';
import { scanReportErrors } from './schemas.js';
import { inputOf, manyFindings, sampleFindings, scanStream, textOf } from './scanStream.js';

describe('the JSON export', () => {
  it('is the whole structured result, valid against its published schema', async () => {
    const { events, findings } = scanStream(sampleFindings(), { batchSize: 2 });
    const input = inputOf(events);
    const report = JSON.parse(await textOf(jsonReport(input)));
    expect(scanReportErrors(report)).toBe('');
    expect(report).toMatchObject({
      report_format: 'secably-scan-report',
      report_version: 1,
      generated_at: '2026-03-01T12:00:00.000Z',
      source: {
        stream: input.source.stream,
        first_revision: 0,
        last_revision: events.length - 1,
        event_count: events.length,
        digest: input.source.digest,
        digest_algorithm: 'sha256',
        verify: `/api/v1/scans/${input.model.scanId}/export/verify/?digest=${input.source.digest}`,
      },
      scan: {
        id: input.model.scanId,
        status: 'completed',
        scanner_type: 'echo',
        scan_profile: 'light',
        started_at: '2026-03-01T10:00:02.000Z',
        completed_at: '2026-03-01T10:01:04.500Z',
        duration_ms: 62_500,
      },
      target: { name: 'Public website', value: 'example.com', type: 'hostname' },
      summary: {
        risk_level: 'critical',
        security_score: 29,
        vulnerabilities_found: 4,
        findings_count: 5,
        by_risk: { critical: 1, high: 1, medium: 1, low: 1, info: 1 },
      },
      scan_result: { reported: 5, padding: '' },
    });
    expect(report.findings).toEqual(findings);
  });

  it('a scan without findings', async () => {
    const { events } = scanStream([]);
    const report = JSON.parse(await textOf(jsonReport(inputOf(events))));
    expect(scanReportErrors(report)).toBe('');
    expect(report.findings).toEqual([]);
    expect(report.summary).toMatchObject({ risk_level: 'info', security_score: 100, findings_count: 0 });
  });

  it('the schema refuses a report whose shape is off', async () => {
    const { events } = scanStream(sampleFindings());
    const report = JSON.parse(await textOf(jsonReport(inputOf(events))));
    report.findings[0].risk = 'severe';
    report.source.digest = 'not-a-digest';
    delete report.summary;
    const errors = scanReportErrors(report);
    expect(errors).toContain('/findings/0/risk');
    expect(errors).toContain('/source/digest');
    expect(errors).toContain('summary');
  });

  it('streams 20,000 findings, one per line', { timeout: 60_000 }, async () => {
    const { events } = scanStream(manyFindings(20_000), { batchSize: 1000 });
    const text = await textOf(jsonReport(inputOf(events)));
    expect(text.split('\n').filter((line) => line.startsWith('    {"name":')).length).toBe(20_000);
    const report = JSON.parse(text);
    expect(report.findings).toHaveLength(20_000);
    expect(scanReportErrors(report)).toBe('');
  });
});
