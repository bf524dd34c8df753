import type { Context, MiddlewareHandler } from 'hono';
import { rateLimiter, type Store } from 'hono-rate-limiter';
import type { Clock, CounterStore } from '../adapters/ports.js';
import { PLANS } from '../domain/accounts/plans.js';
import type { AppDeps, AppEnv } from './deps.js';
import { ApiError, errorBody } from './errors.js';

const HOUR_MS = 3_600_000;

/** The reference's per-hour tiers (spec: Rate limits), before SECABLY_RATE_LIMIT_MULTIPLIER. */
export const HOURLY_LIMITS = {
  anonymous: 100,
  authenticated: 1000,
  scanOperations: 10,
  registration: 5,
  login: 20,
  /** Failed operator authentications per client address. */
  operatorFailures: 10,
} as const;

interface LimitInfo {
  readonly tier: string;
  readonly limit: number;
  readonly remaining: number;
  /** Epoch ms. */
  readonly resetAt: number;
}

/** Tiers by the context property hono-rate-limiter leaves its figures in. */
const TIERS = {
  rl_general: 'general',
  rl_registration: 'registration',
  rl_login: 'login',
  rl_scans: 'scan_operations',
} as const;
type TierProperty = keyof typeof TIERS;

/** hono-rate-limiter's store interface over our CounterStore port. */
function limiterStore(counters: CounterStore, clock: Clock): Store<AppEnv> {
  let windowMs = HOUR_MS;
  return {
    init: (options) => {
      windowMs = options.windowMs;
    },
    increment: async (key) => {
      const hit = await counters.increment(key, windowMs, clock.now().getTime());
      return { totalHits: hit.count, resetTime: new Date(hit.resetAt) };
    },
    decrement: (key) => counters.decrement(key),
    resetKey: (key) => counters.reset(key),
    localKeys: false,
  };
}

export function setHeaders(headers: { set(name: string, value: string): void }, info: LimitInfo): void {
  headers.set('X-RateLimit-Limit', String(info.limit));
  headers.set('X-RateLimit-Remaining', String(Math.max(0, info.remaining)));
  headers.set('X-RateLimit-Reset', String(Math.ceil(info.resetAt / 1000)));
}

/** Of every limit that applied to this request, the one closest to running out. */
function tightest(c: Context<AppEnv>): LimitInfo | undefined {
  const vars = c.var as Record<string, unknown>;
  let best = vars.rl_quota as LimitInfo | undefined;
  for (const [property, tier] of Object.entries(TIERS)) {
    const raw = vars[property] as { limit: number; used: number; resetTime?: Date } | undefined;
    if (!raw) continue;
    const info: LimitInfo = {
      tier,
      limit: raw.limit,
      remaining: raw.limit - raw.used,
      resetAt: raw.resetTime?.getTime() ?? Date.now() + HOUR_MS,
    };
    if (!best || info.remaining < best.remaining) best = info;
  }
  return best;
}

function tooMany(c: Context<AppEnv>, clock: Clock, message: string, code: string): Response {
  const info = tightest(c);
  const now = clock.now().getTime();
  const retryAfter = info ? Math.max(1, Math.ceil((info.resetAt - now) / 1000)) : 60;
  if (info) setHeaders({ set: (name, value) => c.header(name, value) }, info);
  c.header('Retry-After', String(retryAfter));
  const error = new ApiError(429, message, code, {
    tier: info?.tier,
    limit: info?.limit,
    retry_after: retryAfter,
  });
  return c.json(errorBody(error), 429);
}

/**
 * Rate limits (hono-rate-limiter over the CounterStore port) and the plan's
 * monthly API quota. Keys: anonymous callers by client address, authenticated
 * ones by user id — so one user cannot spend another's budget.
 */
export function rateLimits(deps: AppDeps): {
  general: MiddlewareHandler<AppEnv>;
  registration: MiddlewareHandler<AppEnv>;
  login: MiddlewareHandler<AppEnv>;
  scanOperations: MiddlewareHandler<AppEnv>;
  monthlyQuota: MiddlewareHandler<AppEnv>;
} {
  const { counters, clock } = deps;
  const m = deps.config.rateLimitMultiplier;
  const scaled = (n: number) => Math.max(1, Math.floor(n * m));

  function tier(
    property: TierProperty,
    limit: (c: Context<AppEnv>) => number,
    key: (c: Context<AppEnv>) => string,
  ): MiddlewareHandler<AppEnv> {
    const limiter = rateLimiter<AppEnv>({
      windowMs: HOUR_MS,
      limit,
      keyGenerator: (c) => `${TIERS[property]}:${key(c)}`,
      standardHeaders: false,
      requestPropertyName: property,
      store: limiterStore(counters, clock),
      handler: (c) => tooMany(c, clock, 'Too many requests; slow down and retry later.', 'rate_limited'),
    });
    // Passed: the headers now name the tightest limit so far (prepared, so every answer carries them).
    return (c, next) => limiter(c, () => prepareHeaders(c).then(next));
  }

  async function prepareHeaders(c: Context<AppEnv>): Promise<void> {
    const info = tightest(c);
    if (info) setHeaders({ set: (name, value) => c.header(name, value) }, info);
  }

  const userKey = (c: Context<AppEnv>) => `user:${c.get('auth')?.userId}`;
  const ipKey = (c: Context<AppEnv>) => `ip:${c.get('clientIp')}`;

  return {
    general: tier(
      'rl_general',
      (c) => scaled(c.get('auth') ? HOURLY_LIMITS.authenticated : HOURLY_LIMITS.anonymous),
      (c) => (c.get('auth') ? userKey(c) : ipKey(c)),
    ),
    registration: tier('rl_registration', () => scaled(HOURLY_LIMITS.registration), ipKey),
    login: tier('rl_login', () => scaled(HOURLY_LIMITS.login), ipKey),
    scanOperations: tier('rl_scans', () => scaled(HOURLY_LIMITS.scanOperations), userKey),
    /** The plan's API requests per calendar month (UTC), for authenticated requests. */
    async monthlyQuota(c, next) {
      const auth = c.get('auth');
      const quota = auth ? PLANS[auth.profile.plan].apiRequestsPerMonth : null;
      if (!auth || quota === null) return next();
      const now = clock.now();
      const period = now.toISOString().slice(0, 7);
      const endOfMonth = Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1);
      const hit = await counters.increment(`quota:${auth.userId}:${period}`, endOfMonth - now.getTime(), now.getTime());
      c.set(
        'rl_quota' as never,
        { tier: 'monthly_quota', limit: quota, remaining: quota - hit.count, resetAt: endOfMonth } as never,
      );
      await prepareHeaders(c);
      if (hit.count > quota) {
        return tooMany(
          c,
          clock,
          `Your plan's monthly API request quota (${quota}) is used up; it renews at the start of next month (UTC), or upgrade your plan.`,
          'monthly_quota_exceeded',
        );
      }
      return next();
    },
  };
}

/** How many API requests a user made this month (for /subscription/). */
export function quotaKey(userId: string, now: Date): string {
  return `quota:${userId}:${now.toISOString().slice(0, 7)}`;
}
