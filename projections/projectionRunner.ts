import type { EventStore, ReadModelDocument, ReadModels, RecordedEvent, Subscription } from '../adapters/ports.js';
import {
  isManyDocument,
  type AnyProjection,
  type DocumentBody,
  type ManyDocumentProjection,
  type Projection,
  type ProjectionReader,
} from './projection.js';

export interface ProjectionRunner {
  /** Catches up from the stored checkpoints, then follows live events. */
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Resolves once every event up to `position` is applied (read-your-writes). */
  waitFor(position: number, timeoutMs?: number): Promise<void>;
  /** Drops the read models and replays every event from the start. */
  rebuild(): Promise<void>;
  readonly position: () => number;
  readonly done: () => Promise<void>;
}

interface Logger {
  error(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
}

/**
 * Applies projections in global order, idempotently: each document remembers
 * the last position applied to it (`applyAt` skips replays) and each projection
 * keeps a checkpoint, flushed at most every `checkpointEveryMs` and on stop.
 */
export function projectionRunner(deps: {
  store: EventStore;
  readModels: ReadModels;
  projections: readonly AnyProjection[];
  logger: Logger;
  checkpointEveryMs?: number;
}): ProjectionRunner {
  const { store, readModels, projections, logger } = deps;
  const checkpointEveryMs = deps.checkpointEveryMs ?? 200;
  let subscription: Subscription | undefined;
  let applied = -1;
  let flushed = -1;
  let lastFlush = 0;
  const waiters = new Set<{ position: number; resolve: () => void }>();

  const reader: ProjectionReader = {
    get: (collection, id) => readModels.collection(collection).get(id) as never,
    find: (collection, filter, options) => readModels.collection(collection).find(filter, options) as never,
  };

  async function applyMany(projection: ManyDocumentProjection, event: RecordedEvent): Promise<void> {
    for (const write of await projection.project(event, reader)) {
      await readModels
        .collection(write.collection)
        .applyAt(write.id, event.position, write.doc as DocumentBody<ReadModelDocument> | null);
    }
  }

  async function applyOne(projection: Projection, event: RecordedEvent): Promise<void> {
    const collection = readModels.collection<ReadModelDocument>(projection.collection);
    const id = projection.documentId(event);
    const current = await collection.get(id);
    if (current && (current._position ?? -1) >= event.position) return;
    const next = projection.evolve(current, event);
    await collection.applyAt(id, event.position, next as DocumentBody<ReadModelDocument> | null);
  }

  let flushing: Promise<void> = Promise.resolve();
  let trailing: NodeJS.Timeout | undefined;

  /** Writes the checkpoints (serialized, so an older position never overwrites a newer one). */
  function flushCheckpoints(): Promise<void> {
    flushing = flushing.then(async () => {
      if (applied === flushed) return;
      const position = applied;
      for (const p of projections) await readModels.setCheckpoint(p.name, position);
      flushed = position;
      lastFlush = Date.now();
    });
    return flushing;
  }

  async function handle(event: RecordedEvent): Promise<void> {
    for (const projection of projections) {
      if (!projection.canHandle(event)) continue;
      if (isManyDocument(projection)) await applyMany(projection, event);
      else await applyOne(projection, event);
    }
    applied = event.position;
    for (const waiter of waiters) {
      if (waiter.position <= applied) {
        waiters.delete(waiter);
        waiter.resolve();
      }
    }
    if (Date.now() - lastFlush >= checkpointEveryMs) {
      await flushCheckpoints();
    } else {
      // A quiet spell after a burst still gets its checkpoint soon.
      trailing ??= setTimeout(() => {
        trailing = undefined;
        flushCheckpoints().catch((error: unknown) => logger.error({ err: error }, 'checkpoint flush failed'));
      }, checkpointEveryMs);
    }
  }

  async function start(): Promise<void> {
    const checkpoints = await Promise.all(projections.map((p) => readModels.getCheckpoint(p.name)));
    // Resume from the least advanced projection; the others skip what they have (applyAt guard).
    const from = checkpoints.some((c) => c === undefined) ? -1 : Math.min(...checkpoints.map((c) => c ?? -1));
    applied = from;
    flushed = from;
    subscription = store.subscribeToAll({ after: from }, handle);
    subscription.done.catch((error: unknown) => logger.error({ err: error }, 'projection subscription stopped'));
  }

  async function stop(): Promise<void> {
    await subscription?.stop();
    subscription = undefined;
    clearTimeout(trailing);
    trailing = undefined;
    await flushCheckpoints();
  }

  return {
    start,
    stop,
    position: () => applied,
    done: () => subscription?.done ?? Promise.resolve(),
    async waitFor(position, timeoutMs = 10_000) {
      if (applied >= position) return;
      await new Promise<void>((resolve, reject) => {
        const waiter = {
          position,
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
        };
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(new Error(`read models did not reach position ${position} within ${timeoutMs} ms`));
        }, timeoutMs);
        waiters.add(waiter);
      });
    },
    async rebuild() {
      await stop();
      const collections = [
        ...new Set(projections.flatMap((p) => (isManyDocument(p) ? p.collections : [p.collection]))),
      ];
      await readModels.reset(
        collections,
        projections.map((p) => p.name),
      );
      applied = -1;
      flushed = -1;
      await start();
    },
  };
}
