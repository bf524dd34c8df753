import type { Logger } from 'pino';
import type { CounterStore } from '../adapters/ports.js';
import type { CommandDeps } from '../commands/deps.js';
import type { ProfileDocument } from '../projections/profiles.projection.js';
import type { PdfRenderer } from '../reports/pdfRenderer.js';

export interface HttpConfig {
  /** Enables the operator API when set. */
  readonly adminToken?: string | undefined;
  /** Multiplies every per-hour rate limit (default 1). */
  readonly rateLimitMultiplier: number;
  /** Take the client address from X-Forwarded-For (only behind a trusted proxy). */
  readonly trustProxy: boolean;
}

export interface AppDeps extends CommandDeps {
  readonly counters: CounterStore;
  readonly config: HttpConfig;
  readonly logger: Logger;
  /** Whether the service is ready (read models caught up at start). */
  readonly ready?: () => boolean;
  /** Renders PDF reports (its browser starts on the first one; closed when the service stops). */
  readonly pdfRenderer: PdfRenderer;
}

export interface AuthenticatedUser {
  readonly userId: string;
  readonly via: 'jwt' | 'api_key';
  readonly profile: ProfileDocument;
}

export interface AppEnv {
  Variables: {
    auth: AuthenticatedUser | undefined;
    authError: Error | undefined;
    clientIp: string;
    requestId: string;
  };
}
