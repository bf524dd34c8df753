import type { ReadModelDocument, RecordedEvent } from '../adapters/ports.js';
import { compareScans } from '../domain/findings/findingLifecycle.js';
import { ScanEvent, type ScannerType, type ScanStatus } from '../domain/scans/scan.events.js';
import { RISKS, type Finding, type Risk } from '../domain/shared/finding.js';
import type { TargetType } from '../domain/targets/targetValue.js';
import { handlesTypes, type DocumentBody, type ManyDocumentProjection, type ProjectionReader } from './projection.js';
import type { ScanFindingDocument } from './findings.projection.js';

/** One document per scan: serves GET /scans/, /scans/{id}/, the per-scanner result endpoints and the watchdog. */
export interface ScanDocument extends ReadModelDocument {
  user_id: string;
  target_id: string;
  website_name: string;
  website_url: string;
  target_type: TargetType;
  scanner_type: ScannerType;
  /** The priced profile (nmap: quick | fast | full …). */
  scan_type: string;
  /** What the scan looks at (the plug-in's coverage key): scans compare with scans of the same coverage. */
  coverage: string;
  scan_config: Record<string, unknown>;
  status: ScanStatus;
  attempt: number;
  progress: { percent: number; phase: string };
  credits: number;
  timeout_ms: number;
  created_at: string;
  queued_at: string | null;
  started_at: string | null;
  completed_at: string | null;
  /** Seconds from start to end. */
  duration: number | null;
  risk_level: Risk | null;
  security_score: number | null;
  vulnerabilities_found: number;
  vulnerabilities_by_risk: Record<string, number>;
  /** The most severe findings, at most FINDINGS_LIST_CAP (all of them: GET /scans/{id}/findings/). */
  findings: Finding[];
  /** Every finding of the scan (its current attempt). */
  findings_count: number;
  /** More findings than the list holds. */
  findings_truncated: boolean;
  /** Against the previous completed scan of the same target, scanner and coverage (null: none, or not completed). */
  compared_with: string | null;
  new_findings: number | null;
  fixed_findings: number | null;
  scan_result: Record<string, unknown> | null;
  error: { code: string; reason: string } | null;
  /** Last sign of life of the running attempt (start, progress): the watchdog's clock. */
  last_activity_at: string;
}

const EMPTY_BY_RISK = { Critical: 0, High: 0, Medium: 0, Low: 0, Informational: 0 };

/** Findings kept in the scan document (the rest are in `scan_findings`). */
export const FINDINGS_LIST_CAP = 1_000;

export const riskRank = (risk: Risk) => RISKS.indexOf(risk);

/** The list and the new batch, most severe first (stable within a risk), cut at the cap. */
function mergeFindings(list: readonly Finding[], batch: readonly Finding[]): { list: Finding[]; cut: boolean } {
  const merged = [...list, ...batch]
    .map((finding, index) => ({ finding, index }))
    .sort((a, b) => riskRank(a.finding.risk) - riskRank(b.finding.risk) || a.index - b.index)
    .map(({ finding }) => finding);
  return { list: merged.slice(0, FINDINGS_LIST_CAP), cut: merged.length > FINDINGS_LIST_CAP };
}

function seconds(from: string | null, to: string): number | null {
  return from ? Math.max(0, Math.round((Date.parse(to) - Date.parse(from)) / 10) / 100) : null;
}

/** The fingerprints of a scan's current attempt. */
async function fingerprintsOf(reader: ProjectionReader, scan: { _id: string; attempt: number }): Promise<string[]> {
  const rows = await reader.find<ScanFindingDocument>('scan_findings', { scan_id: scan._id });
  return rows.filter((row) => row.attempt === scan.attempt).map((row) => row.fingerprint);
}

/** New and fixed findings against the previous completed scan of the same target, scanner and coverage. */
async function changes(
  reader: ProjectionReader,
  scan: DocumentBody<ScanDocument> & { _id: string },
): Promise<Pick<ScanDocument, 'compared_with' | 'new_findings' | 'fixed_findings'>> {
  const earlier = await reader.find<ScanDocument>(
    'scans',
    { target_id: scan.target_id, scanner_type: scan.scanner_type, status: 'completed' },
    { sort: { completed_at: -1, _id: -1 } },
  );
  const previous = earlier.find((s) => s._id !== scan._id && (s.coverage ?? s.scan_type) === scan.coverage);
  if (!previous) return { compared_with: null, new_findings: null, fixed_findings: null };
  const diff = compareScans(await fingerprintsOf(reader, scan), await fingerprintsOf(reader, previous));
  return { compared_with: previous._id, new_findings: diff.added.length, fixed_findings: diff.fixed.length };
}

