import { Hono } from 'hono';
import { z } from 'zod';
import { loadAccount } from '../commands/accountStreams.js';
import { updateProfile } from '../commands/updateProfile.js';
import { balanceAt } from '../domain/accounts/account.decider.js';
import { PLANS } from '../domain/accounts/plans.js';
import type { ProfileDocument } from '../projections/profiles.projection.js';
import { requireUser } from './authenticate.js';
import type { AppDeps, AppEnv } from './deps.js';
import { ApiError } from './errors.js';
import { jsonBody } from './validation.js';
import { personName } from './validators.js';
import { quotaKey } from './rateLimits.js';

export const ProfilePatch = z
  .object({ first_name: personName.optional(), last_name: personName.optional() })
  .strict()
  .refine((b) => b.first_name !== undefined || b.last_name !== undefined, {
    message: 'Send first_name and/or last_name.',
  });

function monthlyUsage(profile: ProfileDocument, now: Date): number {
  return profile.usage_period === now.toISOString().slice(0, 7) ? profile.scans_in_period : 0;
}

export function profileView(profile: ProfileDocument, now: Date) {
  const plan = PLANS[profile.plan];
  return {
    user_email: profile.email,
    user_first_name: profile.first_name,
    user_last_name: profile.last_name,
    subscription_type: plan.id,
    sites_limit: plan.targetsLimit,
    scans_per_month: plan.scanCreditsPerMonth,
    monthly_usage: monthlyUsage(profile, now),
    can_add_site: plan.targetsLimit === null || profile.targets_count < plan.targetsLimit,
    sites_count: profile.targets_count,
  };
}

export function profileRoutes(deps: AppDeps) {
  const app = new Hono<AppEnv>();
  const profiles = deps.readModels.collection<ProfileDocument>('profiles');

  app.get('/profile', (c) => c.json(profileView(requireUser(c).profile, deps.clock.now())));

  app.patch('/profile', async (c) => {
    const { userId } = requireUser(c);
    const body = await jsonBody(c, ProfilePatch);
    await updateProfile(deps, userId, {
      ...(body.first_name !== undefined ? { firstName: body.first_name } : {}),
      ...(body.last_name !== undefined ? { lastName: body.last_name } : {}),
    });
    const profile = await profiles.get(userId);
    if (!profile) throw new ApiError(404, 'Not found.', 'not_found');
    return c.json(profileView(profile, deps.clock.now()));
  });

  app.get('/stats', async (c) => {
    const { userId, profile } = requireUser(c);
    const now = deps.clock.now();
    const plan = PLANS[profile.plan];
    const [latestScans, activeTargets] = await Promise.all([
      deps.readModels.collection('scans').find({ user_id: userId }, { sort: { created_at: -1 }, limit: 5 }),
      deps.readModels.collection('targets').count({ user_id: userId, active: true }),
    ]);
    return c.json({
      user: { id: userId, email: profile.email, date_joined: profile.date_joined },
      subscription: { type: plan.id, status: 'active' },
      usage: {
        targets_count: profile.targets_count,
        targets_limit: plan.targetsLimit,
        monthly_scans_used: monthlyUsage(profile, now),
        monthly_scans_limit: plan.scanCreditsPerMonth,
      },
      recent_activity: {
        latest_scans: latestScans.map((s) => ({
          id: s._id,
          target_id: s.target_id,
          scanner_type: s.scanner_type,
          status: s.status,
          risk_level: s.risk_level ?? null,
          created_at: s.created_at,
        })),
        active_targets: activeTargets,
      },
    });
  });

  app.get('/subscription', async (c) => {
    const { userId, profile } = requireUser(c);
    const now = deps.clock.now();
    const plan = PLANS[profile.plan];
    const { state } = await loadAccount(deps, userId);
    const balance = balanceAt(state, now.toISOString());
    const requests = await deps.counters.get(quotaKey(userId, now), now.getTime());
    const periodStart = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
    const periodEnd = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1));
    return c.json({
      subscription_type: plan.id,
      status: 'active',
      plan: {
        id: plan.id,
        name: plan.name,
        price_usd_per_month: plan.priceUsdPerMonth,
      },
      limits: {
        api_requests_per_month: plan.apiRequestsPerMonth,
        scan_credits_per_month: plan.scanCreditsPerMonth,
        targets: plan.targetsLimit,
      },
      usage: {
        api_requests_this_month: requests?.count ?? 0,
        scans_this_month: monthlyUsage(profile, now),
        targets: profile.targets_count,
      },
      credits: {
        monthly_allowance: balance.monthlyAllowance,
        monthly_remaining: balance.monthlyRemaining,
        purchased: balance.purchased,
        available: balance.available,
        reserved: balance.reserved,
      },
      period: { start: periodStart.toISOString(), end: periodEnd.toISOString() },
    });
  });

  return app;
}
