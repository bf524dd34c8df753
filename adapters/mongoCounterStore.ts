import { attempt, connect, ensureIndexes, IndexMismatchError, isDuplicateKey } from './mongoReadModels.js';
import { InfrastructureError, type CounterHit, type CounterStore } from './ports.js';

export interface MongoCounterStoreOptions {
  readonly url: string;
  readonly database: string;
  /** Default `counters`. */
  readonly collection?: string;
  /**
   * How long after its end a window may be removed by the TTL index (default 1 hour).
   * Only cleanup: correctness never depends on it, but a grace longer than any
   * clock skew between the API hosts and the server keeps it from removing a window
   * some host still considers open.
   */
  readonly ttlGraceSeconds?: number;
}

interface StoredWindow {
  _id: string;
  count: number;
  /** End of the window (a BSON date, so the TTL index can use it). */
  resetAt: Date;
}

/** Gives up after this many lost races in one increment (each needs another instance to have moved the window). */
const MAX_ATTEMPTS = 10;

/**
 * Fixed-window counters in MongoDB, shared by every API instance: one document
 * `{ _id: key, count, resetAt }` per key. As in the memory adapter a window starts
 * at a key's first hit, covers [start, start + windowMs), and the hit at `resetAt`
 * opens a new one; time is only what callers pass as `now`.
 *
 * `increment` uses single-document atomic operations only (no transaction):
 * 1. `findOneAndUpdate({ _id, resetAt: { $gt: now } }, { $inc: { count: 1 } }, { returnDocument: 'before' })`:
 *    a hit in the open window; our count is the one before plus one. The common
 *    case: one round trip.
 * 2. If no window is open (none yet, or it has ended),
 *    `updateOne({ _id, resetAt: { $lte: now } }, { $set: { count: 1, resetAt: now + windowMs } }, { upsert: true })`
 *    opens one: it replaces an ended window or inserts the first; our count is 1.
 * 3. If step 2 fails with E11000 (duplicate key), another instance opened the
 *    window between our steps (its document exists with `resetAt > now`, so our
 *    guarded upsert tried to insert a second `_id`), or won the race to insert
 *    the first one: go back to step 1 and count in its window.
 * Every hit is therefore one atomic `$inc` or the one write that opened the
 * window, so N concurrent hits from any number of instances get the counts
 * 1..N exactly once. (An aggregation-pipeline update would do it in one
 * statement, but mongo-java-server fails on pipeline updates; these operators
 * behave the same on both servers.)
 *
 * Why the document *before* the update: mongo-java-server applies each
 * findAndModify atomically, but with `returnDocument: 'after'` it answers with
 * the stored document itself, serialised after its lock is released, so a
 * concurrent `$inc` can show through (two callers both saw count 4, none saw 2,
 * in our tests). The pre-image is a copy taken under the lock, and on MongoDB
 * both are exact; deriving our count from the pre-image is right on both.
 *
 * Cleanup: a TTL index on `resetAt` lets MongoDB remove windows `ttlGraceSeconds`
 * after they ended. Correctness does not depend on it (mongo-java-server accepts
 * the index but never expires anything, and MongoDB's TTL monitor runs only every
 * 60 s): an ended window is ignored by `get` and replaced by the next `increment`.
 */
export async function mongoCounterStore(options: MongoCounterStoreOptions): Promise<CounterStore> {
  const client = await connect(options.url, 'secably-counters');
  const windows = client.db(options.database).collection<StoredWindow>(options.collection ?? 'counters');
  try {
    await ensureIndexes(client.db(options.database), [
      {
        collection: windows.collectionName,
        name: 'resetAt_ttl',
        key: { resetAt: 1 },
        expireAfterSeconds: options.ttlGraceSeconds ?? 3_600,
      },
    ]);
  } catch (error) {
    await client.close().catch(() => undefined);
    if (error instanceof IndexMismatchError) throw error;
    throw new InfrastructureError(`cannot create the counters' TTL index in ${options.database}`, { cause: error });
  }

  const hitOf = (window: StoredWindow): CounterHit => ({ count: window.count, resetAt: window.resetAt.getTime() });

  return {
    async increment(key, windowMs, now) {
      const at = new Date(now);
      for (let attemptNumber = 1; attemptNumber <= MAX_ATTEMPTS; attemptNumber++) {
        // The window as it was just before our $inc (see above: never the document "after").
        const before = await attempt(`count a hit on ${key}`, () =>
          windows.findOneAndUpdate(
            { _id: key, resetAt: { $gt: at } },
            { $inc: { count: 1 } },
            { returnDocument: 'before' },
          ),
        );
        if (before !== null) return { count: before.count + 1, resetAt: before.resetAt.getTime() };
        const resetAt = now + windowMs;
        try {
          await windows.updateOne(
            { _id: key, resetAt: { $lte: at } },
            { $set: { count: 1, resetAt: new Date(resetAt) } },
            { upsert: true },
          );
          return { count: 1, resetAt };
        } catch (error) {
          if (!isDuplicateKey(error)) {
            throw new InfrastructureError(`MongoDB: cannot open a window for ${key}`, { cause: error });
          }
          // Another instance opened the window first: count in it.
        }
      }
      throw new InfrastructureError(`MongoDB: the window of ${key} kept changing; gave up after ${MAX_ATTEMPTS} tries`);
    },
    async get(key, now) {
      const window = await attempt(`read the window of ${key}`, () =>
        windows.findOne({ _id: key, resetAt: { $gt: new Date(now) } }),
      );
      return window === null ? undefined : hitOf(window);
    },
    async decrement(key) {
      await attempt(`take a hit back from ${key}`, () =>
        windows.updateOne({ _id: key, count: { $gt: 0 } }, { $inc: { count: -1 } }),
      );
    },
    async reset(key) {
      await attempt(`reset ${key}`, () => windows.deleteOne({ _id: key }));
    },
    async close() {
      await client.close();
    },
  };
}
