/**
 * The JSON export: the whole structured result of one scan, its JSON Schema in
 * docs/schemas/scan-report.schema.json. Written as a stream: the head (source, scan,
 * target, summary, scan_result) pretty-printed, then `findings` with one finding per
 * line, so 20,000 findings never sit in memory at once.
 */
import { RISKS } from '../domain/shared/finding.js';
import { DIGEST_ALGORITHM, DIGEST_CANONICALIZATION } from './reportDigest.js';
import { chunked, GENERATOR, REPORT_VERSION, type ReportInput } from './reportInput.js';

export const JSON_REPORT_FORMAT = 'secably-scan-report';

/** Everything but the findings. */
export function jsonReportHead(input: ReportInput) {
  const { model, source } = input;
  return {
    report_format: JSON_REPORT_FORMAT,
    report_version: REPORT_VERSION,
    generator: GENERATOR,
    generated_at: input.generatedAt,
    source: {
      stream: source.stream,
      first_revision: 0,
      last_revision: source.lastRevision,
      event_count: source.eventCount,
      digest: source.digest,
      digest_algorithm: DIGEST_ALGORITHM,
      canonicalization: DIGEST_CANONICALIZATION,
      verify: `/api/v1/scans/${model.scanId}/export/verify/?digest=${source.digest}`,
    },
    scan: {
      id: model.scanId,
      status: model.status,
      scanner_type: model.scanner.type,
      scan_profile: model.scanner.profile,
      coverage: model.scanner.coverage,
      scan_config: model.scanner.config,
      credits: model.scanner.credits,
      attempt: model.attempt,
      requested_at: model.requestedAt,
      queued_at: model.queuedAt,
      started_at: model.startedAt,
      completed_at: model.endedAt,
      duration_ms: model.outcome?.durationMs ?? null,
    },
    target: { id: model.target.id, name: model.target.name, value: model.target.value, type: model.target.type },
    summary: {
      risk_level: model.outcome?.riskLevel ?? null,
      security_score: model.outcome?.securityScore ?? null,
      vulnerabilities_found: model.outcome?.vulnerabilitiesFound ?? 0,
      findings_count: model.findingsCount,
      by_risk: Object.fromEntries(RISKS.map((risk) => [risk, model.findingsByRisk[risk]])),
    },
    scan_result: model.outcome?.scanResult ?? null,
  };
}

async function* parts(input: ReportInput): AsyncGenerator<string> {
  const head = JSON.stringify(jsonReportHead(input), null, 2);
  yield `${head.slice(0, head.lastIndexOf('}')).trimEnd()},\n  "findings": [`;
  let first = true;
  for await (const finding of input.findings()) {
    yield `${first ? '\n    ' : ',\n    '}${JSON.stringify(finding)}`;
    first = false;
  }
  yield first ? ']\n}\n' : '\n  ]\n}\n';
}

export function jsonReport(input: ReportInput): AsyncIterable<string> {
  return chunked(parts(input));
}
