import type { z } from 'zod';
import type { ScannerType } from '../domain/scans/scan.events.js';
import type { Finding } from '../domain/shared/finding.js';
import type { TargetType } from '../domain/targets/targetValue.js';

export { ScanAbortedError, ScannerUnavailableError, ScanTimeoutError } from './nmap/nmap.scanner.js';

export interface ScanProgress {
  readonly percent: number;
  readonly phase: string;
}

export interface ScanJobInput {
  /** A checked IP address or CIDR (never a hostname: DNS was resolved and checked just before). */
  readonly host: string;
  /** The target as the user gave it (a URL scanner needs the URL). */
  readonly targetValue: string;
  readonly targetType: TargetType;
  readonly config: Record<string, unknown>;
  readonly timeoutMs: number;
  readonly signal: AbortSignal;
  readonly onProgress: (progress: ScanProgress) => void;
}

export interface ScanOutput {
  readonly findings: Finding[];
  readonly scanResult: Record<string, unknown>;
}

/** One scanner: how its scan_config is validated and priced, and how it runs (absent: not available yet). */
export interface ScannerDefinition {
  readonly type: ScannerType;
  readonly title: string;
  /** Validates and normalizes the user's scan_config (strict: unknown keys are errors). */
  readonly configSchema: z.ZodType<Record<string, unknown>>;
  /** The priced profile of a validated config (a row of SCAN_PRICES). */
  profileOf(config: Record<string, unknown>): string;
  /** How long one run may take before it is stopped and failed. */
  timeoutMs(config: Record<string, unknown>): number;
  readonly run?: (input: ScanJobInput) => Promise<ScanOutput>;
}
