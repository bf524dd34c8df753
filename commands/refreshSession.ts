import { UnauthorizedError } from '../adapters/ports.js';
import { DomainError } from '../domain/shared/decider.js';
import { type CommandDeps } from './deps.js';
import { signSession, type SessionTokens } from './sessions.js';
import { users } from './aggregates.js';

/**
 * Rotates a refresh token: the presented token must be its family's current
 * one. Presenting an older one (reuse) revokes the whole family, so a stolen
 * token dies with the legitimate one.
 */
export async function refreshSession(deps: CommandDeps, refreshToken: string): Promise<SessionTokens> {
  const now = deps.clock.now();
  const claims = await deps.tokens.verifyRefresh(refreshToken, now);
  const newTokenId = deps.ids.uuid();
  const { expiresAt } = await deps.tokens.signRefresh({ ...claims, tokenId: newTokenId }, now);
  const result = await users
    .handle(deps, claims.userId, {
      type: 'RotateRefreshToken',
      familyId: claims.familyId,
      presentedTokenId: claims.tokenId,
      newTokenId,
      expiresAt: expiresAt.toISOString(),
      now: now.toISOString(),
    })
    .catch((error: unknown) => {
      if (error instanceof DomainError && (error.kind === 'unauthorized' || error.kind === 'not_found')) {
        throw new UnauthorizedError('Refresh token is invalid or has been revoked.');
      }
      throw error;
    });
  if (result.newEvents.some((e) => e.type === 'RefreshTokenFamilyRevoked')) {
    // The family's access tokens die once the profile read model knows: wait for it.
    if (result.position !== undefined) await deps.readModelsAt(result.position);
    throw new UnauthorizedError(
      'Refresh token was already used; this login has been revoked (its refresh and access tokens).',
    );
  }
  if (result.state.status !== 'registered') throw new UnauthorizedError('Refresh token is invalid.');
  return signSession(deps, {
    userId: claims.userId,
    sessionVersion: result.state.sessionVersion,
    familyId: claims.familyId,
    tokenId: newTokenId,
  });
}
