/**
 * Builds the recorded events of a scan stream, as the deciders write them: for
 * report tests that start from events (no service needed).
 */
import type { RecordedEvent } from '../../adapters/ports.js';
import { identifyAll } from '../../domain/scans/scan.decider.js';
import { summarize } from '../../domain/scans/scoring.js';
import type { Finding, ScannerFinding } from '../../domain/shared/finding.js';
import type { TargetType } from '../../domain/targets/targetValue.js';
import { foldReport, type ReportModel } from '../../reports/reportModel.js';
import type { ReportInput } from '../../reports/reportInput.js';
import { digestOf } from '../../reports/reportDigest.js';

export const SCAN_ID = '3b0c1d7e-8f2a-4c1b-9d3e-5a6b7c8d9e0f';
export const USER_ID = 'a1b2c3d4-0000-4000-8000-000000000001';
export const TARGET_ID = 'b2c3d4e5-0000-4000-8000-000000000002';

export interface StreamOptions {
  scanId?: string;
  targetName?: string;
  targetValue?: string;
  targetType?: TargetType;
  scannerType?: string;
  profile?: string;
  /** Findings per FindingsReported batch (default: all in one). */
  batchSize?: number;
}

export function scanStream(findings: readonly ScannerFinding[], options: StreamOptions = {}) {
  const scanId = options.scanId ?? SCAN_ID;
  const stream = `scan-${scanId}`;
  const scannerType = options.scannerType ?? 'echo';
  const ids = { scanId, userId: USER_ID, targetId: TARGET_ID };
  const identified = identifyAll(findings, { targetId: TARGET_ID, scannerType });
  const events: RecordedEvent[] = [];
  const push = (type: string, data: Record<string, unknown>) => {
    const revision = events.length;
    events.push({
      id: `00000000-0000-4000-8000-${String(revision).padStart(12, '0')}`,
      type,
      streamName: stream,
      revision,
      position: 100 + revision,
      data,
      metadata: {},
      recordedAt: '2026-03-01T10:00:00.000Z',
    });
  };
  push('ScanRequested', {
    ...ids,
    targetName: options.targetName ?? 'Public website',
    targetValue: options.targetValue ?? 'example.com',
    targetType: options.targetType ?? 'hostname',
    scannerType,
    scanProfile: options.profile ?? 'light',
    scanConfig: { mode: 'light' },
    credits: 0,
    timeoutMs: 60_000,
    requestedAt: '2026-03-01T10:00:00.000Z',
  });
  push('ScanQueued', { ...ids, attempt: 1, queuedAt: '2026-03-01T10:00:01.000Z' });
  push('ScanStarted', { ...ids, attempt: 1, workerId: 'worker-1', startedAt: '2026-03-01T10:00:02.000Z' });
  const size = options.batchSize ?? Math.max(1, identified.length);
  let batches = 0;
  for (let i = 0; i < identified.length; i += size) {
    push('FindingsReported', {
      ...ids,
      attempt: 1,
      batch: batches,
      findings: identified.slice(i, i + size),
      reportedAt: '2026-03-01T10:01:00.000Z',
    });
    batches += 1;
  }
  const summary = summarize(identified);
  push('ScanCompleted', {
    ...ids,
    attempt: 1,
    riskLevel: summary.riskLevel,
    securityScore: summary.securityScore,
    vulnerabilitiesFound: summary.vulnerabilitiesFound,
    byRisk: summary.byRisk,
    durationMs: 62_500,
    findingsCount: identified.length,
    batches,
    scanResult: { reported: identified.length, padding: '' },
    completedAt: '2026-03-01T10:01:04.500Z',
  });
  return { stream, events, findings: identified };
}

/** A report input over in-memory events. */
export function inputOf(events: readonly RecordedEvent[], findings?: readonly Finding[]): ReportInput {
  const stream = events[0]!.streamName;
  const model: ReportModel = foldReport(stream, events);
  const all = findings ?? events.flatMap((e) => (e.type === 'FindingsReported' ? (e.data.findings as Finding[]) : []));
  return {
    model,
    source: { stream, lastRevision: model.lastRevision, eventCount: events.length, digest: digestOf(events) },
    findings: async function* () {
      yield* all;
    },
    generatedAt: '2026-03-01T12:00:00.000Z',
  };
}

