import { DomainError } from '../domain/shared/decider.js';
import { UnauthorizedError } from '../adapters/ports.js';
import { loadUser, userIdByEmail } from './accountStreams.js';
import type { CommandDeps } from './deps.js';
import { startSession, type SessionTokens } from './sessions.js';

/** A hash of a random password, verified when the e-mail is unknown so timing does not tell. */
let decoyHash: Promise<string> | undefined;

export async function login(
  deps: CommandDeps,
  input: { email: string; password: string },
): Promise<{ userId: string; tokens: SessionTokens }> {
  const userId = await userIdByEmail(deps, input.email);
  const user = userId ? (await loadUser(deps, userId)).state : undefined;
  if (!userId || !user || user.status !== 'registered') {
    decoyHash ??= deps.hasher.hash(deps.ids.secret(16));
    await deps.hasher.verify(input.password, await decoyHash);
    throw new UnauthorizedError('Invalid email or password.');
  }
  if (!(await deps.hasher.verify(input.password, user.passwordHash))) {
    throw new UnauthorizedError('Invalid email or password.');
  }
  return { userId, tokens: await startSession(deps, userId) };
}

/** Checks a password for an authenticated user (password change). */
export async function checkPassword(deps: CommandDeps, userId: string, password: string): Promise<void> {
  const { state } = await loadUser(deps, userId);
  if (state.status !== 'registered') throw new DomainError('user not found', 'user_not_found', 'not_found');
  if (!(await deps.hasher.verify(password, state.passwordHash))) {
    throw new DomainError('The current password is not correct.', 'wrong_password', 'invalid', {
      fields: { old_password: ['The current password is not correct.'] },
    });
  }
}
