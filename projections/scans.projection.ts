import type { ReadModelDocument } from '../adapters/ports.js';
import { ScanEvent, type ScannerType, type ScanStatus } from '../domain/scans/scan.events.js';
import type { Finding, Risk } from '../domain/shared/finding.js';
import type { TargetType } from '../domain/targets/targetValue.js';
import { handlesTypes, type DocumentBody, type Projection } from './projection.js';

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
  findings: Finding[];
  scan_result: Record<string, unknown> | null;
  error: { code: string; reason: string } | null;
  /** Last sign of life of the running attempt (start, progress): the watchdog's clock. */
  last_activity_at: string;
}

const EMPTY_BY_RISK = { Critical: 0, High: 0, Medium: 0, Low: 0, Informational: 0 };

function seconds(from: string | null, to: string): number | null {
  return from ? Math.max(0, Math.round((Date.parse(to) - Date.parse(from)) / 10) / 100) : null;
}

export const scansProjection: Projection<ScanDocument> = {
  name: 'scans',
  collection: 'scans',
  canHandle: handlesTypes(ScanEvent.options.map((o) => o.shape.type.value)),
  documentId: (event) => String(event.data.scanId),
  evolve(current, recorded) {
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
      case 'FindingsReported':
        return { ...doc, findings: event.data.findings, scan_result: event.data.scanResult };
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
          progress: { percent: 0, phase: 'retrying' },
          last_activity_at: event.data.retriedAt,
        };
      default:
        return doc;
    }
  },
};
