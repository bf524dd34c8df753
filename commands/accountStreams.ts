import { createHash } from 'node:crypto';
import { AccountEvent } from '../domain/accounts/account.events.js';
import { accountDecider } from '../domain/accounts/account.decider.js';
import { EmailEvent, UserEvent } from '../domain/accounts/user.events.js';
import { emailDecider } from '../domain/accounts/email.decider.js';
import { userDecider } from '../domain/accounts/user.decider.js';
import { aggregateState } from './handleCommand.js';
import { streams, type CommandDeps } from './deps.js';

/** E-mail addresses are unique case-insensitively: the key is the trimmed, lower-cased address. */
export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

export function emailStream(email: string): string {
  return streams.email(createHash('sha256').update(normalizeEmail(email)).digest('hex'));
}

export const loadUser = (deps: Pick<CommandDeps, 'store'>, userId: string) =>
  aggregateState(deps.store, streams.user(userId), userDecider, UserEvent);

export const loadAccount = (deps: Pick<CommandDeps, 'store'>, userId: string) =>
  aggregateState(deps.store, streams.account(userId), accountDecider, AccountEvent);

/** The user id holding an e-mail address, if its user exists. */
export async function userIdByEmail(deps: Pick<CommandDeps, 'store'>, email: string): Promise<string | undefined> {
  const { state } = await aggregateState(deps.store, emailStream(email), emailDecider, EmailEvent);
  return state.holder ?? undefined;
}
