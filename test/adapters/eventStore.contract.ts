import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  SecablyError,
  WrongExpectedRevisionError,
  type EventStore,
  type EventToAppend,
  type ExpectedRevision,
  type RecordedEvent,
  type SubscribeToAllOptions,
  type Subscription,
} from '../../adapters/ports.js';
import { deferred, sleep, waitFor, within } from '../support/waitFor.js';

export interface EventStoreUnderTest {
  readonly store: EventStore;
  /** Runs after the suite closed the store (delete files, drop the database…). */
  readonly cleanup?: () => Promise<void>;
}

/** What differs between stores that all keep the port's promises. */
export interface EventStoreCapabilities {
  /**
   * Which appends of event ids already in the stream are recognized as retries
   * (answered with the original result, nothing written):
   * - 'anywhere-in-stream' (the default; SQLite, which indexes event ids): a batch
   *   found anywhere in the stream, whatever the expected revision;
   * - 'at-expected-revision' (EventStoreDB): a batch found right after an expected
   *   revision lower than the stream's (a retry with the expected revision of the
   *   first attempt), or, with 'any' / 'stream_exists', ids the server remembers
   *   (in any order). An expected revision equal to the stream's appends the batch
   *   again; a higher one is a conflict.
   */
  readonly idempotency: 'anywhere-in-stream' | 'at-expected-revision';
}

/**
 * The behaviour every EventStore adapter must have. Each test uses its own
 * stream names, categories and event types, so the suite also runs against a
 * shared server that holds other events.
 */
