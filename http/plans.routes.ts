import { Hono } from 'hono';
import { PLAN_IDS, PLANS } from '../domain/accounts/plans.js';
import type { ScannerRegistry } from '../scanners/registry.js';
import type { AppEnv } from './deps.js';

/** The plan table and scan prices (also the example of the OpenAPI document). */
export function plansBody(scanners: ScannerRegistry) {
  return {
    plans: PLAN_IDS.map((id) => {
      const plan = PLANS[id];
      return {
        id: plan.id,
        name: plan.name,
        price_usd_per_month: plan.priceUsdPerMonth,
        api_requests_per_month: plan.apiRequestsPerMonth,
        scan_credits_per_month: plan.scanCreditsPerMonth,
        targets_limit: plan.targetsLimit,
      };
    }),
    scan_costs: scanners.prices.map((p) => ({ ...p })),
    notes: {
      unlimited: 'null means unlimited',
      credits:
        'Monthly credits reset at the start of each calendar month (UTC); purchased credits never expire and are spent after monthly ones.',
    },
  };
}

/** Public: the plan table and scan prices ("Try it now" works without credentials). */
export function plansRoutes(scanners: ScannerRegistry) {
  const app = new Hono<AppEnv>();
  const json = JSON.stringify(plansBody(scanners));
  app.get('/plans', (c) => c.body(json, 200, { 'Content-Type': 'application/json' }));
  return app;
}
