import { assertNever, DomainError, type Decider } from '../shared/decider.js';
import { identify, type Finding, type Risk, type ScannerFinding } from '../shared/finding.js';
import type { TargetType } from '../targets/targetValue.js';
import type { ScanEvent, ScannerType, ScanStatus } from './scan.events.js';
import { summarizeCounts } from './scoring.js';

/**
 * A scan's life: pending → queued → running → completed | failed | cancelled
 * (spec part 2, item 3). Workers report at least once and may be late or
 * duplicated: anything about an attempt other than the current one, or about a
 * scan that has already ended, changes nothing.
 */
export const MAX_ATTEMPTS = 2;

export type ScanCommand =
  | {
      type: 'RequestScan';
      scanId: string;
      userId: string;
      targetId: string;
      targetName: string;
      targetValue: string;
      targetType: TargetType;
      scannerType: ScannerType;
      scanProfile: string;
      coverage?: string;
      scanConfig: Record<string, unknown>;
      credits: number;
      timeoutMs: number;
      now: string;
    }
  | { type: 'QueueScan'; attempt: number; now: string }
  | { type: 'StartScan'; attempt: number; workerId: string; now: string }
  | { type: 'ReportProgress'; attempt: number; percent: number; phase: string; now: string }
  /** One batch of findings of the running attempt; the decider gives each its identity on this target. */
  | { type: 'ReportFindings'; attempt: number; batch: number; findings: readonly ScannerFinding[]; now: string }
  /** The attempt is done: it reported `batches` batches holding `findingsCount` findings in all. */
  | {
      type: 'CompleteScan';
      attempt: number;
      findingsCount: number;
      batches: number;
      scanResult: Record<string, unknown>;
      now: string;
    }
  /** `attempt` undefined: the system gives up on the scan whatever attempt runs. */
  | { type: 'FailScan'; attempt?: number; code: string; reason: string; now: string }
  | { type: 'CancelScan'; userId: string; now: string }
  /** A lost attempt: try again, or fail when attempts are used up. */
  | { type: 'RetryScan'; attempt: number; reason: string; now: string };

export type ScanState =
  | { readonly status: 'none' }
  | {
      readonly status: ScanStatus;
      readonly scanId: string;
      readonly userId: string;
      readonly targetId: string;
      readonly scannerType: ScannerType;
      readonly attempt: number;
      readonly startedAt: string | null;
      /** What the current attempt has reported so far. */
      readonly reported: Reported;
    };

/** The batches of findings the current attempt reported, and their counts by risk. */
export interface Reported {
  readonly batches: readonly number[];
  readonly findings: number;
  readonly byRisk: Readonly<Record<Risk, number>>;
}

const NOTHING_REPORTED: Reported = {
  batches: [],
  findings: 0,
  byRisk: { critical: 0, high: 0, medium: 0, low: 0, info: 0 },
};

function withBatch(reported: Reported, batch: number, findings: readonly Pick<Finding, 'risk'>[]): Reported {
  const byRisk = { ...reported.byRisk };
  for (const finding of findings) byRisk[finding.risk] += 1;
  return { batches: [...reported.batches, batch], findings: reported.findings + findings.length, byRisk };
}

type Existing = Exclude<ScanState, { status: 'none' }>;

const ENDED: readonly ScanStatus[] = ['completed', 'failed', 'cancelled'];
export const isEnded = (status: ScanStatus) => ENDED.includes(status);

function existing(state: ScanState): Existing {
  if (state.status === 'none') throw new DomainError('Scan not found.', 'not_found', 'not_found');
  return state;
}

