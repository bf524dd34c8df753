import { Hono } from 'hono';
import { z } from 'zod';
import { changePlan } from '../commands/changePlan.js';
import { purchaseCredits } from '../commands/purchaseCredits.js';
import { loadAccount } from '../commands/accountStreams.js';
import { balanceAt } from '../domain/accounts/account.decider.js';
import { PLAN_IDS } from '../domain/accounts/plans.js';
import { requireAdmin } from './authenticate.js';
import type { AppDeps, AppEnv } from './deps.js';
import { notFound } from './errors.js';
import { jsonBody, pathId } from './validation.js';

export const PlanBody = z
  .object({ plan: z.enum(PLAN_IDS, { error: `plan must be one of ${PLAN_IDS.join(', ')}` }) })
  .strict();
export const CreditsBody = z
  .object({
    credits: z.number().int('credits must be a whole number').min(1).max(1_000_000),
    reason: z.string().trim().min(1, 'Give a reason (e.g. an invoice id).').max(500),
  })
  .strict();

/** The operator API (billing integration, support): `Authorization: Bearer $SECABLY_ADMIN_TOKEN`. */
export function adminRoutes(deps: AppDeps) {
  const app = new Hono<AppEnv>();
  app.use('*', requireAdmin(deps));

  async function existing(c: Parameters<typeof pathId>[0]) {
    const userId = pathId(c);
    const { state } = await loadAccount(deps, userId);
    if (state.status !== 'open') throw notFound('User not found.');
    return userId;
  }

  app.post('/users/:id/subscription', async (c) => {
    const userId = await existing(c);
    const { plan } = await jsonBody(c, PlanBody);
    const state = await changePlan(deps, userId, plan, 'operator');
    const balance = balanceAt(state, deps.clock.now().toISOString());
    return c.json({
      user_id: userId,
      subscription_type: plan,
      credits: {
        available: balance.available,
        monthly_remaining: balance.monthlyRemaining,
        purchased: balance.purchased,
      },
    });
  });

  app.post('/users/:id/credits', async (c) => {
    const userId = await existing(c);
    const { credits, reason } = await jsonBody(c, CreditsBody);
    const state = await purchaseCredits(deps, userId, credits, reason);
    const balance = balanceAt(state, deps.clock.now().toISOString());
    return c.json({
      user_id: userId,
      added: credits,
      credits: {
        available: balance.available,
        monthly_remaining: balance.monthlyRemaining,
        purchased: balance.purchased,
      },
    });
  });

  return app;
}
