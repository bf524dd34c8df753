/**
 * The report model: a pure fold of a scan's event stream (the events as the
 * upcasting store hands them out, in revision order). Every export is built from it
 * and from the findings of the batches it counts, never from a read model.
 *
 * The fold keeps a bounded state: what the scan is, how it ended, and where its
 * findings are (the revision, batch number and size of every FindingsReported event),
 * never the findings themselves — a scan may hold tens of thousands; they are read
 * again, batch by batch, when a report is written (`countedFindings`).
 *
 * Which findings count: those of the attempt that completed (ScanCompleted.attempt),
 * each batch number once (the first event with it; the decider never writes a batch
 * twice, but a report does not rely on it). A legacy (version 1, upcast) event is
 * batch 0 and carries the scan_result itself. A scan that has not completed counts the
 * batches of its current attempt (exports refuse such scans, the model still says
 * what it holds).
 */
import { z } from 'zod';
import type { RecordedEvent } from '../adapters/ports.js';
import { FindingsReported, ScanEvent, SCAN_EVENT_TYPES, type ScanStatus } from '../domain/scans/scan.events.js';
import { RISK_LABELS } from '../domain/scans/scoring.js';
import { Risk as RiskSchema, RISKS, type Finding, type Risk } from '../domain/shared/finding.js';
import type { TargetType } from '../domain/targets/targetValue.js';

export type RiskCounts = Readonly<Record<Risk, number>>;

export interface FindingBatch {
  readonly revision: number;
  readonly attempt: number;
  readonly batch: number;
  readonly count: number;
  readonly byRisk: RiskCounts;
}

export interface ReportModel {
  readonly stream: string;
  /** Revision of the last event folded (-1: none). */
  readonly lastRevision: number;
  readonly eventCount: number;
  /** 'none': the stream holds no ScanRequested. */
  readonly status: ScanStatus | 'none';
  readonly scanId: string;
  readonly userId: string;
  readonly target: { readonly id: string; readonly name: string; readonly value: string; readonly type: TargetType };
  readonly scanner: {
    readonly type: string;
    readonly profile: string;
    readonly coverage: string;
    readonly config: Record<string, unknown>;
    readonly credits: number;
    readonly timeoutMs: number;
  };
  readonly requestedAt: string;
  readonly queuedAt: string | null;
  readonly startedAt: string | null;
  /** When the scan completed, failed or was cancelled. */
  readonly endedAt: string | null;
  /** The current attempt (the completed one, for a completed scan). */
  readonly attempt: number;
  readonly workerId: string | null;
  /** What ScanCompleted recorded (null unless completed). */
  readonly outcome: {
    readonly riskLevel: Risk;
    readonly securityScore: number;
    readonly vulnerabilitiesFound: number;
    readonly byRisk: RiskCounts;
    readonly durationMs: number;
    readonly scanResult: Record<string, unknown> | null;
  } | null;
  readonly failure: { readonly code: string; readonly reason: string } | null;
  /** The batches whose findings the report holds, in stream order. */
  readonly batches: readonly FindingBatch[];
  /** Findings in those batches, and their counts by risk. */
  readonly findingsCount: number;
  readonly findingsByRisk: RiskCounts;
  /** ScanCompleted's own count (absent in legacy events), to check the batches against. */
  readonly declaredFindingsCount: number | null;
}

export interface ReportState {
  readonly model: Omit<ReportModel, 'batches' | 'findingsCount' | 'findingsByRisk'>;
  /** Every FindingsReported event seen (revision, attempt, batch, size): bounded by the number of batches. */
  readonly reported: readonly FindingBatch[];
  /** A legacy event's scan_result, by revision. */
  readonly legacyResults: ReadonlyMap<number, Record<string, unknown>>;
}

const NO_RISKS: RiskCounts = { critical: 0, high: 0, medium: 0, low: 0, info: 0 };

export function initialReportState(stream: string): ReportState {
  return {
    model: {
      stream,
      lastRevision: -1,
      eventCount: 0,
      status: 'none',
      scanId: '',
      userId: '',
      target: { id: '', name: '', value: '', type: 'ip' },
      scanner: { type: '', profile: '', coverage: '', config: {}, credits: 0, timeoutMs: 0 },
      requestedAt: '',
      queuedAt: null,
      startedAt: null,
      endedAt: null,
      attempt: 0,
      workerId: null,
      outcome: null,
      failure: null,
      declaredFindingsCount: null,
    },
    reported: [],
    legacyResults: new Map(),
  };
}

function countsOf(findings: readonly Pick<Finding, 'risk'>[]): RiskCounts {
  const counts: Record<Risk, number> = { ...NO_RISKS };
  for (const finding of findings) counts[finding.risk] += 1;
  return counts;
}

/** ScanCompleted's byRisk ("High": 1, …) by our risk names. */
function byRiskOf(recorded: Readonly<Record<string, number>>): RiskCounts {
  return Object.fromEntries(
    RISKS.map((risk) => [risk, recorded[RISK_LABELS[risk]] ?? recorded[risk] ?? 0]),
  ) as RiskCounts;
}

/**
 * What the fold reads of a batch: where it is and the risk of each finding. The
 * findings themselves are checked in full when they are read for the report
 * (`countedFindings`): reading them twice in full would double the cost of an export.
 */
const BatchOutline = z.object({
  type: z.literal('FindingsReported'),
  data: z.object({
    attempt: z.number().int().min(1),
    batch: z.number().int().min(0),
    findings: z.array(z.object({ risk: RiskSchema })),
    scanResult: z.record(z.string(), z.unknown()).optional(),
  }),
});

