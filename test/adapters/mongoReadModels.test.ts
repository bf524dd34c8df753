import { randomUUID } from 'node:crypto';
import { MongoClient } from 'mongodb';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { IndexMismatchError, mongoReadModels, readModelIndexes } from '../../adapters/mongoReadModels.js';
import { InfrastructureError, type ReadModelDocument, type ReadModels } from '../../adapters/ports.js';
import { requireServers } from '../support/distributedServers.js';
import { readModelsContract } from './readModels.contract.js';

const mongoUrl = requireServers('mongo');
const database = `secably_test_read_models_${randomUUID().slice(0, 8)}`;
const unique = (prefix: string): string => `${prefix}_${randomUUID().replaceAll('-', '')}`;

describe('mongoReadModels without a server', () => {
  it('reports an unreachable server as an InfrastructureError', async () => {
    const url = 'mongodb://127.0.0.1:1/?directConnection=true&serverSelectionTimeoutMS=300';
    await expect(mongoReadModels({ url, database })).rejects.toBeInstanceOf(InfrastructureError);
  });
});

describe.skipIf(mongoUrl === undefined)('mongoReadModels against the MongoDB-compatible server', () => {
  const url = mongoUrl!;
  let raw: MongoClient;

  beforeAll(async () => {
    raw = await MongoClient.connect(url);
  });

  afterAll(async () => {
    await raw?.db(database).dropDatabase();
    await raw?.close();
  });

  readModelsContract('mongoReadModels', async () => ({ readModels: await mongoReadModels({ url, database }) }));

  describe('mongoReadModels', () => {
    let readModels: ReadModels;
    let second: ReadModels | undefined;

    beforeEach(async () => {
      readModels = await mongoReadModels({ url, database });
    });

    afterEach(async () => {
      await readModels.close();
      await second?.close();
      second = undefined;
    });

    const stored = (collection: string, id: string) =>
      raw
        .db(database)
        .collection(collection)
        .findOne({ _id: id as never });

    it('keeps a tombstone on delete, so a replayed older event cannot bring the document back', async () => {
      const name = unique('targets');
      const targets = readModels.collection(name);
      expect(await targets.applyAt('t1', 10, { owner: 'u1' })).toBe(true);
      expect(await targets.applyAt('t1', 12, null)).toBe(true);
      expect(await stored(name, 't1')).toEqual({ _id: 't1', _position: 12, _deleted: true });

      // A projection resuming from a checkpoint before the delete replays the older events.
      expect(await targets.applyAt('t1', 11, { owner: 'resurrected' })).toBe(false);
      expect(await targets.applyAt('t1', 12, null)).toBe(false);
      expect(await targets.get('t1')).toBeNull();
      expect(await targets.find()).toEqual([]);
      expect(await targets.find({ _id: 't1' })).toEqual([]);
      expect(await targets.find({ _id: { $in: ['t1'] } })).toEqual([]);
      expect(await targets.count()).toBe(0);
      expect(await targets.count({ _id: 't1' })).toBe(0);

      // A later event may create it again: the tombstone is replaced, not merged.
      expect(await targets.applyAt('t1', 13, { owner: 'u2' })).toBe(true);
      expect(await targets.get('t1')).toEqual({ _id: 't1', _position: 13, owner: 'u2' });
      expect(await stored(name, 't1')).toEqual({ _id: 't1', owner: 'u2', _position: 13 });
    });

    it('records the position of a delete even when there was nothing to delete', async () => {
      const targets = readModels.collection(unique('targets'));
      expect(await targets.applyAt('t1', 5, null)).toBe(true);
      expect(await targets.applyAt('t1', 4, { owner: 'older' })).toBe(false);
      expect(await targets.get('t1')).toBeNull();
    });

    it('reset removes tombstones too: a rebuild replays from the start', async () => {
      const name = unique('targets');
      const targets = readModels.collection(name);
      await targets.applyAt('t1', 10, { owner: 'u1' });
      await targets.applyAt('t1', 12, null);
      await readModels.reset([name], []);
      expect(await stored(name, 't1')).toBeNull();
      expect(await targets.applyAt('t1', 10, { owner: 'u1' })).toBe(true);
      expect(await targets.get('t1')).toEqual({ _id: 't1', _position: 10, owner: 'u1' });
    });

    it('creates the indexes the GET endpoints and the pipeline query', async () => {
      const collections = new Set(readModelIndexes.map((index) => index.collection));
      expect([...collections].sort()).toEqual([
        'api_keys',
        'credit_ledger',
        'findings',
        'nuclei_templates',
        'pending_reservations',
        'scan_findings',
        'scans',
        'targets',
      ]);
      for (const index of readModelIndexes) {
        const existing = await raw.db(database).collection(index.collection).listIndexes().toArray();
        const found = existing.find((candidate) => candidate.name === index.name);
        expect(found, `${index.collection}.${index.name}`).toBeDefined();
        expect(Object.entries(found!.key as Record<string, number>)).toEqual(Object.entries(index.key));
      }
      // What the routes and the watchdog filter and sort by, field by field.
      const keyOf = (collection: string, name: string) =>
        readModelIndexes.find((index) => index.collection === collection && index.name === name)?.key;
      expect(keyOf('scans', 'user_created')).toEqual({ user_id: 1, created_at: -1, _id: -1 });
      expect(keyOf('scans', 'status')).toEqual({ status: 1 });
      expect(keyOf('targets', 'user_created')).toEqual({ user_id: 1, created_at: -1, added_position: -1 });
      expect(keyOf('api_keys', 'user_created')).toEqual({ user_id: 1, created_at: -1 });
      expect(keyOf('nuclei_templates', 'user_created')).toEqual({ user_id: 1, created_at: -1, uploaded_position: -1 });
      expect(keyOf('credit_ledger', 'account_position')).toEqual({ account_id: 1, position: -1 });
      expect(keyOf('pending_reservations', 'pending')).toEqual({ pending: 1 });
      // A second start finds them in place (createIndexes is idempotent).
      second = await mongoReadModels({ url, database });
    });

    it('refuses to start when a live index is not the declared one (its key, or its name)', async () => {
      const other = `${database}_mismatch_${randomUUID().slice(0, 6)}`;
      try {
        // An older version's index: the same name, another key (mongod would refuse to change it,
        // mongo-java-server would add a second one beside it).
        await raw.db(other).collection('scans').createIndex({ user_id: 1, created_at: 1 }, { name: 'user_created' });
        const refused = await mongoReadModels({ url, database: other }).catch((error: unknown) => error);
        expect(refused).toBeInstanceOf(IndexMismatchError);
        expect(String((refused as Error).message)).toMatch(
          /scans\.user_created: key \{user_id:1,created_at:1\}, declared \{user_id:1,created_at:-1,_id:-1\}/,
        );
        expect((refused as Error).message).toMatch(/dropIndex/);
        // Nothing was added beside it.
        const names = (await raw.db(other).collection('scans').listIndexes().toArray()).map((i) => i.name);
        expect(names.filter((name) => name === 'user_created')).toHaveLength(1);

        await raw.db(other).collection('scans').dropIndex('user_created');
        await raw.db(other).collection('api_keys').createIndex({ user_id: 1, created_at: -1 }, { name: 'by_user' });
        await expect(mongoReadModels({ url, database: other })).rejects.toThrow(
          /api_keys\.by_user: has the key \{user_id:1,created_at:-1\} of the declared index "user_created" under another name/,
        );

        await raw.db(other).collection('api_keys').dropIndex('by_user');
        second = await mongoReadModels({ url, database: other }); // as declared now
      } finally {
        await raw.db(other).dropDatabase();
      }
    });

    it('applies one position once when two instances (two projectors) write it concurrently', async () => {
      second = await mongoReadModels({ url, database });
      const name = unique('scans');
      const [mine, theirs] = [readModels.collection(name), second.collection(name)];
      const ids = Array.from({ length: 25 }, (_, i) => `s${i}`);
      const outcomes = await Promise.all(
        ids.map((id) => Promise.all([mine.applyAt(id, 7, { by: 'mine' }), theirs.applyAt(id, 7, { by: 'theirs' })])),
      );
      for (const [i, [byMine, byTheirs]] of outcomes.entries()) {
        expect(byMine !== byTheirs, `exactly one write of ${ids[i]} applies`).toBe(true);
        expect(await mine.get(ids[i]!)).toEqual({ _id: ids[i], _position: 7, by: byMine ? 'mine' : 'theirs' });
      }
    });

    it('keeps the highest position when two instances race with different positions', async () => {
      second = await mongoReadModels({ url, database });
      const name = unique('scans');
      const instances = [readModels.collection(name), second.collection(name)];
      const positions = Array.from({ length: 30 }, (_, i) => i + 1).sort(() => Math.random() - 0.5);
      const applied = await Promise.all(
        positions.map((position, i) => instances[i % 2]!.applyAt('s1', position, { seen: position })),
      );
      expect(applied.filter(Boolean).length).toBeGreaterThanOrEqual(1);
      expect(applied[positions.indexOf(30)]).toBe(true);
      expect(await instances[0]!.get('s1')).toEqual({ _id: 's1', _position: 30, seen: 30 });
    });

    it('refuses filters that not every adapter evaluates alike', async () => {
      const targets = readModels.collection(unique('targets'));
      await expect(targets.find({ rank: { $gt: 1 } })).rejects.toThrow(/unsupported filter/);
      await expect(targets.count({ rank: { $in: 1 } })).rejects.toThrow(/unsupported filter/);
      await expect(targets.find({ $or: [{ a: 1 }] })).rejects.toThrow(/unsupported filter/);
      await expect(targets.find({ 'nested.list': 1 })).rejects.toThrow(/unsupported filter/);
      await expect(targets.find({ host: /example/ })).rejects.toThrow(/unsupported filter/);
      await expect(targets.count({ _deleted: true })).rejects.toThrow(/unsupported filter/);
    });

    it('reserves _deleted and the checkpoints collection', async () => {
      expect(() => readModels.collection('checkpoints')).toThrow(/reserved/);
      await expect(readModels.collection(unique('targets')).applyAt('t1', 1, { _deleted: false })).rejects.toThrow(
        /reserved/,
      );
    });

    it('returns plain objects, drops undefined fields like JSON and matches undefined like null', async () => {
      const targets = readModels.collection<ReadModelDocument>(unique('targets'));
      const at = new Date('2026-01-02T03:04:05.678Z');
      await targets.applyAt('t1', 1, { nested: { list: [1, 2], deep: { x: 'y' } }, at, big: 2 ** 40, gone: undefined });
      const doc = (await targets.get('t1'))!;
      expect(doc).toEqual({ _id: 't1', _position: 1, nested: { list: [1, 2], deep: { x: 'y' } }, at, big: 2 ** 40 });
      expect(Object.hasOwn(doc, 'gone')).toBe(false);
      expect(Object.getPrototypeOf(doc)).toBe(Object.prototype);
      expect(Object.getPrototypeOf(doc.nested)).toBe(Object.prototype);
      expect(doc.at).toBeInstanceOf(Date);
      expect(typeof doc._id).toBe('string');
      expect((await targets.find({ gone: undefined })).map((found) => found._id)).toEqual(['t1']);
    });

    it('keeps projection checkpoints in the checkpoints collection', async () => {
      const projection = unique('scans');
      await readModels.setCheckpoint(projection, 42);
      expect(await stored('checkpoints', projection)).toEqual({ _id: projection, position: 42 });
      second = await mongoReadModels({ url, database });
      expect(await second.getCheckpoint(projection)).toBe(42);
    });
  });
});
