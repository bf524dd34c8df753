import { accountDecider } from '../domain/accounts/account.decider.js';
import { AccountEvent } from '../domain/accounts/account.events.js';
import type { PlanId } from '../domain/accounts/plans.js';
import { streams, type CommandDeps } from './deps.js';
import { handleCommand } from './handleCommand.js';

/** Operator commands (billing integration, support). */
export async function changePlan(deps: CommandDeps, userId: string, plan: PlanId, changedBy: string) {
  const result = await handleCommand(deps, streams.account(userId), accountDecider, AccountEvent, {
    type: 'ChangePlan',
    plan,
    changedBy,
    now: deps.clock.now().toISOString(),
  });
  if (result.position !== undefined) await deps.readModelsAt(result.position);
  return result.state;
}

export async function purchaseCredits(deps: CommandDeps, userId: string, credits: number, reason: string) {
  const result = await handleCommand(deps, streams.account(userId), accountDecider, AccountEvent, {
    type: 'PurchaseCredits',
    credits,
    reason,
    now: deps.clock.now().toISOString(),
  });
  if (result.position !== undefined) await deps.readModelsAt(result.position);
  return result.state;
}
