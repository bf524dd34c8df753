import { PLANS } from '../domain/accounts/plans.js';
import { DomainError } from '../domain/shared/decider.js';
import { cidrSize } from '../domain/targets/ipAddress.js';
import {
  parseTargetValue,
  rangeSizeAllowed,
  type ParsedTarget,
  type TargetType,
} from '../domain/targets/targetValue.js';
import { loadAccount } from './accountStreams.js';
import { targets } from './aggregates.js';
import type { CommandDeps } from './deps.js';
import { guardTarget } from './targetGuard.js';
import { reclaimOrphanSlots, releaseSlot, takeSlot } from './targetSlots.js';

export interface NewTarget {
  readonly name: string;
  readonly targetValue: string;
  /** Inferred from the value when absent. */
  readonly targetType?: TargetType;
  readonly description?: string;
}

function invalid(message: string, code: string, field: 'target_value' | 'target_type'): DomainError {
  return new DomainError(message, code, 'invalid', { fields: { [field]: [message] } });
}

/**
 * Validates the value (strict parse, then the SSRF policy, then the plan's range
 * size) and returns what to store. A parse failure is blamed on `target_type`
 * when the value is fine as another type (the declared type is what is wrong).
 */
async function checkedTarget(deps: CommandDeps, userId: string, input: NewTarget): Promise<ParsedTarget> {
  const parsed = parseTargetValue(input.targetValue, input.targetType);
  if (!parsed.ok) {
    const asInferred = input.targetType === undefined ? null : parseTargetValue(input.targetValue);
    const field = asInferred?.ok ? 'target_type' : 'target_value';
    throw invalid(parsed.error, 'validation_error', field);
  }
  const target = parsed.value;

  // The policy comes before the plan's range size: "upgrade your plan" would be the wrong advice for 10.0.0.0/8.
  const guard = await guardTarget(deps.targetGuard, target);
  if (!guard.ok) throw invalid(guard.reason, guard.code, 'target_value');

  if (target.type === 'range' && target.cidr) {
    const { state } = await loadAccount(deps, userId);
    if (state.status !== 'open') throw new DomainError('account not found', 'account_not_found', 'not_found');
    const plan = PLANS[state.plan];
    if (!rangeSizeAllowed(target.cidr, BigInt(plan.maxRangeAddresses))) {
      throw new DomainError(
        `target_value range ${target.normalized} holds ${cidrSize(target.cidr)} addresses; your ${plan.name} plan allows ranges of at most ${plan.maxRangeAddresses} addresses.`,
        'range_too_large',
        'invalid',
        {
          fields: {
            target_value: [
              `The range holds ${cidrSize(target.cidr)} addresses; the ${plan.name} plan allows at most ${plan.maxRangeAddresses}.`,
            ],
          },
          max_range_addresses: plan.maxRangeAddresses,
        },
      );
    }
  }
  return target;
}

/**
 * Adds a target: validates it, takes a slot on the account (the plan's target
 * limit, kept with the account stream's expected revision, so concurrent adds
 * never exceed it), then appends TargetAdded to a new `target-<id>` stream. If
 * that append fails, the slot is given back (best effort). Answers once the read
 * models show the target.
 */
export async function addTarget(
  deps: CommandDeps,
  userId: string,
  input: NewTarget,
): Promise<{ targetId: string; addedAt: string }> {
  const target = await checkedTarget(deps, userId, input);
  const targetId = deps.ids.uuid();
  const clock = deps.clock.now();
  const now = clock.toISOString();

  try {
    await takeSlot(deps, userId, targetId, now);
  } catch (error) {
    if (!(error instanceof DomainError && error.code === 'target_limit_reached')) throw error;
    if ((await reclaimOrphanSlots(deps, userId, clock)) === 0) throw error;
    await takeSlot(deps, userId, targetId, now);
  }

  let position: number | undefined;
  try {
    const added = await targets.handle(deps, targetId, {
      type: 'AddTarget',
      targetId,
      userId,
      name: input.name,
      targetValue: target.normalized,
      targetType: target.type,
      description: input.description ?? '',
      now,
    });
    position = added.position;
  } catch (error) {
    await releaseSlot(deps, userId, targetId, deps.clock.now().toISOString()).catch(() => undefined);
    throw error;
  }
  if (position !== undefined) await deps.readModelsAt(position);
  return { targetId, addedAt: now };
}
