import type { Clock, EventStore, Ids, PasswordHasher, ReadModels, Tokens } from '../adapters/ports.js';
import type { ScannerRegistry } from '../scanners/registry.js';
import type { TargetGuardDeps } from './targetGuard.js';

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
  /** DNS and the allow-list for the SSRF guard. */
  readonly targetGuard: TargetGuardDeps;
  /** The scanner plug-ins (validation, prices, availability). */
  readonly scanners: ScannerRegistry;
}

export const streams = {
  user: (userId: string) => `user-${userId}`,
  account: (userId: string) => `account-${userId}`,
  email: (emailHash: string) => `email-${emailHash}`,
  target: (targetId: string) => `target-${targetId}`,
  scan: (scanId: string) => `scan-${scanId}`,
  idempotency: (userId: string, keyHash: string) => `idempotency-${userId}-${keyHash}`,
  template: (templateId: string) => `template-${templateId}`,
  templateLibrary: (userId: string) => `templatelibrary-${userId}`,
} as const;