export const scansProjection: ManyDocumentProjection = {
  name: 'scans',
  collections: ['scans'],
  canHandle: handlesTypes(ScanEvent.options.map((o) => o.shape.type.value)),
  async project(recorded, reader) {
    const id = String(recorded.data.scanId);
    const current = await reader.get<ScanDocument>('scans', id);
    if (current && (current._position ?? -1) >= recorded.position) return [];
    let doc = evolveScan(current, recorded);
    if (doc && recorded.type === 'ScanCompleted') doc = { ...doc, ...(await changes(reader, { ...doc, _id: id })) };
    return [{ collection: 'scans', id, doc }];
  },
};

/** One scan document from the previous one and an event (pure). */
export function evolveScan(current: ScanDocument | null, recorded: RecordedEvent): DocumentBody<ScanDocument> | null {
  const event = ScanEvent.parse({ type: recorded.type, data: recorded.data });
  if (event.type === 'ScanRequested') {
    const d = event.data;
    return {
      user_id: d.userId,
      target_id: d.targetId,
      website_name: d.targetName,
      website_url: d.targetValue,
      target_type: d.targetType,
      scanner_type: d.scannerType,
      scan_type: d.scanProfile,
      coverage: d.coverage ?? d.scanProfile,
      scan_config: d.scanConfig,
      status: 'pending',
      attempt: 1,
      progress: { percent: 0, phase: 'pending' },
      credits: d.credits,
      timeout_ms: d.timeoutMs,
      created_at: d.requestedAt,
      queued_at: null,
      started_at: null,
      completed_at: null,
      duration: null,
      risk_level: null,
      security_score: null,
      vulnerabilities_found: 0,
      vulnerabilities_by_risk: { ...EMPTY_BY_RISK },
      findings: [],
      findings_count: 0,
      findings_truncated: false,
      compared_with: null,
      new_findings: null,
      fixed_findings: null,
      scan_result: null,
      error: null,
      last_activity_at: d.requestedAt,
    } satisfies DocumentBody<ScanDocument>;
  }
  if (!current) return null;
  const doc: DocumentBody<ScanDocument> = { ...current };
  switch (event.type) {
    case 'ScanQueued':
      return {
        ...doc,
        status: 'queued',
        queued_at: event.data.queuedAt,
        progress: { percent: 0, phase: 'queued' },
        last_activity_at: event.data.queuedAt,
      };
    case 'ScanStarted':
      return {
        ...doc,
        status: 'running',
        started_at: event.data.startedAt,
        progress: { percent: 0, phase: 'starting' },
        last_activity_at: event.data.startedAt,
      };
    case 'ScanProgressed':
      return {
        ...doc,
        progress: { percent: Math.round(event.data.percent * 10) / 10, phase: event.data.phase },
        last_activity_at: event.data.at,
      };
    case 'FindingsReported': {
      if (event.data.attempt !== doc.attempt) return doc;
      const merged = mergeFindings(doc.findings, event.data.findings);
      return {
        ...doc,
        findings: merged.list,
        findings_count: (doc.findings_count ?? 0) + event.data.findings.length,
        findings_truncated: (doc.findings_truncated ?? false) || merged.cut,
        ...(event.data.scanResult ? { scan_result: event.data.scanResult } : {}),
      };
    }
    case 'ScanCompleted':
      return {
        ...doc,
        status: 'completed',
        completed_at: event.data.completedAt,
        duration: seconds(doc.started_at, event.data.completedAt),
        risk_level: event.data.riskLevel,
        security_score: event.data.securityScore,
        vulnerabilities_found: event.data.vulnerabilitiesFound,
        vulnerabilities_by_risk: { ...EMPTY_BY_RISK, ...event.data.byRisk },
        scan_result: event.data.scanResult ?? doc.scan_result,
        progress: { percent: 100, phase: 'done' },
        last_activity_at: event.data.completedAt,
      };
    case 'ScanFailed':
      return {
        ...doc,
        status: 'failed',
        completed_at: event.data.failedAt,
        duration: seconds(doc.started_at, event.data.failedAt),
        error: { code: event.data.code, reason: event.data.reason },
        progress: { ...doc.progress, phase: 'failed' },
        last_activity_at: event.data.failedAt,
      };
    case 'ScanCancelled':
      return {
        ...doc,
        status: 'cancelled',
        completed_at: event.data.cancelledAt,
        duration: seconds(doc.started_at, event.data.cancelledAt),
        progress: { ...doc.progress, phase: 'cancelled' },
        last_activity_at: event.data.cancelledAt,
      };
    case 'ScanRetried':
      return {
        ...doc,
        status: 'pending',
        attempt: event.data.attempt,
        started_at: null,
        findings: [],
        findings_count: 0,
        findings_truncated: false,
        progress: { percent: 0, phase: 'retrying' },
        last_activity_at: event.data.retriedAt,
      };
    default:
      return doc;
  }
}
