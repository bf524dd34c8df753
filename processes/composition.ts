import { cryptoIds } from '../adapters/cryptoIds.js';
import { dnsResolver, staticResolver } from '../adapters/dnsResolver.js';
import { joseTokens } from '../adapters/joseTokens.js';
import type { Clock, CounterStore, EventStore, Ids, PasswordHasher, ReadModels, Resolver } from '../adapters/ports.js';
import { scryptPasswordHasher } from '../adapters/scryptPasswordHasher.js';
import { systemClock } from '../adapters/systemClock.js';
import type { Config } from '../config.js';
import type { AppDeps } from '../http/deps.js';
import type { Logger } from 'pino';
import type { WatchdogOptions } from '../pipeline/watchdog.js';
import { SCANNERS, type ScannerRegistry } from '../scanners/registry.js';
import { pdfRenderer } from '../reports/pdfRenderer.js';

/** What tests (and only tests) swap in. */
export interface Overrides {
  clock?: Clock;
  hasher?: PasswordHasher;
  ids?: Ids;
  resolver?: Resolver;
  /** Another list of scanner plug-ins (tests add a test scanner with one line). */
  scanners?: ScannerRegistry;
  watchdog?: WatchdogOptions;
  heartbeatMs?: number;
}

/** The dependencies of the HTTP API, whatever the mode. */
export function appDeps(input: {
  config: Config;
  logger: Logger;
  store: EventStore;
  readModels: ReadModels;
  counters: CounterStore;
  jwtSecret: string;
  readModelsAt: (position: number) => Promise<void>;
  ready: () => boolean;
  overrides: Overrides;
}): AppDeps {
  const { config, overrides } = input;
  return {
    store: input.store,
    readModels: input.readModels,
    counters: input.counters,
    clock: overrides.clock ?? systemClock,
    ids: overrides.ids ?? cryptoIds,
    hasher: overrides.hasher ?? scryptPasswordHasher({ log2N: config.SECABLY_SCRYPT_LOG2N }),
    tokens: joseTokens({
      secret: input.jwtSecret,
      accessTtlSeconds: config.SECABLY_ACCESS_TOKEN_TTL,
      refreshTtlSeconds: config.SECABLY_REFRESH_TOKEN_TTL,
    }),
    readModelsAt: input.readModelsAt,
    targetGuard: targetGuardDeps(config, overrides),
    scanners: scannersFor(overrides),
    config: {
      adminToken: config.SECABLY_ADMIN_TOKEN,
      rateLimitMultiplier: config.SECABLY_RATE_LIMIT_MULTIPLIER,
      trustProxy: config.SECABLY_TRUST_PROXY,
    },
    logger: input.logger,
    ready: input.ready,
    pdfRenderer: pdfRenderer({
      executablePath: config.SECABLY_CHROMIUM_PATH,
      concurrency: config.SECABLY_PDF_CONCURRENCY,
      timeoutMs: config.SECABLY_PDF_TIMEOUT_MS,
      logger: input.logger,
    }),
  };
}

export function targetGuardDeps(config: Config, overrides: Overrides) {
  const dns = dnsResolver();
  const resolver =
    overrides.resolver ?? (Object.keys(config.SECABLY_HOSTS).length ? staticResolver(config.SECABLY_HOSTS, dns) : dns);
  return { resolver, allowedTargets: config.SECABLY_ALLOWED_TARGETS };
}

export function scannersFor(overrides: Overrides): ScannerRegistry {
  return overrides.scanners ?? SCANNERS;
}
