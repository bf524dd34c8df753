/**
 * The scanner plug-in boundary. A scanner is one folder `scanners/<name>/` with:
 *
 * - `<name>.definition.ts` (or `.plugin.ts`): a `ScannerPlugin` — what the API needs to
 *   validate, price, route and document a scan. It must not import the runner, so
 *   the API process never loads scanner engines.
 * - a runner module, loaded only by workers through `plugin.loadRunner()` (a dynamic
 *   `import()`), that runs one scan and returns findings and the typed `scan_result`.
 * - a pure parser or rule set from raw output to findings, and fixtures of real output.
 *
 * The registry (`scanners/registry.ts`) is a list of plug-ins; routes, prices,
 * config validation, the worker's scanner list and the docs derive from it.
 */
import type { z } from 'zod';
import type { ScannerFinding } from '../../domain/shared/finding.js';
import type { TargetType } from '../../domain/targets/targetValue.js';

export interface ScanProgress {
  /** 0-100, never decreasing. */
  readonly percent: number;
  /** What runs now ('spider', 'TLS 1.2 ciphers', 'Connect Scan', …). */
  readonly phase: string;
}

/** A priced profile of a scanner (a row of the public price list). */
export interface ScanProfile {
  readonly name: string;
  readonly credits: number;
  /** Typical duration, minutes (shown as `estimated_duration`). */
  readonly typicalMinutes: number;
  readonly description: string;
}

/** The target of one job, as the worker hands it to a runner. */
export interface ScanTarget {
  readonly id: string;
  /** The stored, normalized value (IP, hostname, URL, CIDR). */
  readonly value: string;
  readonly type: TargetType;
  /**
   * The name to speak to: the hostname (Host header, SNI, certificate name check,
   * finding locations), or the IP literal when the target is an IP (IPv6 unbracketed);
   * for ranges the CIDR.
   */
  readonly hostname: string;
  /** A URL target's scheme, port and path. */
  readonly url?: { readonly scheme: 'http' | 'https'; readonly port: number; readonly path: string };
}

export interface ScanJobInput {
  /**
   * The checked address to connect to: an IP (never a hostname: DNS was resolved and
   * checked just before, and must not be asked again) or, for a range, the CIDR.
   */
  readonly host: string;
  readonly target: ScanTarget;
  /** The scan_config as validated by the plug-in's schema (and its `prepareConfig`). */
  readonly config: Record<string, unknown>;
  readonly timeoutMs: number;
  /** Aborted on cancel and on worker shutdown: stop every child process and request at once. */
  readonly signal: AbortSignal;
  readonly onProgress: (progress: ScanProgress) => void;
  readonly scanId: string;
  /** @deprecated use `target.value` */
  readonly targetValue: string;
  /** @deprecated use `target.type` */
  readonly targetType: TargetType;
}

export interface ScanOutput {
  /** Every finding (the worker sends them in bounded batches). */
  readonly findings: readonly ScannerFinding[];
  /** The scanner's typed result (its `resultSchema`); must stay well under 512 KiB as JSON. */
  readonly scanResult: Record<string, unknown>;
}

export type ScannerRunner = (input: ScanJobInput) => Promise<ScanOutput>;

/** What a worker's environment offers runners (binaries' paths, external engines' URLs), parsed at start. */
export type ScannerSettings = Readonly<Record<string, unknown>>;

/** Context a plug-in may use at request time (e.g. to look up the user's own templates). */
export interface PrepareContext {
  readonly userId: string;
  readonly targetType: TargetType;
  /** Finds documents of a read model (owner checks are the plug-in's job). */
  readonly readModel: (collection: string) => { get(id: string): Promise<Record<string, unknown> | null> };
}

/** A refusal of a scan request by a plug-in: a 400 with a field error. */
export class ScanConfigRefusal extends Error {
  constructor(
    message: string,
    /** The field, relative to scan_config ('templates.0'), or 'target' for the target itself. */
    readonly field: string,
  ) {
    super(message);
    this.name = 'ScanConfigRefusal';
  }
}

export interface ScannerPlugin<Config extends Record<string, unknown> = Record<string, unknown>> {
  /** The public `scanner_type` ('nmap', 'sslyze', 'zap', 'nuclei', 'openvas'); also the route `/<type>/scan/`. */
  readonly type: string;
  readonly title: string;
  /** One paragraph for the docs. */
  readonly description: string;
  /** Validates and normalizes the user's scan_config (strict: unknown keys are errors; defaults filled). */
  readonly configSchema: z.ZodType<Config>;
  /** The priced profiles; `profileOf` picks one for a validated config. */
  readonly profiles: readonly ScanProfile[];
  profileOf(config: Config): string;
  /** How long one run may take before it is stopped and failed. */
  timeoutMs(config: Config): number;
  /** Target types it scans; others are refused with a 400 before anything is charged. */
  readonly targetTypes: readonly TargetType[];
  /**
   * What a scan with this config looks at, as a short stable key: a later completed
   * scan with the same scanner and coverage that no longer reports a finding fixes it;
   * a scan with another coverage never does. Default: the profile.
   */
  coverageOf?(config: Config): string;
  /**
   * Request-time work after validation (e.g. resolve template ids to the owner's
   * templates). Throws ScanConfigRefusal for a 400. The result is what the job gets.
   */
  prepareConfig?(config: Config, context: PrepareContext): Promise<Config>;
  /**
   * What of a stored scan_config the API shows back (default: all of it); e.g. the
   * nuclei plug-in keeps template ids and hides the template snapshots it added.
   */
  publicConfig?(config: Config): Record<string, unknown>;
  /** The shape of `scan_result` (documented; checked by the worker before reporting). */
  readonly resultSchema: z.ZodType<Record<string, unknown>>;
  /** Environment settings its runner reads (merged into the service's config schema). */
  readonly settingsSchema?: z.ZodObject;
  /** Debian packages its runner needs (Dockerfile, CI, docs). */
  readonly debianPackages?: readonly string[];
  /**
   * Loads the runner (workers only; a dynamic import keeps engines out of the API
   * process). `settings` is the parsed environment. Absent: the scanner is not
   * available yet (its scans answer 501 and charge nothing).
   */
  readonly loadRunner?: (settings: ScannerSettings) => Promise<ScannerRunner>;
}

/** A plug-in of any config type (the registry holds these). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyScannerPlugin = ScannerPlugin<any>;

/** Identity helper that keeps a plug-in's config type checked. */
export function defineScanner<Config extends Record<string, unknown>>(
  plugin: ScannerPlugin<Config>,
): ScannerPlugin<Config> {
  return plugin;
}