function decide(command: ScanCommand, state: ScanState): ScanEvent[] {
  if (command.type === 'RequestScan') {
    if (state.status !== 'none') return []; // the same request again
    const { type: _type, now, ...data } = command;
    return [{ type: 'ScanRequested', data: { ...data, requestedAt: now } }];
  }
  const scan = existing(state);
  const ids = { scanId: scan.scanId, userId: scan.userId, targetId: scan.targetId };
  const current = command.type !== 'CancelScan' && command.type !== 'FailScan' && command.attempt === scan.attempt;
  switch (command.type) {
    case 'QueueScan':
      return current && scan.status === 'pending'
        ? [{ type: 'ScanQueued', data: { ...ids, attempt: scan.attempt, queuedAt: command.now } }]
        : [];
    case 'StartScan':
      return current && (scan.status === 'pending' || scan.status === 'queued')
        ? [
            {
              type: 'ScanStarted',
              data: { ...ids, attempt: scan.attempt, workerId: command.workerId, startedAt: command.now },
            },
          ]
        : [];
    case 'ReportProgress':
      return current && scan.status === 'running'
        ? [
            {
              type: 'ScanProgressed',
              data: {
                ...ids,
                attempt: scan.attempt,
                percent: Math.min(100, Math.max(0, command.percent)),
                phase: command.phase.slice(0, 100),
                at: command.now,
              },
            },
          ]
        : [];
    case 'ReportFindings': {
      if (!current || scan.status !== 'running' || scan.reported.batches.includes(command.batch)) return [];
      return [
        {
          type: 'FindingsReported',
          data: {
            ...ids,
            attempt: scan.attempt,
            batch: command.batch,
            findings: identifyAll(command.findings, scan),
            reportedAt: command.now,
          },
        },
      ];
    }
    case 'CompleteScan': {
      if (!current || scan.status !== 'running') return [];
      const { reported } = scan;
      if (reported.batches.length !== command.batches || reported.findings !== command.findingsCount) {
        // A batch went missing on the way (never expected: reports are ordered per scan and
        // acknowledged once stored). Completing would under-report: fail, which refunds.
        return [
          {
            type: 'ScanFailed',
            data: {
              ...ids,
              attempt: scan.attempt,
              code: 'report_incomplete',
              reason:
                `the worker reported ${command.batches} batches of ${command.findingsCount} findings in all, ` +
                `but ${reported.batches.length} batches of ${reported.findings} arrived`,
              failedAt: command.now,
            },
          },
        ];
      }
      const summary = summarizeCounts(reported.byRisk);
      const durationMs = scan.startedAt ? Math.max(0, Date.parse(command.now) - Date.parse(scan.startedAt)) : 0;
      return [
        {
          type: 'ScanCompleted',
          data: {
            ...ids,
            attempt: scan.attempt,
            riskLevel: summary.riskLevel,
            securityScore: summary.securityScore,
            vulnerabilitiesFound: summary.vulnerabilitiesFound,
            byRisk: summary.byRisk,
            durationMs,
            findingsCount: reported.findings,
            batches: reported.batches.length,
            scanResult: command.scanResult,
            completedAt: command.now,
          },
        },
      ];
    }
    case 'FailScan':
      if (isEnded(scan.status) || (command.attempt !== undefined && command.attempt !== scan.attempt)) return [];
      return [
        {
          type: 'ScanFailed',
          data: { ...ids, attempt: scan.attempt, code: command.code, reason: command.reason, failedAt: command.now },
        },
      ];
    case 'CancelScan':
      if (scan.userId !== command.userId) throw new DomainError('Scan not found.', 'not_found', 'not_found');
      if (scan.status === 'cancelled') return [];
      if (isEnded(scan.status)) {
        throw new DomainError(
          `The scan has already ${scan.status === 'completed' ? 'completed' : 'failed'}.`,
          'scan_ended',
          'conflict',
          {
            status: scan.status,
          },
        );
      }
      return [
        {
          type: 'ScanCancelled',
          data: { ...ids, wasRunning: scan.status === 'running', attempt: scan.attempt, cancelledAt: command.now },
        },
      ];
    case 'RetryScan':
      if (!current || (scan.status !== 'running' && scan.status !== 'queued' && scan.status !== 'pending')) return [];
      if (scan.attempt >= MAX_ATTEMPTS) {
        return [
          {
            type: 'ScanFailed',
            data: {
              ...ids,
              attempt: scan.attempt,
              code: 'worker_lost',
              reason: `${command.reason}; gave up after ${scan.attempt} attempts`,
              failedAt: command.now,
            },
          },
        ];
      }
      return [
        {
          type: 'ScanRetried',
          data: { ...ids, attempt: scan.attempt + 1, reason: command.reason, retriedAt: command.now },
        },
      ];
    default:
      return assertNever(command);
  }
}

/**
 * The findings with their identity (target + scanner + rule + location); the same
 * weakness reported twice in one scan is one finding (the first, with the other's
 * engine among its sources).
 */
export function identifyAll(
  reported: readonly ScannerFinding[],
  scan: { readonly targetId: string; readonly scannerType: string },
): Finding[] {
  const byFingerprint = new Map<string, Finding>();
  for (const raw of reported) {
    const finding = identify(raw, scan);
    const first = byFingerprint.get(finding.fingerprint);
    if (!first) {
      byFingerprint.set(finding.fingerprint, finding);
    } else if (finding.engine !== first.engine && !first.sources?.some((s) => s.engine === finding.engine)) {
      byFingerprint.set(finding.fingerprint, {
        ...first,
        sources: [...(first.sources ?? []), { engine: finding.engine, rule_id: finding.rule_id }].slice(0, 20),
      });
    }
  }
  return [...byFingerprint.values()];
}

function evolve(state: ScanState, event: ScanEvent): ScanState {
  if (event.type === 'ScanRequested') {
    const d = event.data;
    return {
      status: 'pending',
      scanId: d.scanId,
      userId: d.userId,
      targetId: d.targetId,
      scannerType: d.scannerType,
      attempt: 1,
      startedAt: null,
      reported: NOTHING_REPORTED,
    };
  }
  if (state.status === 'none') return state;
  switch (event.type) {
    case 'ScanQueued':
      return { ...state, status: 'queued' };
    case 'ScanStarted':
      return { ...state, status: 'running', startedAt: event.data.startedAt };
    case 'ScanProgressed':
      return state;
    case 'FindingsReported':
      return event.data.attempt === state.attempt
        ? { ...state, reported: withBatch(state.reported, event.data.batch, event.data.findings) }
        : state;
    case 'ScanCompleted':
      return { ...state, status: 'completed' };
    case 'ScanFailed':
      return { ...state, status: 'failed' };
    case 'ScanCancelled':
      return { ...state, status: 'cancelled' };
    case 'ScanRetried':
      return { ...state, status: 'pending', attempt: event.data.attempt, startedAt: null, reported: NOTHING_REPORTED };
    default:
      return assertNever(event);
  }
}

export const scanDecider: Decider<ScanCommand, ScanEvent, ScanState> = {
  decide,
  evolve,
  initialState: () => ({ status: 'none' }),
};
