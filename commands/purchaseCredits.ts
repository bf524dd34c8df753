import type { CommandDeps } from './deps.js';
import { accounts } from './aggregates.js';

/** Operator command (billing integration): adds purchased credits to an account. */
export async function purchaseCredits(deps: CommandDeps, userId: string, credits: number, reason: string) {
  const result = await accounts.handle(deps, userId, {
    type: 'PurchaseCredits',
    credits,
    reason,
    now: deps.clock.now().toISOString(),
  });
  if (result.position !== undefined) await deps.readModelsAt(result.position);
  return result.state;
}
