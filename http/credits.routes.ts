import { Hono } from 'hono';
import { z } from 'zod';
import {
  balanceOf,
  type CreditBalanceDocument,
  type CreditLedgerDocument,
} from '../projections/creditLedger.projection.js';
import { requireUser } from './authenticate.js';
import type { AppDeps, AppEnv } from './deps.js';
import { ApiError } from './errors.js';
import { queryParams } from './validation.js';

const MAX_LIMIT = 500;

/** `limit`/`offset`, or `page`/`page_size` (as on /scans/), not both. */
export const HistoryQuery = z
  .object({
    limit: z.coerce.number().int().min(1).max(MAX_LIMIT).optional(),
    offset: z.coerce.number().int().min(0).optional(),
    page: z.coerce.number().int().min(1).optional(),
    page_size: z.coerce.number().int().min(1).max(MAX_LIMIT).optional(),
  })
  .strict();

/**
 * The balance and the ledger, from the `credit_balances` and `credit_ledger` read
 * models: one document and one page of an index, however long the account's history.
 */
export function creditsRoutes(deps: AppDeps) {
  const app = new Hono<AppEnv>();
  const ledger = deps.readModels.collection<CreditLedgerDocument>('credit_ledger');
  const balances = deps.readModels.collection<CreditBalanceDocument>('credit_balances');

  app.get('/account/credits', async (c) => {
    const { userId, profile } = requireUser(c);
    const query = queryParams(c, HistoryQuery);
    const paged = query.page !== undefined || query.page_size !== undefined;
    if (paged && (query.limit !== undefined || query.offset !== undefined)) {
      throw new ApiError(400, 'Give limit and offset, or page and page_size, not both.', 'validation_error', {
        fields: { page: ['not with limit/offset'] },
      });
    }
    const limit = (paged ? query.page_size : query.limit) ?? 100;
    const offset = paged ? ((query.page ?? 1) - 1) * limit : (query.offset ?? 0);
    const filter = { account_id: userId };
    const [balanceDoc, count, page] = await Promise.all([
      balances.get(userId),
      ledger.count(filter),
      ledger.find(filter, { sort: { position: -1 }, skip: offset, limit }),
    ]);
    const balance = balanceOf(balanceDoc, deps.clock.now().toISOString());
    const link = (to: number) => `/api/v1/account/credits/?limit=${limit}&offset=${to}`;
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
      history: {
        count,
        limit,
        offset,
        page: Math.floor(offset / limit) + 1,
        page_size: limit,
        next: offset + limit < count ? link(offset + limit) : null,
        previous: offset > 0 ? link(Math.max(0, offset - limit)) : null,
        results: page.map((doc) => doc.entry),
      },
    });
  });

  return app;
}
