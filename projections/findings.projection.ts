import type { ReadModelDocument, RecordedEvent } from '../adapters/ports.js';
import {
  afterSighting,
  fixedBy,
  UNRESOLVED,
  type FindingStatus,
  type FindingTrack,
} from '../domain/findings/findingLifecycle.js';
import { FindingsReported, ScanCompleted } from '../domain/scans/scan.events.js';
import { RISKS, type Finding } from '../domain/shared/finding.js';
import { handlesTypes, type ManyDocumentProjection, type ProjectionWrite } from './projection.js';
import type { ScanDocument } from './scans.projection.js';

/** One finding of one scan (every finding, however many: the scan document keeps only the most severe). */
export interface ScanFindingDocument extends ReadModelDocument, Finding {
  scan_id: string;
  /** The attempt that reported it (a retried scan reports again; its current attempt counts). */
  attempt: number;
  batch: number;
  user_id: string;
  target_id: string;
  scanner_type: string;
  /** 0 critical … 4 info: sorts most severe first. */
  risk_rank: number;
}

/** One finding of one target across its scans: GET /findings/, /targets/{id}/findings/. `_id` is the fingerprint. */
export interface FindingDocument extends ReadModelDocument, Finding {
  user_id: string;
  target_id: string;
  target_name: string;
  target_value: string;
  scanner_type: string;
  risk_rank: number;
  status: FindingStatus;
  first_seen: string;
  last_seen: string;
  first_scan_id: string;
  last_scan_id: string;
  /** How many scans reported it. */
  scans_seen: number;
  /** Coverage keys of the scans that reported it. */
  coverages: string[];
  fixed_at: string | null;
  fixed_in_scan_id: string | null;
  /** What happened to it, oldest first (the last HISTORY_CAP entries). */
  history: { at: string; scan_id: string; status: FindingStatus }[];
}

export const HISTORY_CAP = 100;

const track = (doc: FindingDocument): FindingTrack => ({
  status: doc.status,
  lastScanId: doc.last_scan_id,
  lastSeen: doc.last_seen,
  coverages: doc.coverages,
});

function withHistory(doc: Pick<FindingDocument, 'history'> | null, entry: FindingDocument['history'][number]) {
  return [...(doc?.history ?? []), entry].slice(-HISTORY_CAP);
}

/** Writes of one reported batch: the scan's own finding rows, and each finding's track on its target. */
async function sightings(
  recorded: RecordedEvent,
  reader: Parameters<ManyDocumentProjection['project']>[1],
): Promise<ProjectionWrite[]> {
  const event = FindingsReported.parse({ type: recorded.type, data: recorded.data }).data;
  const scan = await reader.get<ScanDocument>('scans', event.scanId);
  if (!scan) return [];
  const coverage = scan.coverage ?? scan.scan_type;
  const writes: ProjectionWrite[] = [];
  for (const finding of event.findings) {
    const rank = RISKS.indexOf(finding.risk);
    writes.push({
      collection: 'scan_findings',
      id: `${event.scanId}:${finding.fingerprint}`,
      doc: {
        ...finding,
        scan_id: event.scanId,
        attempt: event.attempt,
        batch: event.batch,
        user_id: event.userId,
        target_id: event.targetId,
        scanner_type: scan.scanner_type,
        risk_rank: rank,
      },
    });
    const current = await reader.get<FindingDocument>('findings', finding.fingerprint);
    if (current && (current._position ?? -1) >= recorded.position) continue;
    const next = afterSighting(current ? track(current) : undefined, {
      scanId: event.scanId,
      coverage,
      at: event.reportedAt,
    });
    const newScan = !current || current.last_scan_id !== event.scanId;
    const { _id, _position, ...kept } = current ?? ({} as Partial<FindingDocument>);
    void _id;
    void _position;
    writes.push({
      collection: 'findings',
      id: finding.fingerprint,
      doc: {
        ...kept,
        ...finding,
        user_id: event.userId,
        target_id: event.targetId,
        target_name: scan.website_name,
        target_value: scan.website_url,
        scanner_type: scan.scanner_type,
        risk_rank: rank,
        status: next.status,
        first_seen: current?.first_seen ?? event.reportedAt,
        last_seen: next.lastSeen,
        first_scan_id: current?.first_scan_id ?? event.scanId,
        last_scan_id: next.lastScanId,
        scans_seen: (current?.scans_seen ?? 0) + (newScan ? 1 : 0),
        coverages: [...next.coverages],
        fixed_at: next.status === 'fixed' ? (current?.fixed_at ?? null) : null,
        fixed_in_scan_id: next.status === 'fixed' ? (current?.fixed_in_scan_id ?? null) : null,
        history: newScan
          ? withHistory(current, { at: event.reportedAt, scan_id: event.scanId, status: next.status })
          : (current?.history ?? []),
      },
    });
  }
  return writes;
}

/** A completed scan fixes the unresolved findings of its target and scanner it looked for and did not see. */
async function fixes(
  recorded: RecordedEvent,
  reader: Parameters<ManyDocumentProjection['project']>[1],
): Promise<ProjectionWrite[]> {
  const event = ScanCompleted.parse({ type: recorded.type, data: recorded.data }).data;
  const scan = await reader.get<ScanDocument>('scans', event.scanId);
  if (!scan?.started_at) return [];
  const completed = { scanId: event.scanId, coverage: scan.coverage ?? scan.scan_type, startedAt: scan.started_at };
  const unresolved = await reader.find<FindingDocument>('findings', {
    target_id: event.targetId,
    scanner_type: scan.scanner_type,
    status: { $in: [...UNRESOLVED] },
  });
  const writes: ProjectionWrite[] = [];
  for (const doc of unresolved) {
    if ((doc._position ?? -1) >= recorded.position || !fixedBy(track(doc), completed)) continue;
    const { _id, _position, ...kept } = doc;
    void _position;
    writes.push({
      collection: 'findings',
      id: _id,
      doc: {
        ...kept,
        status: 'fixed',
        fixed_at: event.completedAt,
        fixed_in_scan_id: event.scanId,
        history: withHistory(doc, { at: event.completedAt, scan_id: event.scanId, status: 'fixed' }),
      },
    });
  }
  return writes;
}

/** A deleted target takes its findings with it (its scans stay listed under /scans/). */
async function forget(
  recorded: RecordedEvent,
  reader: Parameters<ManyDocumentProjection['project']>[1],
): Promise<ProjectionWrite[]> {
  const targetId = String(recorded.data.targetId);
  const docs = await reader.find<FindingDocument>('findings', { target_id: targetId });
  return docs.map((doc) => ({ collection: 'findings', id: doc._id, doc: null }));
}

/**
 * Findings as their own model: `scan_findings` (every finding of every scan) and
 * `findings` (one per target and fingerprint, with its lifecycle: new, open, fixed,
 * reopened — see domain/findings/findingLifecycle.ts).
 */
export const findingsProjection: ManyDocumentProjection = {
  name: 'findings',
  collections: ['findings', 'scan_findings'],
  canHandle: handlesTypes(['FindingsReported', 'ScanCompleted', 'TargetDeleted']),
  project(recorded, reader) {
    if (recorded.type === 'FindingsReported') return sightings(recorded, reader);
    if (recorded.type === 'ScanCompleted') return fixes(recorded, reader);
    return forget(recorded, reader);
  },
};
