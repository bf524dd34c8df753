import { createHash } from 'node:crypto';
import { accountDecider, balanceAt } from '../domain/accounts/account.decider.js';
import { AccountEvent } from '../domain/accounts/account.events.js';
import { idempotencyDecider } from '../domain/idempotency/idempotency.decider.js';
import { IdempotencyEvent } from '../domain/idempotency/idempotency.events.js';
import { scanDecider } from '../domain/scans/scan.decider.js';
import { ScanEvent, type ScannerType } from '../domain/scans/scan.events.js';
import { DomainError } from '../domain/shared/decider.js';
import { ownedTarget, targetDecider } from '../domain/targets/target.decider.js';
import { TargetEvent } from '../domain/targets/target.events.js';
import { parseTargetValue } from '../domain/targets/targetValue.js';
import type { ScannerRegistry } from '../scanners/registry.js';
import { ScanConfigRefusal, type AnyScannerPlugin } from '../scanners/shared/scanner.js';
import { streams, type CommandDeps } from './deps.js';
import { aggregateState, handleCommand } from './handleCommand.js';
import { guardTarget } from './targetGuard.js';

export interface ScanRequest {
  readonly targetId: string;
  readonly scannerType: ScannerType;
  readonly scanConfig: unknown;
}

/** What a scan-starting endpoint answers (spec: start responses). */
export interface ScanStartAnswer {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

/** Raised for answers that are not domain refusals: an invalid scan_config, a scanner not available yet. */
export class ScanRequestError extends Error {
  constructor(
    readonly status: 400 | 501,
    message: string,
    readonly code: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'ScanRequestError';
  }
}

export function scanPrice(scanners: ScannerRegistry, scannerType: ScannerType, profile: string) {
  const price = scanners.profile(scannerType, profile);
  if (!price) throw new Error(`no price for ${scannerType}/${profile}`);
  return price;
}

/** Validates a scan_config for a scanner; field errors are named `scan_config.<field>`. */
export function validateScanConfig(plugin: AnyScannerPlugin, scanConfig: unknown): Record<string, unknown> {
  const parsed = plugin.configSchema.safeParse(scanConfig ?? {});
  if (parsed.success) return parsed.data;
  const fields: Record<string, string[]> = {};
  for (const issue of parsed.error.issues) {
    const key = ['scan_config', ...issue.path].join('.');
    (fields[key] ??= []).push(issue.message);
  }
  throw new ScanRequestError(400, 'Invalid scan_config.', 'validation_error', { fields });
}

/**
 * Starts a scan: checks the target (yours, active, still allowed — DNS is
 * resolved again), validates and prices the scan_config, reserves the credits on
 * the account stream (an expected-revision append: concurrent requests cannot
 * spend the same credits), then appends ScanRequested. The dispatcher takes it
 * from there.
 */
export async function requestScan(deps: CommandDeps, userId: string, request: ScanRequest, scanId: string) {
  const { state: target } = await aggregateState(
    deps.store,
    streams.target(request.targetId),
    targetDecider,
    TargetEvent,
  );
  const owned = ownedTarget(target, userId);
  if (!owned.active) {
    throw new DomainError('This target is inactive; activate it to scan it.', 'target_inactive', 'conflict');
  }
  const scanner = deps.scanners.get(request.scannerType);
  if (!scanner) {
    throw new ScanRequestError(400, `Unknown scanner_type "${request.scannerType}".`, 'validation_error', {
      fields: { scanner_type: [`must be one of ${deps.scanners.types.join(', ')}`] },
    });
  }
  let config = validateScanConfig(scanner, request.scanConfig);
  if (!scanner.targetTypes.includes(owned.targetType)) {
    throw new ScanRequestError(
      400,
      `The ${scanner.title} scanner does not scan ${owned.targetType} targets; it scans ${scanner.targetTypes.join(', ')} targets.`,
      'target_type_not_supported',
      { fields: { target_id: [`a ${owned.targetType} target cannot be scanned by ${scanner.type}`] } },
    );
  }
  if (!scanner.loadRunner) {
    throw new ScanRequestError(
      501,
      `The ${scanner.title} scanner is not available yet; no scan was started and nothing was charged.`,
      'scanner_not_available',
      { scanner_type: request.scannerType },
    );
  }
  if (scanner.prepareConfig) {
    try {
      config = await scanner.prepareConfig(config, {
        userId,
        targetType: owned.targetType,
        readModel: (collection) => deps.readModels.collection(collection),
      });
    } catch (error) {
      if (!(error instanceof ScanConfigRefusal)) throw error;
      throw new ScanRequestError(400, error.message, 'validation_error', {
        fields: { [error.field === 'target' ? 'target_id' : `scan_config.${error.field}`]: [error.message] },
      });
    }
  }
  const profile = scanner.profileOf(config);
  const price = scanPrice(deps.scanners, request.scannerType, profile);

  const parsed = parseTargetValue(owned.targetValue, owned.targetType);
  if (!parsed.ok) throw new DomainError(parsed.error, 'target_invalid', 'invalid');
  const guard = await guardTarget(deps.targetGuard, parsed.value);
  if (!guard.ok) throw new DomainError(guard.reason, guard.code, 'invalid');

  const now = deps.clock.now().toISOString();
  let reservation;
  try {
    reservation = await handleCommand(deps, streams.account(userId), accountDecider, AccountEvent, {
      type: 'ReserveCredits',
      scanId,
      credits: price.credits,
      now,
    });
  } catch (error) {
    if (error instanceof DomainError && error.code === 'insufficient_credits') {
      throw new DomainError(error.message, error.code, error.kind, {
        ...error.details,
        scanner_type: request.scannerType,
        scan_profile: profile,
        upgrade_url: '/pricing/',
      });
    }
    throw error;
  }
  const requested = await handleCommand(deps, streams.scan(scanId), scanDecider, ScanEvent, {
    type: 'RequestScan',
    scanId,
    userId,
    targetId: owned.targetId,
    targetName: owned.name,
    targetValue: owned.targetValue,
    targetType: owned.targetType,
    scannerType: request.scannerType,
    scanProfile: profile,
    coverage: scanner.coverageOf?.(config) ?? profile,
    scanConfig: config,
    credits: price.credits,
    timeoutMs: scanner.timeoutMs(config),
    now,
  });
  if (requested.position !== undefined) await deps.readModelsAt(requested.position);
  const balance = balanceAt(reservation.state, now);
  return {
    scanId,
    profile,
    credits: price.credits,
    creditsRemaining: balance.available,
    createdAt: now,
    estimatedMinutes: price.typicalMinutes,
  };
}

/** JSON with object keys sorted, so the same request always hashes the same. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** A stable hash of what was asked, to tell a retry from another request reusing the key. */
export function requestHash(parts: Record<string, unknown>): string {
  return createHash('sha256').update(canonicalJson(parts)).digest('hex');
}

/**
 * Runs `work` once per (user, Idempotency-Key): a retry with the same key and the
 * same request gets the first answer back, without doing the work again; the same
 * key with another request is a 409. The claim carries the resource (scan) id, so
 * even a request that crashed half-way is finished, not repeated, by its retry.
 */
export async function withIdempotency(
  deps: CommandDeps,
  userId: string,
  key: string | undefined,
  hash: string,
  work: (resourceId: string) => Promise<ScanStartAnswer>,
  /** How an error becomes a 4xx answer to remember (undefined: not an answer, e.g. a 5xx). */
  refusalOf: (error: unknown) => ScanStartAnswer | undefined,
): Promise<ScanStartAnswer> {
  if (key === undefined) return work(deps.ids.uuid());
  const stream = streams.idempotency(userId, createHash('sha256').update(key).digest('hex'));
  const now = () => deps.clock.now().toISOString();
  const claim = await handleCommand(deps, stream, idempotencyDecider, IdempotencyEvent, {
    type: 'ClaimKey',
    userId,
    requestHash: hash,
    resourceId: deps.ids.uuid(),
    now: now(),
  });
  if (claim.state.status === 'answered' && claim.state.response) {
    return { status: claim.state.response.status, body: { ...claim.state.response.body } };
  }
  if (claim.state.status === 'free') throw new Error('idempotency claim not recorded');
  let answer: ScanStartAnswer;
  try {
    answer = await work(claim.state.resourceId);
  } catch (error) {
    // A refusal (4xx) is an answer too: the same retry gets the same refusal.
    const refusal = refusalOf(error);
    if (!refusal) throw error;
    answer = refusal;
  }
  await handleCommand(deps, stream, idempotencyDecider, IdempotencyEvent, {
    type: 'RecordResponse',
    userId,
    status: answer.status,
    body: answer.body,
    now: now(),
  });
  return answer;
}

export async function cancelScan(deps: CommandDeps, userId: string, scanId: string) {
  const result = await handleCommand(deps, streams.scan(scanId), scanDecider, ScanEvent, {
    type: 'CancelScan',
    userId,
    now: deps.clock.now().toISOString(),
  });
  if (result.position !== undefined) await deps.readModelsAt(result.position);
  return result.state;
}
