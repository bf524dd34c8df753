import { randomUUID } from 'node:crypto';
import { MongoClient } from 'mongodb';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { mongoCounterStore } from '../../adapters/mongoCounterStore.js';
import { IndexMismatchError } from '../../adapters/mongoReadModels.js';
import { InfrastructureError, type CounterStore } from '../../adapters/ports.js';
import { requireServers } from '../support/distributedServers.js';
import { counterStoreContract } from './counterStore.contract.js';

const mongoUrl = requireServers('mongo');
const database = `secably_test_counters_${randomUUID().slice(0, 8)}`;
const minute = 60_000;
const newKey = (): string => `rate:${randomUUID()}`;
const oneToN = (n: number): number[] => Array.from({ length: n }, (_, i) => i + 1);

describe('mongoCounterStore without a server', () => {
  it('reports an unreachable server as an InfrastructureError', async () => {
    const url = 'mongodb://127.0.0.1:1/?directConnection=true&serverSelectionTimeoutMS=300';
    await expect(mongoCounterStore({ url, database })).rejects.toBeInstanceOf(InfrastructureError);
  });
});

describe.skipIf(mongoUrl === undefined)('mongoCounterStore against the MongoDB-compatible server', () => {
  const url = mongoUrl!;
  let raw: MongoClient;

  beforeAll(async () => {
    raw = await MongoClient.connect(url);
  });

  afterAll(async () => {
    await raw?.db(database).dropDatabase();
    await raw?.close();
  });

  counterStoreContract('mongoCounterStore', async () => ({ counters: await mongoCounterStore({ url, database }) }));

  describe('mongoCounterStore shared by two API instances', () => {
    let apiA: CounterStore;
    let apiB: CounterStore;

    beforeEach(async () => {
      // Two adapters, two clients and connection pools: as two API processes would have.
      [apiA, apiB] = await Promise.all([mongoCounterStore({ url, database }), mongoCounterStore({ url, database })]);
    });

    afterEach(async () => {
      await Promise.all([apiA.close(), apiB.close()]);
    });

    const hitConcurrently = (key: string, n: number, now: number, windowMs = minute) =>
      Promise.all(oneToN(n).map((i) => (i % 2 === 0 ? apiA : apiB).increment(key, windowMs, now)));

    it('counts N concurrent first hits on a key exactly once each, in one window', async () => {
      const key = newKey();
      const now = Date.now();
      const hits = await hitConcurrently(key, 40, now);
      expect(hits.map((hit) => hit.count).sort((a, b) => a - b)).toEqual(oneToN(40));
      expect(new Set(hits.map((hit) => hit.resetAt))).toEqual(new Set([now + minute]));
      expect(await apiA.get(key, now + 1)).toEqual({ count: 40, resetAt: now + minute });
      expect(await apiB.get(key, now + 1)).toEqual({ count: 40, resetAt: now + minute });
    });

    it('gives every concurrent hit in an open window its own count, round after round', async () => {
      const key = newKey();
      const now = Date.now();
      await apiA.increment(key, minute, now);
      for (let round = 0; round < 10; round++) {
        const hits = await hitConcurrently(key, 30, now + round);
        expect(hits.map((hit) => hit.count).sort((a, b) => a - b)).toEqual(oneToN(30).map((i) => 1 + 30 * round + i));
      }
    });

    it('opens exactly one new window when concurrent hits find the old one ended', async () => {
      const key = newKey();
      const start = Date.now();
      await hitConcurrently(key, 5, start);
      const hits = await hitConcurrently(key, 30, start + minute);
      expect(hits.map((hit) => hit.count).sort((a, b) => a - b)).toEqual(oneToN(30));
      expect(new Set(hits.map((hit) => hit.resetAt))).toEqual(new Set([start + 2 * minute]));
    });

    it('keeps counting exactly while hits of both instances interleave over several windows', async () => {
      const key = newKey();
      const start = Date.now();
      const second = 1_000;
      for (let window = 0; window < 3; window++) {
        const now = start + window * second;
        const hits = await hitConcurrently(key, 12, now, second);
        expect(hits.map((hit) => hit.count).sort((a, b) => a - b)).toEqual(oneToN(12));
        expect(new Set(hits.map((hit) => hit.resetAt))).toEqual(new Set([now + second]));
      }
    });

    it('never takes a count below zero, even with concurrent decrements', async () => {
      const key = newKey();
      const now = Date.now();
      await hitConcurrently(key, 3, now);
      await Promise.all(oneToN(10).map((i) => (i % 2 === 0 ? apiA : apiB).decrement(key)));
      expect(await apiB.get(key, now)).toEqual({ count: 0, resetAt: now + minute });
      expect(await apiA.increment(key, minute, now + 1)).toEqual({ count: 1, resetAt: now + minute });
    });

    it('reset by one instance is seen by the other', async () => {
      const key = newKey();
      const now = Date.now();
      await hitConcurrently(key, 4, now);
      await apiA.reset(key);
      expect(await apiB.get(key, now)).toBeUndefined();
      expect(await apiB.increment(key, minute, now + 7)).toEqual({ count: 1, resetAt: now + 7 + minute });
    });
  });

  describe('mongoCounterStore cleanup', () => {
    it('has a TTL index on resetAt, with a grace after the window ends', async () => {
      const counters = await mongoCounterStore({ url, database });
      await counters.close();
      const indexes = await raw.db(database).collection('counters').listIndexes().toArray();
      expect(indexes.find((index) => index.name === 'resetAt_ttl')).toMatchObject({
        key: { resetAt: 1 },
        expireAfterSeconds: 3_600,
      });
    });

    it('refuses to start when the live TTL index has another TTL than the declared one', async () => {
      const other = `${database}_ttl_${randomUUID().slice(0, 6)}`;
      try {
        await raw
          .db(other)
          .collection('counters')
          .createIndex({ resetAt: 1 }, { name: 'resetAt_ttl', expireAfterSeconds: 60 });
        const refused = await mongoCounterStore({ url, database: other, ttlGraceSeconds: 3_600 }).catch(
          (error: unknown) => error,
        );
        expect(refused).toBeInstanceOf(IndexMismatchError);
        expect((refused as Error).message).toMatch(/counters\.resetAt_ttl: TTL 60, declared 3600/);
        const counters = await mongoCounterStore({ url, database: other, ttlGraceSeconds: 60 });
        await counters.close();
      } finally {
        await raw.db(other).dropDatabase();
      }
    });

    it('ignores an ended window that is still stored (correctness does not wait for the TTL)', async () => {
      const counters = await mongoCounterStore({ url, database });
      const key = newKey();
      const start = Date.now();
      await counters.increment(key, 1_000, start);
      expect(await counters.get(key, start + 999)).toEqual({ count: 1, resetAt: start + 1_000 });
      expect(await counters.get(key, start + 1_000)).toBeUndefined();
      // Still there: the TTL index removes it an hour after it ended (mongo-java-server: never).
      expect(
        await raw
          .db(database)
          .collection('counters')
          .findOne({ _id: key as never }),
      ).toEqual({
        _id: key,
        count: 1,
        resetAt: new Date(start + 1_000),
      });
      expect(await counters.increment(key, 1_000, start + 1_000)).toEqual({ count: 1, resetAt: start + 2_000 });
      await counters.close();
    });
  });
});
