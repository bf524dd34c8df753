import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ReadModelCollection, ReadModelDocument, ReadModels } from '../../adapters/ports.js';

export interface ReadModelsUnderTest {
  readonly readModels: ReadModels;
  /** Runs after the suite closed the read models (drop the test database…). */
  readonly cleanup?: () => Promise<void>;
}

interface Target extends ReadModelDocument {
  readonly owner?: string | null;
  readonly host?: string;
  readonly rank?: number | string | null;
  readonly tags?: string[];
  readonly nested?: { readonly list: number[] };
}

/**
 * The behaviour every ReadModels adapter must have. Collection and projection
 * names are unique per test, so the suite also runs against a shared server.
 */
export function readModelsContract(name: string, create: () => Promise<ReadModelsUnderTest>): void {
  describe(`ReadModels contract: ${name}`, () => {
    let readModels: ReadModels;
    let cleanup: (() => Promise<void>) | undefined;
    let targets: ReadModelCollection<Target>;
    let targetsName: string;

    const unique = (prefix: string): string => `${prefix}_${randomUUID().replaceAll('-', '')}`;

    beforeEach(async () => {
      ({ readModels, cleanup } = await create());
      targetsName = unique('targets');
      targets = readModels.collection<Target>(targetsName);
    });

    afterEach(async () => {
      await readModels.close();
      await cleanup?.();
    });

    /** Writes documents at increasing positions, in the given order. */
    async function seed(docs: readonly Target[]): Promise<void> {
      let position = 1;
      for (const { _id, ...fields } of docs) await targets.applyAt(_id, position++, fields);
    }
    const idsOf = (docs: readonly ReadModelDocument[]): string[] => docs.map((doc) => doc._id);

    describe('applyAt and get', () => {
      it('returns null for a missing document', async () => {
        expect(await targets.get('missing')).toBeNull();
      });

      it('writes a document with its _id and _position', async () => {
        expect(await targets.applyAt('t1', 10, { owner: 'u1', host: 'a.example' })).toBe(true);
        expect(await targets.get('t1')).toEqual({
          _id: 't1',
          _position: 10,
          owner: 'u1',
          host: 'a.example',
        });
      });

      it('replaces the whole document at a later position', async () => {
        await targets.applyAt('t1', 10, { owner: 'u1', host: 'a.example' });
        expect(await targets.applyAt('t1', 11, { owner: 'u2' })).toBe(true);
        expect(await targets.get('t1')).toEqual({ _id: 't1', _position: 11, owner: 'u2' });
      });

      it('skips a position the document has already seen (equal or older), changing nothing', async () => {
        await targets.applyAt('t1', 10, { owner: 'u1' });
        expect(await targets.applyAt('t1', 10, { owner: 'replayed' })).toBe(false);
        expect(await targets.applyAt('t1', 3, { owner: 'older' })).toBe(false);
        expect(await targets.applyAt('t1', 3, null)).toBe(false);
        expect(await targets.get('t1')).toEqual({ _id: 't1', _position: 10, owner: 'u1' });
      });

      it('deletes the document on null at a later position', async () => {
        await targets.applyAt('t1', 10, { owner: 'u1' });
        expect(await targets.applyAt('t1', 12, null)).toBe(true);
        expect(await targets.get('t1')).toBeNull();
        expect(await targets.count()).toBe(0);
        await targets.applyAt('missing', 13, null); // nothing to delete: no error
      });

      it('keeps its own _id and _position when the document passed in carries stale ones', async () => {
        await targets.applyAt('t1', 10, { owner: 'u1' });
        const read = await targets.get('t1');
        expect(await targets.applyAt('t1', 11, { ...read, owner: 'u2' })).toBe(true);
        expect(await targets.get('t1')).toEqual({ _id: 't1', _position: 11, owner: 'u2' });
      });

      it('keeps collections apart', async () => {
        const other = readModels.collection<Target>(unique('others'));
        await targets.applyAt('same-id', 1, { owner: 'in targets' });
        await other.applyAt('same-id', 1, { owner: 'in others' });
        expect((await targets.get('same-id'))?.owner).toBe('in targets');
        expect((await other.get('same-id'))?.owner).toBe('in others');
        expect(await readModels.collection<Target>(targetsName).get('same-id')).toMatchObject({
          owner: 'in targets',
        });
      });
    });

    describe('documents are copies', () => {
      it('changing a returned document or the written one does not change what is stored', async () => {
        const written = { owner: 'u1', tags: ['a'], nested: { list: [1] } };
        await targets.applyAt('t1', 1, written);
        written.tags.push('changed by the writer');
        written.nested.list.push(2);

        const got = await targets.get('t1');
        got!.tags!.push('changed by a reader');
        (got as { owner: string }).owner = 'mutated';
        const [found] = await targets.find({ _id: 't1' });
        found!.nested!.list.push(3);

        expect(await targets.get('t1')).toEqual({
          _id: 't1',
          _position: 1,
          owner: 'u1',
          tags: ['a'],
          nested: { list: [1] },
        });
      });
    });

    describe('find and count', () => {
      beforeEach(async () => {
        await seed([
          { _id: 't1', owner: 'u1', host: 'b.example', rank: 10, tags: ['web'] },
          { _id: 't2', owner: 'u2', host: 'a.example', rank: 2 },
          { _id: 't3', owner: 'u1', host: 'a.example', rank: 2, tags: ['web', 'api'] },
          { _id: 't4', owner: 'u3', host: 'B.example', rank: null },
          { _id: 't5', host: 'c.example' },
        ]);
      });

      it('finds everything without a filter', async () => {
        expect((await targets.find()).sort((a, b) => a._id.localeCompare(b._id)).map((d) => d._id)).toEqual([
          't1',
          't2',
          't3',
          't4',
          't5',
        ]);
        expect(await targets.count()).toBe(5);
        expect(await targets.count({})).toBe(5);
      });

      it('filters by equality on every given field', async () => {
        expect(idsOf(await targets.find({ owner: 'u1' }, { sort: { _id: 1 } }))).toEqual(['t1', 't3']);
        expect(idsOf(await targets.find({ owner: 'u1', host: 'a.example' }))).toEqual(['t3']);
        expect(idsOf(await targets.find({ _id: 't2' }))).toEqual(['t2']);
        expect(idsOf(await targets.find({ rank: 2 }, { sort: { _id: 1 } }))).toEqual(['t2', 't3']);
        expect(await targets.find({ owner: 'nobody' })).toEqual([]);
        expect(await targets.count({ owner: 'u1' })).toBe(2);
        expect(await targets.count({ owner: 'u1', rank: 10 })).toBe(1);
      });

      it('filters with $in', async () => {
        expect(idsOf(await targets.find({ owner: { $in: ['u2', 'u3'] } }, { sort: { _id: 1 } }))).toEqual(['t2', 't4']);
        expect(idsOf(await targets.find({ _id: { $in: ['t5', 't1', 'nope'] } }, { sort: { _id: 1 } }))).toEqual([
          't1',
          't5',
        ]);
        expect(await targets.find({ owner: { $in: [] } })).toEqual([]);
        expect(await targets.count({ owner: { $in: ['u1', 'u3'] }, host: 'a.example' })).toBe(1);
      });

      it('matches like MongoDB: null matches null or missing, an array field matches an element', async () => {
        expect(idsOf(await targets.find({ owner: null }))).toEqual(['t5']);
        expect(idsOf(await targets.find({ rank: null }, { sort: { _id: 1 } }))).toEqual(['t4', 't5']);
        expect(idsOf(await targets.find({ tags: 'api' }))).toEqual(['t3']);
        expect(idsOf(await targets.find({ tags: { $in: ['web'] } }, { sort: { _id: 1 } }))).toEqual(['t1', 't3']);
      });

      it('sorts ascending and descending, numbers as numbers, strings by code unit', async () => {
        expect(idsOf(await targets.find({ owner: { $in: ['u1', 'u2'] } }, { sort: { rank: 1, _id: 1 } }))).toEqual([
          't2',
          't3',
          't1',
        ]);
        expect(idsOf(await targets.find({ owner: { $in: ['u1', 'u2'] } }, { sort: { rank: -1, _id: -1 } }))).toEqual([
          't1',
          't3',
          't2',
        ]);
        // 'B' (0x42) sorts before 'a' (0x61).
        expect(idsOf(await targets.find({}, { sort: { host: 1, _id: 1 } }))).toEqual(['t4', 't2', 't3', 't1', 't5']);
      });

      it('sorts by several fields in order', async () => {
        expect(idsOf(await targets.find({}, { sort: { owner: 1, rank: -1, _id: 1 } }))).toEqual([
          't5',
          't1',
          't3',
          't2',
          't4',
        ]);
        expect(idsOf(await targets.find({}, { sort: { owner: 1, rank: 1, _id: 1 } }))).toEqual([
          't5',
          't3',
          't1',
          't2',
          't4',
        ]);
        expect(idsOf(await targets.find({ owner: { $in: ['u1', 'u2'] } }, { sort: { host: -1, _id: -1 } }))).toEqual([
          't1',
          't3',
          't2',
        ]);
      });

      it('puts null and missing values first ascending, last descending', async () => {
        const ascending = idsOf(await targets.find({}, { sort: { rank: 1, _id: 1 } }));
        expect(ascending).toEqual(['t4', 't5', 't2', 't3', 't1']);
        const descending = idsOf(await targets.find({}, { sort: { rank: -1, _id: 1 } }));
        expect(descending).toEqual(['t1', 't2', 't3', 't4', 't5']);
      });

      it('skips and limits after sorting', async () => {
        const sort = { _id: 1 } as const;
        expect(idsOf(await targets.find({}, { sort, limit: 2 }))).toEqual(['t1', 't2']);
        expect(idsOf(await targets.find({}, { sort, skip: 2, limit: 2 }))).toEqual(['t3', 't4']);
        expect(idsOf(await targets.find({}, { sort, skip: 4, limit: 2 }))).toEqual(['t5']);
        expect(idsOf(await targets.find({}, { sort, skip: 3 }))).toEqual(['t4', 't5']);
        expect(await targets.find({}, { sort, skip: 10 })).toEqual([]);
        expect(idsOf(await targets.find({ owner: 'u1' }, { sort: { _id: -1 }, limit: 1 }))).toEqual(['t3']);
      });
    });

    describe('checkpoints and reset', () => {
      it('stores one checkpoint per projection', async () => {
        const [scans, usage] = [unique('scans'), unique('usage')];
        expect(await readModels.getCheckpoint(scans)).toBeUndefined();
        await readModels.setCheckpoint(scans, 41);
        await readModels.setCheckpoint(scans, 42);
        await readModels.setCheckpoint(usage, 7);
        expect(await readModels.getCheckpoint(scans)).toBe(42);
        expect(await readModels.getCheckpoint(usage)).toBe(7);
      });

      it('reset drops the given collections and checkpoints, and only those', async () => {
        const kept = readModels.collection<Target>(unique('kept'));
        const [rebuilt, untouched] = [unique('rebuilt'), unique('untouched')];
        await targets.applyAt('t1', 5, { owner: 'u1' });
        await kept.applyAt('k1', 5, { owner: 'u1' });
        await readModels.setCheckpoint(rebuilt, 5);
        await readModels.setCheckpoint(untouched, 5);

        await readModels.reset([targetsName], [rebuilt]);

        expect(await targets.get('t1')).toBeNull();
        expect(await targets.count()).toBe(0);
        expect(await kept.get('k1')).not.toBeNull();
        expect(await readModels.getCheckpoint(rebuilt)).toBeUndefined();
        expect(await readModels.getCheckpoint(untouched)).toBe(5);
        // A rebuild replays from the start: old positions apply again.
        expect(await targets.applyAt('t1', 5, { owner: 'u1' })).toBe(true);
      });
    });
  });
}
