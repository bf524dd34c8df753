import { type CommandDeps } from './deps.js';
import { checkPassword } from './login.js';
import { startSession, type SessionTokens } from './sessions.js';
import { users } from './aggregates.js';

/** Changes the password, revoking every refresh token and access token; returns a fresh session. */
export async function changePassword(
  deps: CommandDeps,
  userId: string,
  input: { oldPassword: string; newPassword: string },
): Promise<SessionTokens> {
  await checkPassword(deps, userId, input.oldPassword);
  const passwordHash = await deps.hasher.hash(input.newPassword);
  const result = await users.handle(deps, userId, {
    type: 'ChangePassword',
    passwordHash,
    now: deps.clock.now().toISOString(),
  });
  // Old access tokens die once the profile read model carries the new session version.
  if (result.position !== undefined) await deps.readModelsAt(result.position);
  return startSession(deps, userId);
}
