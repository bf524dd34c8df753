import type { CommandDeps } from './deps.js';
import { users } from './aggregates.js';

export interface SessionTokens {
  readonly access: string;
  readonly refresh: string;
  readonly access_expires_at: string;
  readonly refresh_expires_at: string;
}

/** Signs an access token and a refresh token for one family member. */
export async function signSession(
  deps: Pick<CommandDeps, 'tokens' | 'clock'>,
  claims: { userId: string; sessionVersion: number; familyId: string; tokenId: string },
): Promise<SessionTokens> {
  const now = deps.clock.now();
  const [access, refresh] = await Promise.all([
    deps.tokens.signAccess(
      { userId: claims.userId, sessionVersion: claims.sessionVersion, familyId: claims.familyId },
      now,
    ),
    deps.tokens.signRefresh({ userId: claims.userId, familyId: claims.familyId, tokenId: claims.tokenId }, now),
  ]);
  return {
    access: access.token,
    refresh: refresh.token,
    access_expires_at: access.expiresAt.toISOString(),
    refresh_expires_at: refresh.expiresAt.toISOString(),
  };
}

/** Starts a new refresh-token family (a login) and returns its tokens. */
export async function startSession(deps: CommandDeps, userId: string): Promise<SessionTokens> {
  const familyId = deps.ids.uuid();
  const tokenId = deps.ids.uuid();
  const now = deps.clock.now();
  // The family lives as long as its refresh token; rotation extends it.
  const { expiresAt } = await deps.tokens.signRefresh({ userId, familyId, tokenId }, now);
  const result = await users.handle(deps, userId, {
    type: 'StartSession',
    familyId,
    tokenId,
    expiresAt: expiresAt.toISOString(),
    now: now.toISOString(),
  });
  if (result.state.status !== 'registered') throw new Error('session for an unknown user');
  return signSession(deps, { userId, sessionVersion: result.state.sessionVersion, familyId, tokenId });
}
