import { z } from 'zod';
import { Finding, Risk } from '../shared/finding.js';
import { TARGET_TYPES } from '../targets/targetValue.js';

/** A scanner's public name ('nmap', 'sslyze', …): the registry of plug-ins knows which exist. */
export const ScannerTypeSchema = z.string().regex(/^[a-z][a-z0-9_-]{1,31}$/);
export type ScannerType = string;
export const SCAN_STATUSES = ['pending', 'queued', 'running', 'completed', 'failed', 'cancelled'] as const;
export type ScanStatus = (typeof SCAN_STATUSES)[number];

/** Every scan event names its scan, owner and target, so projections need no lookups. */
const ids = { scanId: z.string(), userId: z.string(), targetId: z.string() };

export const ScanRequested = z.object({
  type: z.literal('ScanRequested'),
  data: z.object({
    ...ids,
    targetName: z.string(),
    targetValue: z.string(),
    targetType: z.enum(TARGET_TYPES),
    scannerType: ScannerTypeSchema,
    scanProfile: z.string(),
    /** What the scan looks at (the plug-in's coverage key); absent in old events: the profile. */
    coverage: z.string().max(200).optional(),
    scanConfig: z.record(z.string(), z.unknown()),
    credits: z.number().int().min(0),
    timeoutMs: z.number().int().positive(),
    requestedAt: z.string(),
  }),
});

/** The dispatcher handed the job (this attempt) to the scanner's topic. */
export const ScanQueued = z.object({
  type: z.literal('ScanQueued'),
  data: z.object({ ...ids, attempt: z.number().int().min(1), queuedAt: z.string() }),
});

export const ScanStarted = z.object({
  type: z.literal('ScanStarted'),
  data: z.object({ ...ids, attempt: z.number().int().min(1), workerId: z.string(), startedAt: z.string() }),
});

/** Progress and heartbeat of a running attempt. */
export const ScanProgressed = z.object({
  type: z.literal('ScanProgressed'),
  data: z.object({
    ...ids,
    attempt: z.number().int().min(1),
    percent: z.number().min(0).max(100),
    phase: z.string(),
    at: z.string(),
  }),
});

/**
 * One bounded batch of a scan's findings (schema version 2), each with its identity.
 * A scan reports its findings in batches 0, 1, … before it completes, so that no
 * event and no bus message grows with the size of a scan. Version 1 (before the
 * plug-ins) carried every finding and the scan_result in one event; the upcaster in
 * scan.upcasters.ts reads it as batch 0 with `scanResult`.
 */
export const FindingsReported = z.object({
  type: z.literal('FindingsReported'),
  data: z.object({
    ...ids,
    attempt: z.number().int().min(1),
    batch: z.number().int().min(0),
    findings: z.array(Finding),
    /** Only in version-1 events: the scan_result (now in ScanCompleted). */
    scanResult: z.record(z.string(), z.unknown()).optional(),
    reportedAt: z.string(),
  }),
});

export const ScanCompleted = z.object({
  type: z.literal('ScanCompleted'),
  data: z.object({
    ...ids,
    attempt: z.number().int().min(1),
    riskLevel: Risk,
    securityScore: z.number().min(0).max(100),
    vulnerabilitiesFound: z.number().int().min(0),
    byRisk: z.record(z.string(), z.number().int().min(0)),
    durationMs: z.number().min(0),
    /** Findings in all batches (absent in events written before batches). */
    findingsCount: z.number().int().min(0).optional(),
    /** How many FindingsReported batches the attempt wrote (absent before batches). */
    batches: z.number().int().min(0).optional(),
    /** The scanner's typed result (absent before batches: it was in FindingsReported). */
    scanResult: z.record(z.string(), z.unknown()).optional(),
    completedAt: z.string(),
  }),
});

export const ScanFailed = z.object({
  type: z.literal('ScanFailed'),
  data: z.object({
    ...ids,
    attempt: z.number().int().min(0),
    code: z.string(),
    reason: z.string(),
    failedAt: z.string(),
  }),
});

export const ScanCancelled = z.object({
  type: z.literal('ScanCancelled'),
  data: z.object({ ...ids, wasRunning: z.boolean(), attempt: z.number().int().min(0), cancelledAt: z.string() }),
});

/** A lost attempt (its worker died) is tried again. */
export const ScanRetried = z.object({
  type: z.literal('ScanRetried'),
  data: z.object({ ...ids, attempt: z.number().int().min(2), reason: z.string(), retriedAt: z.string() }),
});

export const ScanEvent = z.discriminatedUnion('type', [
  ScanRequested,
  ScanQueued,
  ScanStarted,
  ScanProgressed,
  FindingsReported,
  ScanCompleted,
  ScanFailed,
  ScanCancelled,
  ScanRetried,
]);
export type ScanEvent = z.infer<typeof ScanEvent>;
export const SCAN_EVENT_TYPES = ScanEvent.options.map((o) => o.shape.type.value);