/** A realistic mix of findings from different engines. */
export function sampleFindings(): ScannerFinding[] {
  return [
    {
      name: 'Telnet service exposed',
      risk: 'high',
      description:
        'A Telnet server is reachable. Telnet sends the whole session, user names and passwords included, in cleartext, so anyone on the path can capture credentials.',
      solution: 'Disable the Telnet service and use SSH instead (key-based authentication, no password logins).',
      evidence: 'nmap: example.com 23/tcp open (syn-ack); service: telnet',
      location: 'example.com:23/tcp',
      rule_id: 'nmap.telnet-service-exposed',
      engine: 'nmap',
      confidence: 'high',
      cwe: [319],
    },
    {
      name: 'TLS 1.0 enabled',
      risk: 'medium',
      description: 'The server accepts TLS 1.0, a protocol version with known weaknesses (BEAST, weak MACs).',
      solution: 'Disable TLS 1.0 and 1.1; keep TLS 1.2 and 1.3 only.',
      evidence: 'Accepted TLSv1.0 ECDHE-RSA-AES128-SHA',
      location: 'example.com:443',
      rule_id: 'tls.protocol.tls10',
      engine: 'secably-tls',
      confidence: 'confirmed',
      cwe: [327],
      references: ['https://datatracker.ietf.org/doc/rfc8996/'],
    },
    {
      name: 'SQL injection',
      risk: 'critical',
      description: 'The id parameter is concatenated into an SQL query: an attacker can read or change the database.',
      solution: 'Use parameterised queries (prepared statements) for every query that takes user input.',
      evidence: "GET /item?id=1' OR '1'='1 → 200, 1,204 rows",
      location: 'https://example.com/item?id',
      rule_id: '40018',
      engine: 'zap',
      confidence: 'high',
      cwe: [89],
      cve: ['CVE-2021-41773'],
      cvss: { score: 9.8, vector: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H' },
      references: ['https://owasp.org/www-community/attacks/SQL_Injection'],
      sources: [{ engine: 'nuclei', rule_id: 'sqli-error-based' }],
    },
    {
      name: 'Missing Content-Security-Policy header',
      risk: 'low',
      description: 'Responses carry no Content-Security-Policy header, which limits the damage of an injected script.',
      solution: "Send a Content-Security-Policy header, starting with default-src 'self'.",
      evidence: 'HTTP/1.1 200 OK\ncontent-type: text/html',
      location: 'https://example.com/',
      rule_id: '10038',
      engine: 'zap',
      confidence: 'medium',
      cwe: [693],
    },
    {
      name: 'Open port 443/tcp (https)',
      risk: 'info',
      description: 'nmap found TCP port 443 open, service https.',
      solution: 'Make sure this service is meant to be reachable.',
      evidence: '443/tcp open https',
      location: 'example.com:443/tcp',
      rule_id: 'nmap.open-port',
      engine: 'nmap',
      confidence: 'confirmed',
    },
  ];
}

/** The whole text of a streamed export. */
export async function textOf(parts: AsyncIterable<string>): Promise<string> {
  let text = '';
  for await (const part of parts) text += part;
  return text;
}

/** Many findings of every risk, the way the echo scanner makes them. */
export function manyFindings(count: number): ScannerFinding[] {
  const risks = ['critical', 'high', 'medium', 'low', 'info'] as const;
  return Array.from({ length: count }, (_, i) => ({
    name: `Finding ${i}`,
    risk: risks[i % risks.length]!,
    description: `Finding number ${i}.`,
    solution: 'Fix it.',
    evidence: `evidence ${i}`,
    location: `example.com:${1 + (i % 65535)}/tcp`,
    rule_id: `bulk.${i % 7}`,
    engine: 'bulk',
  }));
}
