import { createHash } from 'node:crypto';
import type { CommandDeps } from './deps.js';
import { accounts, emailClaims, users } from './aggregates.js';

/** E-mail addresses are unique case-insensitively: the key is the trimmed, lower-cased address. */
export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

/** The key of an address's claim stream (`email-<key>`): SHA-256 of the normalized address. */
export function emailKey(email: string): string {
  return createHash('sha256').update(normalizeEmail(email)).digest('hex');
}

export const loadUser = (deps: Pick<CommandDeps, 'store'>, userId: string) => users.state(deps, userId);

export const loadAccount = (deps: Pick<CommandDeps, 'store'>, userId: string) => accounts.state(deps, userId);

/** The user id holding an e-mail address, if its user exists. */
export async function userIdByEmail(deps: Pick<CommandDeps, 'store'>, email: string): Promise<string | undefined> {
  const { state } = await emailClaims.state(deps, emailKey(email));
  return state.holder ?? undefined;
}
