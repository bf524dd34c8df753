import { z } from 'zod';
import { ScannerTypeSchema, type ScannerType } from '../domain/scans/scan.events.js';
import { ScannerFinding } from '../domain/shared/finding.js';
import { TARGET_TYPES } from '../domain/targets/targetValue.js';

/** Bus topics between the dispatcher, the scanner workers and the results consumer. */
export const topics = {
  /** Jobs for one scanner, keyed by scan id. */
  jobs: (scanner: ScannerType) => `secably.scans.${scanner}`,
  /** What workers report (started, progress, completed, failed), keyed by scan id. */
  results: 'secably.scan-results',
  /** Cancellations relayed to every worker. */
  control: 'secably.scan-control',
} as const;

export const ScanJob = z.object({
  scanId: z.string(),
  attempt: z.number().int().min(1),
  userId: z.string(),
  targetId: z.string(),
  targetValue: z.string(),
  targetType: z.enum(TARGET_TYPES),
  scannerType: ScannerTypeSchema,
  scanConfig: z.record(z.string(), z.unknown()),
  timeoutMs: z.number().int().positive(),
});
export type ScanJob = z.infer<typeof ScanJob>;

const common = { scanId: z.string(), attempt: z.number().int().min(1), workerId: z.string(), at: z.string() };

export const ScanReport = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('started'), ...common }),
  z.object({ kind: z.literal('progress'), ...common, percent: z.number(), phase: z.string() }),
  /** One bounded batch of findings (0, 1, …), sent before `completed`. */
  z.object({
    kind: z.literal('findings'),
    ...common,
    batch: z.number().int().min(0),
    findings: z.array(ScannerFinding),
  }),
  /** The end of an attempt: how many batches and findings it sent, and the scanner's result. */
  z.object({
    kind: z.literal('completed'),
    ...common,
    findingsCount: z.number().int().min(0),
    batches: z.number().int().min(0),
    scanResult: z.record(z.string(), z.unknown()),
  }),
  z.object({ kind: z.literal('failed'), ...common, code: z.string(), reason: z.string() }),
]);
export type ScanReport = z.infer<typeof ScanReport>;

export const ScanControl = z.object({ scanId: z.string(), action: z.literal('cancel') });
export type ScanControl = z.infer<typeof ScanControl>;
