import type { ReadModelDocument, RecordedEvent } from '../adapters/ports.js';
import { ScanEvent, type ScanStatus } from '../domain/scans/scan.events.js';
import type { Risk } from '../domain/shared/finding.js';
import { TARGET_EVENT_TYPES, TargetAdded, TargetUpdated } from '../domain/targets/target.events.js';
import type { TargetType } from '../domain/targets/targetValue.js';
import { handlesTypes, type DocumentBody, type Projection } from './projection.js';

/**
 * One document per live target (`_id` = target id); a deleted target's document
 * is removed. Serves GET /targets/ and /websites/ (the older name), and /stats/.
 */
export interface TargetDocument extends ReadModelDocument {
  user_id: string;
  name: string;
  /** The normalized value: canonical IP, lowercase hostname, normalized URL or network/prefix. */
  target_value: string;
  target_type: TargetType;
  description: string;
  /**
   * The reference's `url` field: the target value as stored, for every type (a
   * hostname or IP is not dressed up as `http://…`: nothing says the target speaks HTTP).
   */
  url: string;
  scan_frequency: 'manual';
  active: boolean;
  /** Whether a scan may be started now: the target is active. */
  can_scan: boolean;
  created_at: string;
  updated_at: string;
  /** The most recently requested scan of this target; null until the first one. */
  latest_scan: LatestScan | null;
  /** The latest completed scan's risk level; null before one completes. */
  risk_level: Risk | null;
  /** Global position of the TargetAdded event: breaks created_at ties so paging has a total order. */
  added_position: number;
}

export interface LatestScan {
  readonly id: string;
  readonly scanner_type: string;
  readonly scan_type: string;
  readonly status: ScanStatus;
  readonly created_at: string;
  readonly completed_at: string | null;
  readonly risk_level: Risk | null;
  readonly security_score: number | null;
}

const SCAN_STATUS_OF: Readonly<Record<string, ScanStatus>> = {
  ScanQueued: 'queued',
  ScanStarted: 'running',
  ScanCompleted: 'completed',
  ScanFailed: 'failed',
  ScanCancelled: 'cancelled',
  ScanRetried: 'pending',
};

/** Scan events move the target's `latest_scan` (and `risk_level` when one completes). */
function withScan(current: DocumentBody<TargetDocument>, event: RecordedEvent): DocumentBody<TargetDocument> {
  const scan = ScanEvent.parse({ type: event.type, data: event.data });
  if (scan.type === 'ScanRequested') {
    const d = scan.data;
    return {
      ...current,
      latest_scan: {
        id: d.scanId,
        scanner_type: d.scannerType,
        scan_type: d.scanProfile,
        status: 'pending',
        created_at: d.requestedAt,
        completed_at: null,
        risk_level: null,
        security_score: null,
      },
    };
  }
  const latest = current.latest_scan;
  const status = SCAN_STATUS_OF[scan.type];
  if (!latest || latest.id !== scan.data.scanId || !status) return current;
  if (scan.type === 'ScanCompleted') {
    return {
      ...current,
      risk_level: scan.data.riskLevel,
      latest_scan: {
        ...latest,
        status,
        completed_at: scan.data.completedAt,
        risk_level: scan.data.riskLevel,
        security_score: scan.data.securityScore,
      },
    };
  }
  const completedAt =
    scan.type === 'ScanFailed' ? scan.data.failedAt : scan.type === 'ScanCancelled' ? scan.data.cancelledAt : null;
  return { ...current, latest_scan: { ...latest, status, completed_at: completedAt } };
}

const SCAN_TYPES_FOR_TARGETS = ['ScanRequested', ...Object.keys(SCAN_STATUS_OF)];

export const targetsProjection: Projection<TargetDocument> = {
  name: 'targets',
  collection: 'targets',
  canHandle: handlesTypes([...TARGET_EVENT_TYPES, ...SCAN_TYPES_FOR_TARGETS]),
  documentId: (event) => String(event.data.targetId),
  evolve(current, event) {
    switch (event.type) {
      case 'TargetAdded': {
        const { data } = TargetAdded.parse({ type: event.type, data: event.data });
        return {
          user_id: data.userId,
          name: data.name,
          target_value: data.targetValue,
          target_type: data.targetType,
          description: data.description,
          url: data.targetValue,
          scan_frequency: 'manual',
          active: true,
          can_scan: true,
          created_at: data.addedAt,
          updated_at: data.addedAt,
          latest_scan: null,
          risk_level: null,
          added_position: event.position,
        };
      }
      case 'TargetUpdated': {
        if (!current) return null;
        const { data } = TargetUpdated.parse({ type: event.type, data: event.data });
        const active = data.active ?? current.active;
        return {
          ...current,
          name: data.name ?? current.name,
          description: data.description ?? current.description,
          active,
          can_scan: active,
          updated_at: data.updatedAt,
        };
      }
      case 'TargetDeleted':
        return null;
      default:
        // A scan event; a deleted target's document stays deleted.
        return current ? withScan(current, event) : null;
    }
  },
};
