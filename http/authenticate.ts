import { createHash, timingSafeEqual } from 'node:crypto';
import type { Context, MiddlewareHandler } from 'hono';
import { UnauthorizedError } from '../adapters/ports.js';
import { hashApiKey, looksLikeApiKey, parseApiKey } from '../commands/apiKeyFormat.js';
import type { ApiKeyDocument } from '../projections/apiKeys.projection.js';
import type { ProfileDocument } from '../projections/profiles.projection.js';
import type { AppDeps, AppEnv, AuthenticatedUser } from './deps.js';
import { ApiError } from './errors.js';

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

export function requireAdmin(deps: AppDeps): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const adminToken = deps.config.adminToken;
    if (!adminToken)
      throw new ApiError(403, 'The operator API is disabled (SECABLY_ADMIN_TOKEN is not set).', 'admin_disabled');
    const match = /^Bearer\s+(\S+)\s*$/i.exec(c.req.header('authorization') ?? '');
    if (!match || !sameSecret(match[1] as string, adminToken)) {
      throw new ApiError(401, 'Invalid operator token.', 'unauthorized');
    }
    await next();
  };
}
