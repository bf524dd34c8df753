import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { eventStoreDbEventStore } from '../../adapters/eventStoreDbEventStore.js';
import {
  InfrastructureError,
  type EventStore,
  type EventToAppend,
  type RecordedEvent,
  type Subscription,
} from '../../adapters/ports.js';
import { startEventStoreDbEmulator, type EventStoreDbEmulator } from '../support/eventStoreDbEmulator.js';
import { sleep, waitFor, within } from '../support/waitFor.js';
import { eventStoreContract, type EventStoreCapabilities } from './eventStore.contract.js';

// EventStoreDB recognizes repeated event ids where it looks for them (after the
// expected revision, or in its id cache for any / stream_exists), not anywhere
// in the stream like the SQLite store: see EventStoreCapabilities.
const eventStoreDb: EventStoreCapabilities = { idempotency: 'at-expected-revision' };

describe('on a 21.10+ node (appends through BatchAppend)', () => {
  let emulator: EventStoreDbEmulator;
  beforeAll(async () => {
    emulator = await startEventStoreDbEmulator();
  });
  afterAll(() => emulator.stop());

  eventStoreContract(
    'eventStoreDbEventStore (EventStoreDB emulator)',
    async () => ({ store: eventStoreDbEventStore({ connectionString: emulator.connectionString }) }),
    eventStoreDb,
  );
});

describe('on a 20.x node (appends through Append)', () => {
  let emulator: EventStoreDbEmulator;
  beforeAll(async () => {
    emulator = await startEventStoreDbEmulator({ batchAppend: false });
  });
  afterAll(() => emulator.stop());

  eventStoreContract(
    'eventStoreDbEventStore (EventStoreDB emulator, Append)',
    async () => ({ store: eventStoreDbEventStore({ connectionString: emulator.connectionString }) }),
    eventStoreDb,
  );
});

