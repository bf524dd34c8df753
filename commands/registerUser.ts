import { EmailEvent } from '../domain/accounts/user.events.js';
import { DomainError } from '../domain/shared/decider.js';
import { emailKey, loadUser, normalizeEmail } from './accountStreams.js';
import { type CommandDeps } from './deps.js';
import { startSession, type SessionTokens } from './sessions.js';
import { accounts, emailClaims, users } from './aggregates.js';

export interface Registration {
  readonly email: string;
  readonly firstName: string;
  readonly lastName: string;
  readonly password: string;
}

/**
 * Registers a user: claims the address (the `email-…` stream, appended with an
 * expected revision, is what makes concurrent registrations of one address
 * safe), writes the user, opens the account on the free plan, and logs in.
 */
export async function registerUser(
  deps: CommandDeps,
  input: Registration,
): Promise<{ userId: string; registeredAt: string; tokens: SessionTokens }> {
  const email = normalizeEmail(input.email);
  const userId = deps.ids.uuid();
  const now = deps.clock.now().toISOString();
  const holderExists = async (holder: string | null) =>
    holder !== null && (await loadUser(deps, holder)).state.status === 'registered';

  // The hash first, whether the address is taken or not: the 409 for a taken address
  // then costs what a registration costs (the hash is nearly all of it), so timing
  // does not tell which addresses have an account (see docs/design.md).
  const passwordHash = await deps.hasher.hash(input.password);
  const claimKey = emailKey(email);
  const taken = await currentHolder(deps, claimKey);
  if (taken !== null && (await holderExists(taken))) {
    throw new DomainError('A user with this email already exists.', 'email_taken', 'conflict');
  }

  await emailClaims.handle(deps, claimKey, async (state) => ({
    type: 'ClaimEmail' as const,
    email,
    userId,
    holderExists: await holderExists(state.holder),
    now,
  }));
  await users.handle(deps, userId, {
    type: 'RegisterUser',
    userId,
    email,
    firstName: input.firstName,
    lastName: input.lastName,
    passwordHash,
    now,
  });
  const opened = await accounts.handle(deps, userId, {
    type: 'OpenAccount',
    accountId: userId,
    now,
  });
  const tokens = await startSession(deps, userId);
  if (opened.position !== undefined) await deps.readModelsAt(opened.position);
  return { userId, registeredAt: now, tokens };
}

async function currentHolder(deps: Pick<CommandDeps, 'store'>, claimKey: string): Promise<string | null> {
  const events = await deps.store.readStream(emailClaims.stream(claimKey), { direction: 'backwards', maxCount: 1 });
  const last = events[0];
  return last ? EmailEvent.parse({ type: last.type, data: last.data }).data.userId : null;
}