const KNOWN_TYPES: ReadonlySet<string> = new Set(SCAN_EVENT_TYPES);

function malformed(recorded: RecordedEvent, error: z.ZodError): Error {
  return new Error(`${recorded.streamName}@${recorded.revision}: malformed ${recorded.type}: ${error.message}`);
}

/** Folds one recorded event (the next revision of the stream). Events of other types are counted, not read. */
export function evolveReport(state: ReportState, recorded: RecordedEvent): ReportState {
  const model = { ...state.model, lastRevision: recorded.revision, eventCount: state.model.eventCount + 1 };
  if (!KNOWN_TYPES.has(recorded.type)) return { ...state, model };
  if (recorded.type === 'FindingsReported') {
    const outline = BatchOutline.safeParse({ type: recorded.type, data: recorded.data });
    if (!outline.success) throw malformed(recorded, outline.error);
    const d = outline.data.data;
    const batch: FindingBatch = {
      revision: recorded.revision,
      attempt: d.attempt,
      batch: d.batch,
      count: d.findings.length,
      byRisk: countsOf(d.findings),
    };
    const legacyResults = d.scanResult
      ? new Map([...state.legacyResults, [recorded.revision, d.scanResult]])
      : state.legacyResults;
    return { model, reported: [...state.reported, batch], legacyResults };
  }
  const known = ScanEvent.safeParse({ type: recorded.type, data: recorded.data });
  if (!known.success) throw malformed(recorded, known.error);
  const event = known.data;
  switch (event.type) {
    case 'ScanRequested': {
      const d = event.data;
      return {
        ...state,
        model: {
          ...model,
          status: 'pending',
          scanId: d.scanId,
          userId: d.userId,
          target: { id: d.targetId, name: d.targetName, value: d.targetValue, type: d.targetType },
          scanner: {
            type: d.scannerType,
            profile: d.scanProfile,
            coverage: d.coverage ?? d.scanProfile,
            config: d.scanConfig,
            credits: d.credits,
            timeoutMs: d.timeoutMs,
          },
          requestedAt: d.requestedAt,
          attempt: 1,
        },
      };
    }
    case 'ScanQueued':
      return { ...state, model: { ...model, status: 'queued', queuedAt: event.data.queuedAt } };
    case 'ScanStarted':
      return {
        ...state,
        model: { ...model, status: 'running', startedAt: event.data.startedAt, workerId: event.data.workerId },
      };
    case 'ScanProgressed':
      return { ...state, model };
    case 'FindingsReported':
      return { ...state, model }; // read above
    case 'ScanCompleted': {
      const d = event.data;
      return {
        ...state,
        model: {
          ...model,
          status: 'completed',
          attempt: d.attempt,
          endedAt: d.completedAt,
          outcome: {
            riskLevel: d.riskLevel,
            securityScore: d.securityScore,
            vulnerabilitiesFound: d.vulnerabilitiesFound,
            byRisk: byRiskOf(d.byRisk),
            durationMs: d.durationMs,
            scanResult: d.scanResult ?? null,
          },
          declaredFindingsCount: d.findingsCount ?? null,
        },
      };
    }
    case 'ScanFailed':
      return {
        ...state,
        model: {
          ...model,
          status: 'failed',
          endedAt: event.data.failedAt,
          failure: { code: event.data.code, reason: event.data.reason },
        },
      };
    case 'ScanCancelled':
      return { ...state, model: { ...model, status: 'cancelled', endedAt: event.data.cancelledAt } };
    case 'ScanRetried':
      return {
        ...state,
        model: { ...model, status: 'pending', attempt: event.data.attempt, startedAt: null, workerId: null },
      };
    default: {
      const never: never = event;
      return never;
    }
  }
}

/** The model of the events folded so far. */
export function reportOf(state: ReportState): ReportModel {
  const { model } = state;
  const seen = new Set<number>();
  const batches = state.reported.filter((b) => {
    if (b.attempt !== model.attempt || seen.has(b.batch)) return false;
    seen.add(b.batch);
    return true;
  });
  const findingsByRisk: Record<Risk, number> = { ...NO_RISKS };
  for (const b of batches) for (const risk of RISKS) findingsByRisk[risk] += b.byRisk[risk];
  const legacyResult = batches.map((b) => state.legacyResults.get(b.revision)).find((r) => r !== undefined) ?? null;
  const outcome = model.outcome && {
    ...model.outcome,
    scanResult: model.outcome.scanResult ?? legacyResult,
  };
  return {
    ...model,
    outcome,
    batches,
    findingsCount: batches.reduce((sum, b) => sum + b.count, 0),
    findingsByRisk,
  };
}

/** The whole fold over a list of events (tests, small streams). */
export function foldReport(stream: string, events: readonly RecordedEvent[]): ReportModel {
  return reportOf(events.reduce(evolveReport, initialReportState(stream)));
}

/** The findings an event adds to the report: those of a counted batch, else none. */
export function countedFindings(model: ReportModel, recorded: RecordedEvent): Finding[] {
  if (recorded.type !== 'FindingsReported') return [];
  if (!model.batches.some((b) => b.revision === recorded.revision)) return [];
  const event = FindingsReported.safeParse({ type: recorded.type, data: recorded.data });
  if (!event.success) throw malformed(recorded, event.error);
  return event.data.data.findings;
}
