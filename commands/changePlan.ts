import type { PlanId } from '../domain/accounts/plans.js';
import type { CommandDeps } from './deps.js';
import { accounts } from './aggregates.js';

/** Operator command (billing integration): moves an account to another plan. */
export async function changePlan(deps: CommandDeps, userId: string, plan: PlanId, changedBy: string) {
  const result = await accounts.handle(deps, userId, {
    type: 'ChangePlan',
    plan,
    changedBy,
    now: deps.clock.now().toISOString(),
  });
  if (result.position !== undefined) await deps.readModelsAt(result.position);
  return result.state;
}
