import { balanceAt } from '../domain/accounts/account.decider.js';
import { type ScannerType } from '../domain/scans/scan.events.js';
import { DomainError } from '../domain/shared/decider.js';
import { ownedTarget } from '../domain/targets/target.decider.js';
import { parseTargetValue } from '../domain/targets/targetValue.js';
import type { ScannerRegistry } from '../scanners/registry.js';
import { ScanConfigRefusal, type AnyScannerPlugin } from '../scanners/shared/scanner.js';
import type { CommandDeps } from './deps.js';
import { guardTarget } from './targetGuard.js';
import { accounts, scans, targets } from './aggregates.js';

export interface ScanRequest {
  readonly targetId: string;
  readonly scannerType: ScannerType;
  readonly scanConfig: unknown;
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
  throw new DomainError('Invalid scan_config.', 'validation_error', 'invalid', { fields });
}

/**
 * Starts a scan: checks the target (yours, active, still allowed — DNS is
 * resolved again), validates and prices the scan_config, reserves the credits on
 * the account stream (an expected-revision append: concurrent requests cannot
 * spend the same credits), then appends ScanRequested. The dispatcher takes it
 * from there.
 */
export async function requestScan(deps: CommandDeps, userId: string, request: ScanRequest, scanId: string) {
  const { state: target } = await targets.state(deps, request.targetId);
  const owned = ownedTarget(target, userId);
  if (!owned.active) {
    throw new DomainError('This target is inactive; activate it to scan it.', 'target_inactive', 'conflict');
  }
  const scanner = deps.scanners.get(request.scannerType);
  if (!scanner) {
    throw new DomainError(`Unknown scanner_type "${request.scannerType}".`, 'validation_error', 'invalid', {
      fields: { scanner_type: [`must be one of ${deps.scanners.types.join(', ')}`] },
    });
  }
  let config = validateScanConfig(scanner, request.scanConfig);
  if (!scanner.targetTypes.includes(owned.targetType)) {
    throw new DomainError(
      `The ${scanner.title} scanner does not scan ${owned.targetType} targets; it scans ${scanner.targetTypes.join(', ')} targets.`,
      'target_type_not_supported',
      'invalid',
      { fields: { target_id: [`a ${owned.targetType} target cannot be scanned by ${scanner.type}`] } },
    );
  }
  if (!scanner.loadRunner) {
    throw new DomainError(
      `The ${scanner.title} scanner is not available yet; no scan was started and nothing was charged.`,
      'scanner_not_available',
      'unavailable',
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
      throw new DomainError(error.message, 'validation_error', 'invalid', {
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
    reservation = await accounts.handle(deps, userId, {
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
  const requested = await scans.handle(deps, scanId, {
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