export function eventStoreContract(
  name: string,
  create: () => Promise<EventStoreUnderTest>,
  capabilities: EventStoreCapabilities = { idempotency: 'anywhere-in-stream' },
): void {
  const idsAnywhereInStream = capabilities.idempotency === 'anywhere-in-stream';
  describe(`EventStore contract: ${name}`, () => {
    let store: EventStore;
    let cleanup: (() => Promise<void>) | undefined;
    const subscriptions: Subscription[] = [];

    beforeEach(async () => {
      ({ store, cleanup } = await create());
    });

    afterEach(async () => {
      await within(Promise.all(subscriptions.splice(0).map((subscription) => subscription.stop())));
      await within(store.close());
      await cleanup?.();
    });

    /** A stream-name prefix no other test uses: streams are `<category>-<id>`. */
    const newCategory = (): string => `c${randomUUID().replaceAll('-', '')}`;
    const newStream = (): string => `${newCategory()}-${randomUUID()}`;
    const event = (type = 'ThingHappened', data: Record<string, unknown> = {}): EventToAppend => ({
      id: randomUUID(),
      type,
      data,
    });
    const events = (count: number, type = 'ThingHappened'): EventToAppend[] =>
      Array.from({ length: count }, (_, i) => event(type, { i }));
    const byCategory = (category: string): SubscribeToAllOptions['filter'] => ({
      streamNamePrefixes: [`${category}-`],
    });
    const readCategory = (category: string): Promise<RecordedEvent[]> =>
      store.readAll({ filter: byCategory(category) });

    function subscribe(
      options: SubscribeToAllOptions,
      handler: (event: RecordedEvent) => Promise<void> | void,
    ): Subscription {
      const subscription = store.subscribeToAll(options, handler);
      subscriptions.push(subscription);
      return subscription;
    }

    async function expectConflict(
      attempt: Promise<unknown>,
      streamName: string,
      expected: ExpectedRevision,
      actual: number | 'no_stream',
    ): Promise<void> {
      const error = await attempt.then(
        () => undefined,
        (reason: unknown) => reason,
      );
      expect(error).toBeInstanceOf(WrongExpectedRevisionError);
      expect(error).toBeInstanceOf(SecablyError);
      expect(error).toMatchObject({
        code: 'wrong_expected_revision',
        streamName,
        expected,
        actual,
      });
    }

    const ids = (recorded: readonly RecordedEvent[]): string[] => recorded.map((e) => e.id);
    const revisions = (recorded: readonly RecordedEvent[]): number[] => recorded.map((e) => e.revision);
    const expectIncreasingPositions = (recorded: readonly RecordedEvent[]): void => {
      for (let i = 1; i < recorded.length; i++) {
        expect(recorded[i]!.position).toBeGreaterThan(recorded[i - 1]!.position);
      }
    };

    describe('appendToStream', () => {
      it('numbers revisions from 0 and returns the last revision and position', async () => {
        const stream = newStream();
        const batch = events(3);
        const result = await store.appendToStream(stream, batch);
        const stored = await store.readStream(stream);
        expect(revisions(stored)).toEqual([0, 1, 2]);
        expect(ids(stored)).toEqual(batch.map((e) => e.id));
        expect(result).toEqual({ nextExpectedRevision: 2, position: stored[2]!.position });
        expectIncreasingPositions(stored);
      });

      it('stores id, type, stream, data and metadata as given', async () => {
        const stream = newStream();
        const data = {
          text: 'héllo 🔒 "quoted"',
          count: -12.5,
          zero: 0,
          yes: true,
          nothing: null,
          list: [1, 'two', { three: 3 }],
          nested: { deeper: { deepest: [] } },
        };
        const metadata = { correlationId: randomUUID(), causationId: 'command-1' };
        const withMetadata: EventToAppend = {
          id: randomUUID(),
          type: 'Scan.Requested.v2',
          data,
          metadata,
        };
        const withoutMetadata = event('Plain');
        await store.appendToStream(stream, [withMetadata, withoutMetadata]);
        const [first, second] = await store.readStream(stream);
        expect(first).toMatchObject({
          id: withMetadata.id,
          type: 'Scan.Requested.v2',
          streamName: stream,
          revision: 0,
        });
        expect(first!.data).toEqual(data);
        expect(first!.metadata).toEqual(metadata);
        expect(second!.metadata).toEqual({});
        expect(new Date(first!.recordedAt).toISOString()).toBe(first!.recordedAt);
        expect(Math.abs(Date.parse(first!.recordedAt) - Date.now())).toBeLessThan(60_000);
      });

      it("'any' (the default) appends whatever the stream's state", async () => {
        const stream = newStream();
        await store.appendToStream(stream, [event()], { expectedRevision: 'any' });
        await store.appendToStream(stream, [event()]);
        expect(revisions(await store.readStream(stream))).toEqual([0, 1]);
      });

      it("'no_stream' passes on a new stream and fails once it has events", async () => {
        const stream = newStream();
        await store.appendToStream(stream, events(2), { expectedRevision: 'no_stream' });
        await expectConflict(
          store.appendToStream(stream, [event()], { expectedRevision: 'no_stream' }),
          stream,
          'no_stream',
          1,
        );
        expect(await store.readStream(stream)).toHaveLength(2);
      });

      it("'stream_exists' fails on a missing stream and passes once it has events", async () => {
        const stream = newStream();
        await expectConflict(
          store.appendToStream(stream, [event()], { expectedRevision: 'stream_exists' }),
          stream,
          'stream_exists',
          'no_stream',
        );
        expect(await store.readStream(stream)).toEqual([]);
        await store.appendToStream(stream, [event()]);
        const result = await store.appendToStream(stream, [event()], {
          expectedRevision: 'stream_exists',
        });
        expect(result.nextExpectedRevision).toBe(1);
      });

      it('an exact revision passes only when it is the revision of the last event', async () => {
        const stream = newStream();
        await expectConflict(store.appendToStream(stream, [event()], { expectedRevision: 0 }), stream, 0, 'no_stream');
        await store.appendToStream(stream, events(2));
        await expectConflict(store.appendToStream(stream, [event()], { expectedRevision: 0 }), stream, 0, 1);
        await expectConflict(store.appendToStream(stream, [event()], { expectedRevision: 2 }), stream, 2, 1);
        const result = await store.appendToStream(stream, events(2), { expectedRevision: 1 });
        expect(result.nextExpectedRevision).toBe(3);
        await store.appendToStream(stream, [event()], { expectedRevision: 3 });
        expect(revisions(await store.readStream(stream))).toEqual([0, 1, 2, 3, 4]);
      });

      it('a failed check writes none of the batch', async () => {
        const category = newCategory();
        const stream = `${category}-1`;
        await store.appendToStream(stream, [event()]);
        await expectConflict(store.appendToStream(stream, events(3), { expectedRevision: 5 }), stream, 5, 0);
        expect(await store.readStream(stream)).toHaveLength(1);
        expect(await readCategory(category)).toHaveLength(1);
      });

      it('writes a batch contiguously in the global log, even with concurrent writers', async () => {
        const category = newCategory();
        const batches = Array.from({ length: 6 }, () => events(5));
        await Promise.all(batches.map((batch, i) => store.appendToStream(`${category}-${i % 3}`, batch)));
        const all = ids(await readCategory(category));
        for (const batch of batches) {
          const start = all.indexOf(batch[0]!.id);
          expect(all.slice(start, start + batch.length)).toEqual(batch.map((e) => e.id));
        }
      });

      it('gives strictly increasing positions across streams, in append order', async () => {
        const category = newCategory();
        const appended: string[] = [];
        for (let i = 0; i < 9; i++) {
          const next = event();
          appended.push(next.id);
          const result = await store.appendToStream(`${category}-${i % 3}`, [next]);
          expect(result.nextExpectedRevision).toBe(Math.floor(i / 3));
        }
        const all = await readCategory(category);
        expect(ids(all)).toEqual(appended);
        expectIncreasingPositions(all);
      });

      it('exactly one of concurrent appends expecting the same revision wins', async () => {
        const stream = newStream();
        await store.appendToStream(stream, [event()]);
        const attempts = await Promise.allSettled(
          Array.from({ length: 10 }, () => store.appendToStream(stream, events(2), { expectedRevision: 0 })),
        );
        const won = attempts.filter((attempt) => attempt.status === 'fulfilled');
        const lost = attempts.flatMap((attempt) => (attempt.status === 'rejected' ? [attempt.reason] : []));
        expect(won).toHaveLength(1);
        expect(lost).toHaveLength(9);
        for (const reason of lost) expect(reason).toMatchObject({ code: 'wrong_expected_revision', actual: 2 });
        expect(revisions(await store.readStream(stream))).toEqual([0, 1, 2]);
      });

      it("exactly one of concurrent appends expecting 'no_stream' wins", async () => {
        const stream = newStream();
        const attempts = await Promise.allSettled(
          Array.from({ length: 10 }, () => store.appendToStream(stream, [event()], { expectedRevision: 'no_stream' })),
        );
        expect(attempts.filter((attempt) => attempt.status === 'fulfilled')).toHaveLength(1);
        expect(await store.readStream(stream)).toHaveLength(1);
      });

      describe('idempotency (same event ids again)', () => {
        it('returns the original result and writes nothing, whatever the expected revision', async () => {
          const category = newCategory();
          const stream = `${category}-1`;
          const batch = events(2);
          const original = await store.appendToStream(stream, batch, {
            expectedRevision: 'no_stream',
          });
          const retries: ExpectedRevision[] = ['no_stream', 'any', 'stream_exists', -1];
          if (idsAnywhereInStream) retries.push(1, 7);
          for (const expectedRevision of retries) {
            expect(await store.appendToStream(stream, batch, { expectedRevision })).toEqual(original);
          }
          if (!idsAnywhereInStream) {
            // Not looked for past the stream's end: an ordinary conflict.
            await expectConflict(store.appendToStream(stream, batch, { expectedRevision: 7 }), stream, 7, 1);
          }
          expect(ids(await readCategory(category))).toEqual(batch.map((e) => e.id));
        });

        it('recognizes an earlier batch after the stream moved on', async () => {
          const stream = newStream();
          const first = events(2);
          const second = events(2);
          const firstResult = await store.appendToStream(stream, first, {
            expectedRevision: 'no_stream',
          });
          const secondResult = await store.appendToStream(stream, second, { expectedRevision: 1 });
          await store.appendToStream(stream, [event()], { expectedRevision: 3 });
          expect(await store.appendToStream(stream, first, { expectedRevision: 'no_stream' })).toEqual(firstResult);
          expect(await store.appendToStream(stream, second, { expectedRevision: 1 })).toEqual(secondResult);
          expect(await store.readStream(stream)).toHaveLength(5);
        });

        it('rejects a batch that only partly matches the stored events, writing nothing', async () => {
          const stream = newStream();
          const [a, b] = events(2) as [EventToAppend, EventToAppend];
          await store.appendToStream(stream, [a, b]);
          await expectConflict(store.appendToStream(stream, [a, event()]), stream, 'any', 1);
          await expectConflict(
            store.appendToStream(stream, [a, b, event()], { expectedRevision: 'no_stream' }),
            stream,
            'no_stream',
            1,
          );
          await expectConflict(
            store.appendToStream(stream, [b, a], { expectedRevision: 'no_stream' }),
            stream,
            'no_stream',
            1,
          );
          if (idsAnywhereInStream) {
            await expectConflict(store.appendToStream(stream, [a, b, event()], { expectedRevision: 1 }), stream, 1, 1);
            await expectConflict(store.appendToStream(stream, [b, a]), stream, 'any', 1);
          }
          expect(ids(await store.readStream(stream))).toEqual([a.id, b.id]);
        });
      });

      describe('an empty batch', () => {
        it('checks the expected revision and writes nothing', async () => {
          const stream = newStream();
          const onMissing = await store.appendToStream(stream, [], {
            expectedRevision: 'no_stream',
          });
          expect(onMissing.nextExpectedRevision).toBe(-1);
          expect(await store.readStream(stream)).toEqual([]);
          await expectConflict(
            store.appendToStream(stream, [], { expectedRevision: 'stream_exists' }),
            stream,
            'stream_exists',
            'no_stream',
          );
          const appended = await store.appendToStream(stream, events(2));
          expect(await store.appendToStream(stream, [], { expectedRevision: 1 })).toMatchObject({
            nextExpectedRevision: 1,
          });
          await expectConflict(store.appendToStream(stream, [], { expectedRevision: 0 }), stream, 0, 1);
          expect(appended.nextExpectedRevision).toBe(1);
          expect(await store.readStream(stream)).toHaveLength(2);
        });
      });
    });

    describe('readStream', () => {
      let stream: string;
      let appended: EventToAppend[];
      beforeEach(async () => {
        stream = newStream();
        appended = events(5);
        await store.appendToStream(stream, appended);
        await store.appendToStream(newStream(), [event()]); // another stream, in between
      });

      it('reads forwards from the start by default', async () => {
        const read = await store.readStream(stream);
        expect(ids(read)).toEqual(appended.map((e) => e.id));
        expect(read.every((e) => e.streamName === stream)).toBe(true);
      });

      it('reads forwards from a revision (inclusive), up to maxCount', async () => {
        expect(revisions(await store.readStream(stream, { fromRevision: 2 }))).toEqual([2, 3, 4]);
        expect(revisions(await store.readStream(stream, { maxCount: 2 }))).toEqual([0, 1]);
        expect(revisions(await store.readStream(stream, { fromRevision: 1, maxCount: 2 }))).toEqual([1, 2]);
        expect(revisions(await store.readStream(stream, { fromRevision: 4 }))).toEqual([4]);
        expect(await store.readStream(stream, { fromRevision: 5 })).toEqual([]);
      });

      it('reads backwards from the end by default, or from a revision (inclusive)', async () => {
        expect(revisions(await store.readStream(stream, { direction: 'backwards' }))).toEqual([4, 3, 2, 1, 0]);
        expect(revisions(await store.readStream(stream, { direction: 'backwards', fromRevision: 2 }))).toEqual([
          2, 1, 0,
        ]);
        expect(revisions(await store.readStream(stream, { direction: 'backwards', maxCount: 2 }))).toEqual([4, 3]);
        expect(revisions(await store.readStream(stream, { direction: 'backwards', fromRevision: 0 }))).toEqual([0]);
      });

      it('returns an empty array for a stream that does not exist', async () => {
        const missing = newStream();
        expect(await store.readStream(missing)).toEqual([]);
        expect(await store.readStream(missing, { direction: 'backwards' })).toEqual([]);
        expect(await store.readStream(missing, { fromRevision: 3, maxCount: 1 })).toEqual([]);
      });

      it('gives the same events, positions included, as readAll', async () => {
        const fromStream = await store.readStream(stream);
        const fromAll = await store.readAll({ filter: { streamNamePrefixes: [stream] } });
        expect(fromAll).toEqual(fromStream);
      });
    });

    describe('readAll', () => {
      it('headPosition is the position of the last event appended', async () => {
        const category = newCategory();
        const first = await store.appendToStream(`${category}-a`, events(2));
        expect(await store.headPosition()).toBeGreaterThanOrEqual(first.position);
        const second = await store.appendToStream(`${category}-b`, [event()]);
        expect(await store.headPosition()).toBeGreaterThanOrEqual(second.position);
        expect(second.position).toBeGreaterThan(first.position);
      });

      it('reads every stream in global order, strictly after `after`, up to maxCount', async () => {
        const category = newCategory();
        const first = await store.appendToStream(`${category}-a`, [event()]);
        await store.appendToStream(`${category}-b`, events(2));
        await store.appendToStream(`${category}-a`, [event()]);
        const ours = await readCategory(category);
        expect(ours.map((e) => `${e.streamName.slice(-1)}${e.revision}`)).toEqual(['a0', 'b0', 'b1', 'a1']);
        expectIncreasingPositions(ours);

        // Without a filter: every stream, ours among them in the same order.
        const unfiltered = await store.readAll({ after: first.position - 1, maxCount: 10_000 });
        expect(unfiltered[0]!.position).toBe(first.position);
        expect(unfiltered.filter((e) => e.streamName.startsWith(category))).toEqual(ours);
        expectIncreasingPositions(unfiltered);

        const after = ours[1]!.position;
        expect(ids(await store.readAll({ after, filter: byCategory(category) }))).toEqual(ids(ours.slice(2)));
        expect(ids(await store.readAll({ after, maxCount: 1, filter: byCategory(category) }))).toEqual(
          ids(ours.slice(2, 3)),
        );
        expect(ids(await store.readAll({ maxCount: 2, filter: byCategory(category) }))).toEqual(ids(ours.slice(0, 2)));
        expect(await store.readAll({ after: ours[3]!.position, filter: byCategory(category) })).toEqual([]);
      });

      it('filters by stream-name prefixes and event-type prefixes; an event passes on any match', async () => {
        const [a, b, c] = [newCategory(), newCategory(), newCategory()];
        const type = `T${randomUUID().replaceAll('-', '')}`;
        await store.appendToStream(`${a}-1`, [event(`${type}Created`)]);
        await store.appendToStream(`${b}-1`, [event(`${type}Deleted`)]);
        await store.appendToStream(`${c}-1`, [event(`${type}Created`), event(`${type}Renamed`)]);
        const streamsOf = (recorded: RecordedEvent[]): string[] => recorded.map((e) => `${e.streamName}:${e.type}`);

        expect(streamsOf(await store.readAll({ filter: { streamNamePrefixes: [`${a}-`, `${b}-`] } }))).toEqual([
          `${a}-1:${type}Created`,
          `${b}-1:${type}Deleted`,
        ]);
        expect(streamsOf(await store.readAll({ filter: { eventTypePrefixes: [`${type}Cr`, `${type}Ren`] } }))).toEqual([
          `${a}-1:${type}Created`,
          `${c}-1:${type}Created`,
          `${c}-1:${type}Renamed`,
        ]);
        expect(
          streamsOf(
            await store.readAll({
              filter: { streamNamePrefixes: [`${b}-`], eventTypePrefixes: [`${type}Ren`] },
            }),
          ),
        ).toEqual([`${b}-1:${type}Deleted`, `${c}-1:${type}Renamed`]);
      });

      it('matches prefixes literally: case-sensitive, only at the start, no wildcards', async () => {
        const category = newCategory();
        const streams = [
          `${category}_x-1`,
          `${category}Ax-1`,
          `${category}%-1`,
          `${category}-Upper`,
          `${category}-upper`,
        ];
        for (const stream of streams) await store.appendToStream(stream, [event()]);
        await store.appendToStream(`x${category}-1`, [event()]);
        const streamsMatching = async (prefix: string): Promise<string[]> =>
          (await store.readAll({ filter: { streamNamePrefixes: [prefix] } })).map((e) => e.streamName);

        expect(await streamsMatching(`${category}_`)).toEqual([`${category}_x-1`]);
        expect(await streamsMatching(`${category}%`)).toEqual([`${category}%-1`]);
        expect(await streamsMatching(`${category}-U`)).toEqual([`${category}-Upper`]);
        expect(await streamsMatching(category)).toEqual(streams);
      });
    });

    describe('subscribeToAll', () => {
      it('delivers history, then live events, in order, each exactly once', async () => {
        const category = newCategory();
        await store.appendToStream(`${category}-a`, events(3));
        const seen: RecordedEvent[] = [];
        subscribe({ filter: byCategory(category) }, (e) => {
          seen.push(e);
        });
        await waitFor(() => expect(seen).toHaveLength(3));
        await store.appendToStream(`${category}-b`, events(2));
        await store.appendToStream(`${category}-a`, [event()]);
        await waitFor(() => expect(seen).toHaveLength(6));
        await sleep(30); // nothing more may come
        expect(seen).toEqual(await readCategory(category));
      });

      it('delivers a live event to a subscription that has caught up and is waiting', async () => {
        const category = newCategory();
        const seen: RecordedEvent[] = [];
        subscribe({ filter: byCategory(category) }, (e) => {
          seen.push(e);
        });
        await sleep(20);
        await store.appendToStream(`${category}-a`, [event()]);
        await waitFor(() => expect(seen).toHaveLength(1));
      });

      it('loses nothing appended while a slow handler runs, or by the handler itself', async () => {
        const category = newCategory();
        await store.appendToStream(`${category}-a`, events(3));
        const seen: RecordedEvent[] = [];
        let appendedByHandler = false;
        subscribe({ filter: byCategory(category) }, async (e) => {
          seen.push(e);
          if (!appendedByHandler) {
            appendedByHandler = true;
            await store.appendToStream(`${category}-handler`, [event()]);
          }
          if (seen.length < 8) await sleep(5);
        });
        await waitFor(() => seen.length >= 1);
        for (let i = 0; i < 10; i++) {
          await store.appendToStream(`${category}-${i % 2 === 0 ? 'a' : 'b'}`, [event()]);
          if (i % 3 === 0) await sleep(1);
        }
        await waitFor(() => expect(seen).toHaveLength(14));
        await sleep(30);
        expect(seen).toEqual(await readCategory(category));
      });

      it('pages through a long history without gaps', async () => {
        const category = newCategory();
        for (let i = 0; i < 12; i++) await store.appendToStream(`${category}-${i % 4}`, events(100));
        const seen: RecordedEvent[] = [];
        subscribe({ filter: byCategory(category) }, (e) => {
          seen.push(e);
        });
        await waitFor(() => expect(seen).toHaveLength(1200), 20_000);
        expect(ids(seen)).toEqual(ids(await readCategory(category)));
        expectIncreasingPositions(seen);
      });

      it('calls the handler one event at a time, awaiting each', async () => {
        const category = newCategory();
        await store.appendToStream(`${category}-a`, events(5));
        let running = 0;
        let mostAtOnce = 0;
        const seen: number[] = [];
        subscribe({ filter: byCategory(category) }, async (e) => {
          running += 1;
          mostAtOnce = Math.max(mostAtOnce, running);
          await sleep(2);
          seen.push(e.revision);
          running -= 1;
        });
        await store.appendToStream(`${category}-a`, events(3));
        await waitFor(() => expect(seen).toHaveLength(8));
        expect(mostAtOnce).toBe(1);
        expect(seen).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
      });

      it('resumes strictly after a checkpoint', async () => {
        const category = newCategory();
        await store.appendToStream(`${category}-a`, events(3));
        const firstRun: RecordedEvent[] = [];
        const first = subscribe({ filter: byCategory(category) }, (e) => {
          firstRun.push(e);
        });
        await waitFor(() => expect(firstRun).toHaveLength(3));
        await within(first.stop());
        const checkpoint = firstRun[2]!.position;

        await store.appendToStream(`${category}-a`, events(2));
        const secondRun: RecordedEvent[] = [];
        subscribe({ after: checkpoint, filter: byCategory(category) }, (e) => {
          secondRun.push(e);
        });
        await waitFor(() => expect(secondRun).toHaveLength(2));
        expect(revisions(secondRun)).toEqual([3, 4]);
        expect(ids([...firstRun, ...secondRun])).toEqual(ids(await readCategory(category)));
      });

      it('without a filter delivers every stream', async () => {
        const [a, b] = [newCategory(), newCategory()];
        const first = await store.appendToStream(`${a}-1`, [event()]);
        await store.appendToStream(`${b}-1`, [event()]);
        const seen: RecordedEvent[] = [];
        subscribe({ after: first.position - 1 }, (e) => {
          seen.push(e);
        });
        await store.appendToStream(`${a}-1`, [event()]);
        const ours = (): string[] =>
          seen.filter((e) => e.streamName.startsWith(a) || e.streamName.startsWith(b)).map((e) => e.streamName);
        await waitFor(() => expect(ours()).toEqual([`${a}-1`, `${b}-1`, `${a}-1`]));
        expectIncreasingPositions(seen);
      });

      it('delivers only what the filter lets through, history and live', async () => {
        const [a, b] = [newCategory(), newCategory()];
        const type = `T${randomUUID().replaceAll('-', '')}`;
        await store.appendToStream(`${a}-1`, [event(`${type}Kept`), event(`${type}Dropped`)]);
        await store.appendToStream(`${b}-1`, [event(`${type}Kept`)]);
        const byType: RecordedEvent[] = [];
        const byStream: RecordedEvent[] = [];
        subscribe({ filter: { eventTypePrefixes: [`${type}Kept`] } }, (e) => {
          byType.push(e);
        });
        subscribe({ filter: { streamNamePrefixes: [`${b}-`] } }, (e) => {
          byStream.push(e);
        });
        await store.appendToStream(`${a}-1`, [event(`${type}Dropped`), event(`${type}Kept`)]);
        await store.appendToStream(`${b}-1`, [event(`${type}Dropped`)]);
        await waitFor(() => expect(byType).toHaveLength(3));
        await waitFor(() => expect(byStream).toHaveLength(2));
        await sleep(30);
        expect(byType.map((e) => `${e.streamName}@${e.revision}`)).toEqual([`${a}-1@0`, `${b}-1@0`, `${a}-1@3`]);
        expect(byStream.map((e) => e.type)).toEqual([`${type}Kept`, `${type}Dropped`]);
      });

      it('stop() waits for the running handler, then nothing more is delivered', async () => {
        const category = newCategory();
        await store.appendToStream(`${category}-a`, events(3));
        const gate = deferred();
        const seen: RecordedEvent[] = [];
        let running = false;
        const subscription = subscribe({ filter: byCategory(category) }, async (e) => {
          running = true;
          seen.push(e);
          await gate.promise;
          running = false;
        });
        await waitFor(() => expect(seen).toHaveLength(1));
        let stopped = false;
        const stopping = subscription.stop().then(() => {
          stopped = true;
        });
        await sleep(20);
        expect(stopped).toBe(false);
        gate.resolve();
        await within(stopping);
        expect(running).toBe(false);
        await expect(within(subscription.done)).resolves.toBeUndefined();
        await store.appendToStream(`${category}-a`, events(2));
        await sleep(30);
        expect(seen).toHaveLength(1);
      });

      it('stop() called from inside the handler ends delivery after that event', async () => {
        const category = newCategory();
        await store.appendToStream(`${category}-a`, events(5));
        const seen: RecordedEvent[] = [];
        const subscription: Subscription = subscribe({ filter: byCategory(category) }, (e) => {
          seen.push(e);
          if (seen.length === 2) void subscription.stop();
        });
        await expect(within(subscription.done)).resolves.toBeUndefined();
        expect(revisions(seen)).toEqual([0, 1]);
      });

      it('a throwing handler ends the subscription and rejects done with its error', async () => {
        const category = newCategory();
        await store.appendToStream(`${category}-a`, events(4));
        const failure = new Error('projection failed');
        const seen: RecordedEvent[] = [];
        const subscription = subscribe({ filter: byCategory(category) }, (e) => {
          seen.push(e);
          if (seen.length === 2) throw failure;
        });
        await expect(within(subscription.done)).rejects.toBe(failure);
        await store.appendToStream(`${category}-a`, [event()]);
        await sleep(30);
        expect(revisions(seen)).toEqual([0, 1]);
        await expect(within(subscription.stop())).resolves.toBeUndefined();
      });

      it('an async handler that rejects ends the subscription too', async () => {
        const category = newCategory();
        await store.appendToStream(`${category}-a`, events(3));
        const failure = new Error('async failure');
        const subscription = subscribe({ filter: byCategory(category) }, async () => {
          await sleep(1);
          throw failure;
        });
        await expect(within(subscription.done)).rejects.toBe(failure);
      });

      it('close() ends the subscriptions', async () => {
        const category = newCategory();
        await store.appendToStream(`${category}-a`, events(2));
        const seen: RecordedEvent[] = [];
        const subscription = subscribe({ filter: byCategory(category) }, (e) => {
          seen.push(e);
        });
        await waitFor(() => expect(seen).toHaveLength(2));
        await store.close();
        await expect(within(subscription.done)).resolves.toBeUndefined();
      });
    });
  });
}
