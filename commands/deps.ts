import type { Clock, EventStore, Ids, PasswordHasher, ReadModels, Tokens } from '../adapters/ports.js';

/** What command handlers need. */
export interface CommandDeps {
  readonly store: EventStore;
  readonly readModels: ReadModels;
  readonly clock: Clock;
  readonly ids: Ids;
  readonly hasher: PasswordHasher;
  readonly tokens: Tokens;
  /** Resolves once the read models include the event at `position` (read-your-writes). */
  readonly readModelsAt: (position: number) => Promise<void>;
}

export const streams = {
  user: (userId: string) => `user-${userId}`,
  account: (userId: string) => `account-${userId}`,
  email: (emailHash: string) => `email-${emailHash}`,
} as const;
