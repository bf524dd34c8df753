import { Hono } from 'hono';
import { z } from 'zod';
import { AccountEvent } from '../domain/accounts/account.events.js';
import { accountDecider, balanceAt } from '../domain/accounts/account.decider.js';
import { streams } from '../commands/deps.js';
import { requireUser } from './authenticate.js';
import type { AppDeps, AppEnv } from './deps.js';
import { queryParams } from './validation.js';

export const HistoryQuery = z
  .object({
    limit: z.coerce.number().int().min(1).max(500).default(100),
    offset: z.coerce.number().int().min(0).default(0),
  })
  .strict();

/** One ledger line per credit movement, straight from the account's events. */
function ledgerEntry(event: AccountEvent, position: number) {
  const base = { id: position, type: event.type };
  switch (event.type) {
    case 'AccountOpened':
      return { ...base, credits: 0, plan: event.data.plan, at: event.data.openedAt };
    case 'PlanChanged':
      return { ...base, credits: 0, from: event.data.from, to: event.data.to, at: event.data.changedAt };
    case 'MonthlyCreditsGranted':
      return {
        ...base,
        credits: event.data.credits,
        period: event.data.period,
        bucket: 'monthly',
        at: event.data.grantedAt,
      };
    case 'CreditsPurchased':
      return {
        ...base,
        credits: event.data.credits,
        bucket: 'purchased',
        reason: event.data.reason,
        at: event.data.purchasedAt,
      };
    case 'CreditsReserved':
      return {
        ...base,
        credits: -event.data.credits,
        scan_id: event.data.scanId,
        from_monthly: event.data.fromMonthly,
        from_purchased: event.data.fromPurchased,
        at: event.data.reservedAt,
      };
    case 'CreditsSpent':
      return { ...base, credits: 0, scan_id: event.data.scanId, spent: event.data.credits, at: event.data.spentAt };
    case 'CreditsRefunded':
      return {
        ...base,
        credits: event.data.toMonthly + event.data.toPurchased,
        scan_id: event.data.scanId,
        to_monthly: event.data.toMonthly,
        to_purchased: event.data.toPurchased,
        reason: event.data.reason,
        at: event.data.refundedAt,
      };
    case 'TargetSlotTaken':
    case 'TargetSlotReleased':
      return undefined; // not a credit movement
  }
}

export function creditsRoutes(deps: AppDeps) {
  const app = new Hono<AppEnv>();

  app.get('/account/credits', async (c) => {
    const { userId, profile } = requireUser(c);
    const { limit, offset } = queryParams(c, HistoryQuery);
    const recorded = await deps.store.readStream(streams.account(userId));
    const events = recorded.map((r) => ({
      position: r.position,
      event: AccountEvent.parse({ type: r.type, data: r.data }),
    }));
    const state = events.reduce((s, { event }) => accountDecider.evolve(s, event), accountDecider.initialState());
    const now = deps.clock.now().toISOString();
    const balance = balanceAt(state, now);
    const history = events
      .map(({ event, position }) => ledgerEntry(event, position))
      .filter((entry) => entry !== undefined)
      .reverse();
    return c.json({
      subscription_type: profile.plan,
      balance: {
        period: balance.period,
        monthly_allowance: balance.monthlyAllowance,
        monthly_remaining: balance.monthlyRemaining,
        purchased: balance.purchased,
        available: balance.available,
        reserved: balance.reserved,
      },
      history: { count: history.length, limit, offset, results: history.slice(offset, offset + limit) },
    });
  });

  return app;
}
