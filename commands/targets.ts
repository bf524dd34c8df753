import { accountDecider } from '../domain/accounts/account.decider.js';
import { AccountEvent } from '../domain/accounts/account.events.js';
import { PLANS } from '../domain/accounts/plans.js';
import { DomainError } from '../domain/shared/decider.js';
import { targetDecider } from '../domain/targets/target.decider.js';
import { TargetEvent } from '../domain/targets/target.events.js';
import { cidrSize } from '../domain/targets/ipAddress.js';
import {
  parseTargetValue,
  rangeSizeAllowed,
  type ParsedTarget,
  type TargetType,
} from '../domain/targets/targetValue.js';
import { loadAccount } from './accountStreams.js';
import { streams, type CommandDeps } from './deps.js';
import { aggregateState, handleCommand } from './handleCommand.js';
import { guardTarget } from './targetGuard.js';

export interface NewTarget {
  readonly name: string;
  readonly targetValue: string;
  /** Inferred from the value when absent. */
  readonly targetType?: TargetType;
  readonly description?: string;
}

export interface TargetChanges {
  readonly name?: string;
  readonly description?: string;
  readonly active?: boolean;
}

/**
 * A slot taken (TargetSlotTaken) whose target was never added: the process died
 * between the two appends. Such a slot is reclaimed when the user hits the limit
 * and the slot is older than this (younger ones may belong to an add in flight).
 */
export const ORPHAN_SLOT_AGE_MS = 5 * 60_000;

const loadTarget = (deps: Pick<CommandDeps, 'store'>, targetId: string) =>
  aggregateState(deps.store, streams.target(targetId), targetDecider, TargetEvent);

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

const takeSlot = (deps: CommandDeps, userId: string, targetId: string, now: string) =>
  handleCommand(deps, streams.account(userId), accountDecider, AccountEvent, { type: 'TakeTargetSlot', targetId, now });

const releaseSlot = (deps: CommandDeps, userId: string, targetId: string, now: string) =>
  handleCommand(deps, streams.account(userId), accountDecider, AccountEvent, {
    type: 'ReleaseTargetSlot',
    targetId,
    now,
  });

/**
 * Releases slots no target holds any more: the target was deleted (the release
 * after the delete did not happen) or never added (the add died after taking the
 * slot, and the slot is older than ORPHAN_SLOT_AGE_MS). Returns how many it freed.
 */
async function reclaimOrphanSlots(deps: CommandDeps, userId: string, now: Date): Promise<number> {
  const recorded = await deps.store.readStream(streams.account(userId));
  const takenAt = new Map<string, number>();
  for (const event of recorded) {
    if (event.type === 'TargetSlotTaken') {
      takenAt.set(String(event.data.targetId), Date.parse(String(event.data.takenAt)));
    }
    if (event.type === 'TargetSlotReleased') takenAt.delete(String(event.data.targetId));
  }
  let freed = 0;
  for (const [targetId, at] of takenAt) {
    const { state } = await loadTarget(deps, targetId);
    const orphan = state.status === 'deleted' || (state.status === 'none' && now.getTime() - at > ORPHAN_SLOT_AGE_MS);
    if (!orphan) continue;
    const released = await releaseSlot(deps, userId, targetId, now.toISOString());
    if (released.newEvents.length > 0) freed += 1;
  }
  return freed;
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
    const added = await handleCommand(deps, streams.target(targetId), targetDecider, TargetEvent, {
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

/** Renames, re-describes or (de)activates one of the user's targets; its value never changes. */
export async function updateTarget(
  deps: CommandDeps,
  userId: string,
  targetId: string,
  changes: TargetChanges,
): Promise<void> {
  const result = await handleCommand(deps, streams.target(targetId), targetDecider, TargetEvent, {
    type: 'UpdateTarget',
    userId,
    ...(changes.name !== undefined ? { name: changes.name } : {}),
    ...(changes.description !== undefined ? { description: changes.description } : {}),
    ...(changes.active !== undefined ? { active: changes.active } : {}),
    now: deps.clock.now().toISOString(),
  });
  if (result.position !== undefined) await deps.readModelsAt(result.position);
}

/**
 * Deletes one of the user's targets, then gives its slot back. Another user's
 * target, or one already deleted, is not found; a repeated delete still gives
 * back a slot a failed earlier attempt kept.
 */
export async function deleteTarget(deps: CommandDeps, userId: string, targetId: string): Promise<void> {
  const now = deps.clock.now().toISOString();
  const deleted = await handleCommand(deps, streams.target(targetId), targetDecider, TargetEvent, {
    type: 'DeleteTarget',
    userId,
    now,
  }).catch(async (error: unknown) => {
    if (error instanceof DomainError && error.kind === 'not_found') {
      const { state } = await loadTarget(deps, targetId);
      if (state.status === 'deleted' && state.userId === userId) {
        await releaseSlot(deps, userId, targetId, now).catch(() => undefined);
      }
    }
    throw error;
  });
  const released = await releaseSlot(deps, userId, targetId, now);
  const position = Math.max(deleted.position ?? -1, released.position ?? -1);
  if (position >= 0) await deps.readModelsAt(position);
}
