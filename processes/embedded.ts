import { upcastingEventStore } from '../adapters/upcastingEventStore.js';
import { EVENT_VERSIONS } from '../domain/events.js';
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { cryptoIds } from '../adapters/cryptoIds.js';
import { memoryCounterStore } from '../adapters/memoryCounterStore.js';
import { memoryReadModels } from '../adapters/memoryReadModels.js';
import { sqliteEventStore } from '../adapters/sqliteEventStore.js';
import type { Config } from '../config.js';
import type { AppDeps } from '../http/deps.js';
import type { Ids } from '../adapters/ports.js';
import { appDeps, scannersFor, type Overrides } from './composition.js';
import { createApp } from '../http/app.js';
import { memoryBus } from '../adapters/memoryBus.js';
import { sqliteCheckpoints } from '../adapters/sqliteCheckpoints.js';
import { scanWorker } from '../pipeline/worker.js';
import { allProjections } from '../projections/index.js';
import { projectionRunner } from '../projections/projectionRunner.js';
import { storeSidePipeline, watchdogOptions } from './pipeline.js';

/** The JWT key: from the environment, or generated once and kept (mode 0600) in the data dir. */
function jwtSecret(config: Config, ids: Ids): string {
  if (config.SECABLY_JWT_SECRET) return config.SECABLY_JWT_SECRET;
  const file = join(config.SECABLY_DATA_DIR, 'jwt-secret');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const secret = ids.secret(48);
  writeFileSync(file, `${secret}\n`, { mode: 0o600, flag: 'wx' });
  return secret;
}

/**
 * The data directory (created owner-only, 0700) and the event store file in it
 * (0600, created before SQLite opens it, so its -wal and -shm files, which SQLite
 * gives the database file's mode, are 0600 too). A store file of an older version
 * is made 0600 as well; an existing directory keeps the mode its owner chose.
 */
function prepareDataDir(dataDir: string): string {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const file = join(dataDir, 'events.sqlite');
  closeSync(openSync(file, 'a', 0o600));
  chmodSync(file, 0o600);
  return file;
}

export interface Runtime {
  readonly deps: AppDeps;
  readonly app: ReturnType<typeof createApp>;
  stop(): Promise<void>;
}

/**
 * The embedded mode: one process, SQLite event store, in-process read models
 * (rebuilt by replay at start), in-memory counters.
 */
export async function startEmbedded(config: Config, logger: Logger, overrides: Overrides = {}): Promise<Runtime> {
  const storeFile = prepareDataDir(config.SECABLY_DATA_DIR);
  const ids = overrides.ids ?? cryptoIds;
  const store = upcastingEventStore(sqliteEventStore({ path: storeFile }), EVENT_VERSIONS);
  const readModels = memoryReadModels();
  const counters = memoryCounterStore();
  const projector = projectionRunner({ store, readModels, projections: allProjections, logger });
  let ready = false;

  const deps = appDeps({
    config,
    logger,
    store,
    readModels,
    counters,
    jwtSecret: jwtSecret(config, ids),
    readModelsAt: (position) => projector.waitFor(position),
    ready: () => ready,
    overrides,
  });

  const started = performance.now();
  await projector.start();
  const head = await store.headPosition();
  if (head >= 0) await projector.waitFor(head, 600_000);
  logger.info({ position: head, ms: Math.round(performance.now() - started) }, 'read models caught up');

  // The scan pipeline, in process: dispatcher → in-memory bus → worker → results → store.
  const bus = memoryBus({
    onError: (error, failed) =>
      logger.error({ err: error, topic: failed.topic, key: failed.message.key }, 'bus handler gave up'),
  });
  const checkpoints = sqliteCheckpoints({ path: storeFile });
  const pipeline = storeSidePipeline(
    { store, bus, checkpoints, readModels, clock: deps.clock, ids, logger },
    {
      watchdog: overrides.watchdog ?? watchdogOptions(config),
      relay: false,
      reservationGraceMs: config.SECABLY_RESERVATION_GRACE_MS,
    },
  );
  const worker = scanWorker({
    bus,
    scanners: scannersFor(overrides),
    settings: config,
    targetGuard: deps.targetGuard,
    clock: deps.clock,
    logger,
    workerId: `embedded-${process.pid}`,
    concurrency: config.SECABLY_WORKER_CONCURRENCY,
    heartbeatMs: overrides.heartbeatMs ?? config.SECABLY_WORKER_HEARTBEAT_MS,
  });
  await worker.start();
  // Every worker of the embedded mode restarted with this process: recover what they held.
  await pipeline.start({ recover: true });
  ready = true;

  return {
    deps,
    app: createApp(deps),
    async stop() {
      ready = false;
      await worker.stop();
      await deps.pdfRenderer.close();
      await pipeline.stop();
      await bus.close();
      await projector.stop();
      await checkpoints.close();
      await counters.close();
      await readModels.close();
      await store.close();
    },
  };
}
