import { createHash, timingSafeEqual } from 'node:crypto';
import type { Context, MiddlewareHandler } from 'hono';
import { UnauthorizedError } from '../adapters/ports.js';
import { hashApiKey, looksLikeApiKey, parseApiKey } from '../commands/apiKeyFormat.js';
import type { ApiKeyDocument } from '../projections/apiKeys.projection.js';
import type { ProfileDocument } from '../projections/profiles.projection.js';
import type { AppDeps, AppEnv, AuthenticatedUser } from './deps.js';
import { ApiError } from './errors.js';
import { HOURLY_LIMITS, setHeaders } from './rateLimits.js';

const HOUR_MS = 3_600_000;

function sameSecret(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb);
}

async function identify(deps: AppDeps, token: string): Promise<AuthenticatedUser> {
  const profiles = deps.readModels.collection<ProfileDocument>('profiles');
  if (looksLikeApiKey(token)) {
    const parsed = parseApiKey(token);
    const key = parsed ? await deps.readModels.collection<ApiKeyDocument>('api_keys').get(parsed.keyId) : null;
    if (!key || key.revoked_at !== null || !sameSecret(hashApiKey(token), key.key_hash)) {
      throw new UnauthorizedError('Invalid API key.');
    }
    const profile = await profiles.get(key.user_id);
    if (!profile) throw new UnauthorizedError('Invalid API key.');
    return { userId: key.user_id, via: 'api_key', profile };
  }
  const claims = await deps.tokens.verifyAccess(token, deps.clock.now());
  const profile = await profiles.get(claims.userId);
  if (
    !profile ||
    profile.session_version !== claims.sessionVersion ||
    (claims.familyId !== undefined && profile.revoked_families?.some((f) => f.family_id === claims.familyId))
  ) {
    throw new UnauthorizedError('Token has been revoked.');
  }
  return { userId: claims.userId, via: 'jwt', profile };
}

/**
 * Reads `Authorization: Bearer <jwt | api key>`. Failures are remembered, not
 * thrown yet, so the anonymous rate limit still counts a client that guesses tokens.
 */
export function identifyCaller(deps: AppDeps): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    c.set('auth', undefined);
    c.set('authError', undefined);
    const header = c.req.header('authorization');
    if (header !== undefined) {
      const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
      if (!match) {
        c.set('authError', new UnauthorizedError('Use "Authorization: Bearer <token>".'));
      } else {
        try {
          c.set('auth', await identify(deps, match[1] as string));
        } catch (error) {
          if (!(error instanceof UnauthorizedError)) throw error;
          c.set('authError', error);
        }
      }
    }
    await next();
  };
}

/** Refuses a request whose credentials were sent but are bad. */
export const rejectBadCredentials: MiddlewareHandler<AppEnv> = async (c, next) => {
  const error = c.get('authError');
  if (error) throw error;
  await next();
};

/**
 * The caller, authenticated with a password session (JWT), not an API key: what an
 * API key must not do (change the password, create API keys) needs the password.
 */
export function requireSession(c: Context<AppEnv>): AuthenticatedUser {
  const user = requireUser(c);
  if (user.via !== 'jwt') {
    throw new ApiError(
      403,
      'An API key cannot do this: sign in with your password and use the access token.',
      'session_required',
    );
  }
  return user;
}

/** The authenticated caller, or a 401. */
export function requireUser(c: Context<AppEnv>): AuthenticatedUser {
  const auth = c.get('auth');
  if (!auth) {
    throw new ApiError(401, 'Authentication credentials were not provided.', 'unauthorized', undefined, undefined, {
      'WWW-Authenticate': 'Bearer',
    });
  }
  return auth;
}

/**
 * The operator token, with failed authentications counted per client address: 10
 * an hour (times SECABLY_RATE_LIMIT_MULTIPLIER); from then on the address gets 429
 * until the window ends, whatever token it sends, so guessing stops. A failure is
 * counted by an atomic increment right after the (constant-time) comparison;
 * successful calls are not counted, so an integration's parallel calls are never
 * throttled. Every operator answer carries the X-RateLimit-* headers of this budget.
 */
export function requireAdmin(deps: AppDeps): MiddlewareHandler<AppEnv> {
  const limit = Math.max(1, Math.floor(HOURLY_LIMITS.operatorFailures * deps.config.rateLimitMultiplier));
  return async (c, next) => {
    const adminToken = deps.config.adminToken;
    if (!adminToken)
      throw new ApiError(403, 'The operator API is disabled (SECABLY_ADMIN_TOKEN is not set).', 'admin_disabled');
    const match = /^Bearer\s+(\S+)\s*$/i.exec(c.req.header('authorization') ?? '');
    const valid = match !== null && sameSecret(match[1] as string, adminToken);
    const key = `operator_failures:ip:${c.get('clientIp')}`;
    const now = deps.clock.now().getTime();
    const failures = valid ? await deps.counters.get(key, now) : await deps.counters.increment(key, HOUR_MS, now);
    const count = failures?.count ?? 0;
    const resetAt = failures?.resetAt ?? now + HOUR_MS;
    const headers: Record<string, string> = {};
    setHeaders(
      { set: (name, value) => (headers[name] = value) },
      { tier: 'operator_authentication', limit, remaining: limit - count, resetAt },
    );
    if (count > limit || (valid && count >= limit)) {
      const retryAfter = Math.max(1, Math.ceil((resetAt - now) / 1000));
      throw new ApiError(
        429,
        'Too many failed operator authentications from this address; retry later.',
        'rate_limited',
        { tier: 'operator_authentication', limit, retry_after: retryAfter },
        undefined,
        { ...headers, 'Retry-After': String(retryAfter) },
      );
    }
    if (!valid) throw new ApiError(401, 'Invalid operator token.', 'unauthorized', undefined, undefined, headers);
    for (const [name, value] of Object.entries(headers)) c.header(name, value);
    await next();
  };
}
