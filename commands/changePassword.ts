import { type CommandDeps } from './deps.js';
import { checkPassword } from './login.js';
import { startSession, type SessionTokens } from './sessions.js';
import { users } from './aggregates.js';

/**
 * Changes the password, revoking every refresh token, access token and API key;
 * returns a fresh session and the ids of the API keys revoked.
 */
export async function changePassword(
  deps: CommandDeps,
  userId: string,
  input: { oldPassword: string; newPassword: string },
): Promise<{ tokens: SessionTokens; revokedApiKeys: string[] }> {
  await checkPassword(deps, userId, input.oldPassword);
  const passwordHash = await deps.hasher.hash(input.newPassword);
  const result = await users.handle(deps, userId, {
    type: 'ChangePassword',
    passwordHash,
    now: deps.clock.now().toISOString(),
  });
  // Old access tokens and the API keys die once the read models carry the change.
  if (result.position !== undefined) await deps.readModelsAt(result.position);
  const revokedApiKeys = result.newEvents.flatMap((e) => (e.type === 'ApiKeyRevoked' ? [e.data.keyId] : []));
  return { tokens: await startSession(deps, userId), revokedApiKeys };
}