describe('eventStoreDbEventStore', () => {
  let emulator: EventStoreDbEmulator;
  const stores: EventStore[] = [];
  const subscriptions: Subscription[] = [];
  const open = (connectionString = emulator.connectionString): EventStore => {
    const store = eventStoreDbEventStore({ connectionString });
    stores.push(store);
    return store;
  };
  const newCategory = (): string => `c${randomUUID().replaceAll('-', '')}`;
  const event = (type = 'ThingHappened', data: Record<string, unknown> = {}): EventToAppend => ({
    id: randomUUID(),
    type,
    data,
  });

  beforeAll(async () => {
    emulator = await startEventStoreDbEmulator();
  });
  afterEach(async () => {
    await within(Promise.all(subscriptions.splice(0).map((subscription) => subscription.stop())));
    await within(Promise.all(stores.splice(0).map((store) => store.close())));
  });
  afterAll(() => emulator.stop());

  describe('system events ($-prefixed streams and event types)', () => {
    it('never come out of readAll, headPosition or subscribeToAll, but readStream reads them', async () => {
      const store = open();
      const category = newCategory();
      const systemStream = `$${category}-settings`;
      const ours = await store.appendToStream(`${category}-1`, [event('Opened')]);
      await store.appendToStream(systemStream, [event('SettingsChanged')]);
      await store.appendToStream(`${category}-1`, [event('$metadata')]);
      const isSystem = (e: RecordedEvent): boolean => e.streamName.startsWith('$') || e.type.startsWith('$');

      // The node's own system events ($users, $settings…) are in $all from the start.
      const all = await store.readAll();
      expect(all.some(isSystem)).toBe(false);
      expect(all.at(-1)?.position).toBe(ours.position);
      expect(await store.headPosition()).toBe(ours.position);
      expect(await store.readAll({ filter: { streamNamePrefixes: ['$'] } })).toEqual([]);
      expect(await store.readAll({ filter: { eventTypePrefixes: ['$'] } })).toEqual([]);
      expect((await store.readStream(systemStream)).map((e) => e.type)).toEqual(['SettingsChanged']);

      const filters = [
        undefined,
        { streamNamePrefixes: [`${category}-`] },
        { streamNamePrefixes: [`$${category}`, `${category}-`] },
        { eventTypePrefixes: ['$', 'Opened', 'Closed'] },
        { streamNamePrefixes: [`$${category}`], eventTypePrefixes: ['Opened', 'Closed'] },
      ];
      const seen = filters.map(() => [] as RecordedEvent[]);
      filters.forEach((filter, i) =>
        subscriptions.push(store.subscribeToAll({ ...(filter ? { filter } : {}) }, (e) => void seen[i]!.push(e))),
      );
      await store.appendToStream(systemStream, [event('Closed')]);
      await store.appendToStream(`${category}-1`, [event('$metadata'), event('Closed')]);
      for (const delivered of seen) {
        await waitFor(() => expect(delivered.filter((e) => e.streamName.includes(category))).toHaveLength(2));
        expect(delivered.some(isSystem)).toBe(false);
      }
    });
  });

  describe('positions and revisions', () => {
    it('maps positions to commit positions in the log: increasing, not contiguous, the same in every read', async () => {
      const store = open();
      const stream = `${newCategory()}-1`;
      const first = await store.appendToStream(stream, [event(), event()], { expectedRevision: 'no_stream' });
      const second = await store.appendToStream(stream, [event()], { expectedRevision: 1 });
      const read = await store.readStream(stream);
      expect(read.map((e) => e.revision)).toEqual([0, 1, 2]);
      expect(first).toEqual({ nextExpectedRevision: 1, position: read[1]!.position });
      expect(second).toEqual({ nextExpectedRevision: 2, position: read[2]!.position });
      expect(read[1]!.position - read[0]!.position).toBeGreaterThan(1); // byte offsets in the log
      expect(await store.readAll({ after: read[0]!.position, filter: { streamNamePrefixes: [stream] } })).toEqual(
        read.slice(1),
      );
      expect(await store.readStream(stream, { direction: 'backwards', fromRevision: 99 })).toEqual([...read].reverse());
    });

    it('reads from a position that is no event (not a record boundary) by scanning from the start', async () => {
      const store = open();
      const category = newCategory();
      const first = await store.appendToStream(`${category}-1`, [event()]);
      await store.appendToStream(`${category}-1`, [event()]);
      const all = await store.readAll({ filter: { streamNamePrefixes: [category] } });
      expect(await store.readAll({ after: first.position + 1, filter: { streamNamePrefixes: [category] } })).toEqual(
        all.slice(1),
      );
      const seen: RecordedEvent[] = [];
      subscriptions.push(
        store.subscribeToAll({ after: first.position - 1, filter: { streamNamePrefixes: [category] } }, (e) => {
          seen.push(e);
        }),
      );
      await waitFor(() => expect(seen).toEqual(all));
    });
  });

  describe('idempotency, as EventStoreDB has it', () => {
    it('a retry with the expected revision of the first attempt is recognized after the stream moved on', async () => {
      const store = open();
      const stream = `${newCategory()}-1`;
      const batch = [event(), event()];
      const original = await store.appendToStream(stream, batch, { expectedRevision: 'no_stream' });
      await store.appendToStream(stream, [event()], { expectedRevision: 1 });
      expect(await store.appendToStream(stream, batch, { expectedRevision: 'no_stream' })).toEqual(original);
      expect(await store.appendToStream(stream, batch)).toEqual(original);
      expect(await store.readStream(stream)).toHaveLength(3);
    });

    it('an expected revision equal to the current one appends the same ids again (ids are not unique)', async () => {
      const store = open();
      const category = newCategory();
      const used = event();
      await store.appendToStream(`${category}-1`, [used], { expectedRevision: 'no_stream' });
      await store.appendToStream(`${category}-1`, [used], { expectedRevision: 0 });
      await store.appendToStream(`${category}-2`, [used], { expectedRevision: 'no_stream' });
      const all = await store.readAll({ filter: { streamNamePrefixes: [category] } });
      expect(all.map((e) => `${e.streamName.slice(-1)}@${e.revision}:${e.id}`)).toEqual([
        `1@0:${used.id}`,
        `1@1:${used.id}`,
        `2@0:${used.id}`,
      ]);
    });
  });

  describe('reconnection', () => {
    it('a subscription survives dropped connections, losing nothing and delivering nothing twice', async () => {
      const store = open();
      const reader = open();
      const category = newCategory();
      const seen: RecordedEvent[] = [];
      const seenUnfiltered: RecordedEvent[] = [];
      subscriptions.push(
        reader.subscribeToAll({ filter: { streamNamePrefixes: [`${category}-`] } }, async (e) => {
          seen.push(e);
          if (seen.length % 7 === 0) await sleep(2); // a handler that is sometimes slow
        }),
        reader.subscribeToAll({}, (e) => {
          if (e.streamName.startsWith(category)) seenUnfiltered.push(e);
        }),
      );
      // Appends during drops may fail (InfrastructureError); retrying the same
      // ids is safe: the server recognizes them.
      const appendSurely = async (streamName: string, batch: EventToAppend[]): Promise<void> => {
        for (let attempt = 1; ; attempt++) {
          try {
            await store.appendToStream(streamName, batch);
            return;
          } catch (error) {
            expect(error).toBeInstanceOf(InfrastructureError);
            if (attempt >= 50) throw error;
            await sleep(20);
          }
        }
      };
      let appended = 0;
      for (let round = 0; round < 5; round++) {
        for (let i = 0; i < 10; i++) {
          await appendSurely(`${category}-${i % 3}`, [event(), event()]);
          appended += 2;
          if (i === 4) emulator.dropConnections();
        }
        await waitFor(() => expect(seen).toHaveLength(appended), 10_000);
        emulator.dropConnections();
      }
      await waitFor(() => expect(seen).toHaveLength(appended), 10_000);
      await waitFor(() => expect(seenUnfiltered).toHaveLength(appended), 10_000);
      await sleep(50);
      const stored = await reader.readAll({ filter: { streamNamePrefixes: [`${category}-`] } });
      expect(stored).toHaveLength(appended);
      expect(seen).toEqual(stored);
      expect(seenUnfiltered).toEqual(stored);
    });

    it('reads and appends work again after the connections dropped', async () => {
      const store = open();
      const stream = `${newCategory()}-1`;
      await store.appendToStream(stream, [event()]);
      emulator.dropConnections();
      // The first call on the dropped connection fails; the adapter tries again on a new one.
      expect(await store.appendToStream(stream, [event()], { expectedRevision: 0 })).toMatchObject({
        nextExpectedRevision: 1,
      });
      emulator.dropConnections();
      expect((await store.readStream(stream)).map((e) => e.revision)).toEqual([0, 1]);
      emulator.dropConnections();
      expect(await store.readAll({ filter: { streamNamePrefixes: [stream] } })).toHaveLength(2);
      emulator.dropConnections();
      expect(await store.headPosition()).toBeGreaterThan(0);
    });
  });

  describe('when the server is gone', () => {
    it('appends and reads fail with InfrastructureError; subscriptions keep retrying until stopped', async () => {
      const gone = await startEventStoreDbEmulator();
      const store = open(gone.connectionString);
      const stream = `${newCategory()}-1`;
      await store.appendToStream(stream, [event()]);
      const seen: RecordedEvent[] = [];
      const subscription = store.subscribeToAll({ filter: { streamNamePrefixes: [stream] } }, (e) => {
        seen.push(e);
      });
      await waitFor(() => expect(seen).toHaveLength(1));
      await gone.stop();

      await expect(store.appendToStream(stream, [event()])).rejects.toBeInstanceOf(InfrastructureError);
      await expect(store.readStream(stream)).rejects.toBeInstanceOf(InfrastructureError);
      await expect(store.readAll()).rejects.toBeInstanceOf(InfrastructureError);
      await expect(store.headPosition()).rejects.toBeInstanceOf(InfrastructureError);
      let settled = false;
      subscription.done.then(
        () => (settled = true),
        () => (settled = true),
      );
      await sleep(300);
      expect(settled).toBe(false); // still trying to resubscribe
      await within(subscription.stop());
      await expect(within(subscription.done)).resolves.toBeUndefined();
    });

    it('fails with InfrastructureError when nothing listens at the address', async () => {
      const port = await new Promise<number>((resolve) => {
        const probe = createServer().listen(0, '127.0.0.1', () => {
          const address = probe.address();
          probe.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
        });
      });
      const store = open(`esdb://127.0.0.1:${port}?tls=false`);
      await expect(store.appendToStream('nowhere-1', [event()])).rejects.toBeInstanceOf(InfrastructureError);
      await expect(store.readStream('nowhere-1')).rejects.toBeInstanceOf(InfrastructureError);
    });

    it('rejects use after close with an InfrastructureError', async () => {
      const store = open();
      await store.close();
      await expect(store.appendToStream('scan-1', [event()])).rejects.toBeInstanceOf(InfrastructureError);
      await expect(store.readAll()).rejects.toBeInstanceOf(InfrastructureError);
      await expect(within(store.subscribeToAll({}, () => undefined).done)).rejects.toBeInstanceOf(InfrastructureError);
    });
  });
});
