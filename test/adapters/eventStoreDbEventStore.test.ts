import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { EventStoreDBClient, jsonEvent, MaxAppendSizeExceededError } from '@eventstore/db-client';
import { pino, type Logger } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { eventStoreDbEventStore } from '../../adapters/eventStoreDbEventStore.js';
import { loadConfig } from '../../config.js';
import { connect } from '../../processes/distributed.js';
import {
  EventTooLargeError,
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

/** The server's strictness and faults, through the adapter, on both kinds of node. */
describe.each([
  { node: '21.10+ (BatchAppend)', batchAppend: true },
  { node: '20.x (Append)', batchAppend: false },
])('eventStoreDbEventStore on a strict node with faults, $node', ({ batchAppend }) => {
  let emulator: EventStoreDbEmulator;
  const stores: EventStore[] = [];
  const subscriptions: Subscription[] = [];
  const logged: { level: 'warn' | 'error'; msg: string }[] = [];
  const logger = {
    warn: (_obj: object, msg?: string) => void logged.push({ level: 'warn', msg: msg ?? '' }),
    error: (_obj: object, msg?: string) => void logged.push({ level: 'error', msg: msg ?? '' }),
  };
  const open = (extra: Partial<Parameters<typeof eventStoreDbEventStore>[0]> = {}, on = emulator): EventStore => {
    const store = eventStoreDbEventStore({
      connectionString: on.connectionString,
      logger,
      appendTimeoutMs: 400,
      ...extra,
    });
    stores.push(store);
    return store;
  };
  const stream = (): string => `f${randomUUID().replaceAll('-', '')}-1`;
  const event = (type = 'ThingHappened', data: Record<string, unknown> = {}): EventToAppend => ({
    id: randomUUID(),
    type,
    data,
  });
  const retries = () => logged.filter((l) => l.msg.includes('append outcome unknown')).length;

  beforeAll(async () => {
    emulator = await startEventStoreDbEmulator({ batchAppend, idCacheSize: 3 });
  });
  afterEach(async () => {
    emulator.faults.clear();
    await within(Promise.all(subscriptions.splice(0).map((subscription) => subscription.stop())));
    await within(Promise.all(stores.splice(0).map((store) => store.close())));
    logged.splice(0);
  });
  afterAll(() => emulator.stop());

  describe('strictness', () => {
    it('counts 2 bytes per character of the event type in the 1 MiB append size', async () => {
      const store = open({ appendTimeoutMs: 15_000 }); // a 1 MiB append may take a while on a busy machine
      const type = 'T'.repeat(2_000);
      // data + metadata + type in UTF-8 bytes fits; with the type as .NET counts it (2 bytes a character), not.
      const payload = 1024 * 1024 - 3_000 - '{"x":""}'.length;
      const big = { id: randomUUID(), type, data: { x: 'a'.repeat(payload) } };
      // The adapter refuses it before sending (the same count), as a permanent EventTooLargeError …
      const refused = await store.appendToStream(stream(), [big]).catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(EventTooLargeError);
      // … and the emulator itself refuses it, as the server would, when a client sends it anyway.
      const client = EventStoreDBClient.connectionString(emulator.connectionString);
      const raw = await client
        .appendToStream(stream(), [jsonEvent({ id: big.id, type, data: big.data })])
        .catch((error: unknown) => error);
      await client.dispose();
      expect(raw).toBeInstanceOf(MaxAppendSizeExceededError);
      const fits = { id: randomUUID(), type, data: { x: 'a'.repeat(payload - 2_000) } };
      await expect(store.appendToStream(stream(), [fits])).resolves.toMatchObject({ nextExpectedRevision: 0 });
    });

    it('remembers a bounded number of event ids, and forgets them all on a restart', async () => {
      const store = open();
      const s = stream();
      const first = event();
      await store.appendToStream(s, [first]);
      await store.appendToStream(s, [first]); // remembered: the retry is recognized
      expect(await store.readStream(s)).toHaveLength(1);
      for (let i = 0; i < 3; i++) await store.appendToStream(stream(), [event()]); // the cache holds 3 ids
      await store.appendToStream(s, [first]); // forgotten: written again, as a real node would
      expect(await store.readStream(s)).toHaveLength(2);

      const second = event();
      await store.appendToStream(s, [second]);
      emulator.restart();
      expect(await store.readStream(s)).toHaveLength(3); // reconnected
      await store.appendToStream(s, [second]); // a restarted node remembers no id
      expect((await store.readStream(s)).map((e) => e.id)).toEqual([first.id, first.id, second.id, second.id]);
    });

    it('reads give every event its position as both commit and prepare position', async () => {
      const s = stream();
      await open().appendToStream(s, [event(), event(), event()]);
      const client = EventStoreDBClient.connectionString(emulator.connectionString);
      try {
        const positions: { commit: bigint; prepare: bigint }[] = [];
        for await (const resolved of client.readStream(s)) positions.push(resolved.event!.position!);
        expect(positions).toHaveLength(3);
        for (const position of positions) expect(position.prepare).toBe(position.commit);
      } finally {
        await client.dispose();
      }
    });
  });

  describe('appends whose outcome is unknown are retried with the same ids and expected revision', () => {
    it('DEADLINE_EXCEEDED after the write: the retry is recognized, one copy', async () => {
      const store = open();
      const s = stream();
      emulator.faults.deadlineExceeded(1, { written: true });
      const result = await store.appendToStream(s, [event(), event()], { expectedRevision: 'no_stream' });
      const stored = await store.readStream(s);
      expect(stored).toHaveLength(2);
      expect(result).toEqual({ nextExpectedRevision: 1, position: stored[1]!.position });
      expect(retries()).toBe(1);
    });

    it('DEADLINE_EXCEEDED before the write: the retry writes it, once', async () => {
      const store = open();
      const s = stream();
      await store.appendToStream(s, [event()]);
      emulator.faults.deadlineExceeded(2);
      await store.appendToStream(s, [event()], { expectedRevision: 0 });
      expect(await store.readStream(s)).toHaveLength(2);
      expect(retries()).toBe(2);
    });

    it('a write the server dropped silently: no answer, retried after the append timeout, written once', async () => {
      const store = open();
      const s = stream();
      emulator.faults.dropWrites(1);
      await store.appendToStream(s, [event()], { expectedRevision: 'no_stream' });
      expect(await store.readStream(s)).toHaveLength(1);
      expect(retries()).toBe(1);
    });

    it("'any' whose answer was lost, on a node that forgot the id: found at the stream's end, not written twice", async () => {
      const forgetful = await startEventStoreDbEmulator({ batchAppend, idCacheSize: 0 });
      try {
        const store = open({}, forgetful);
        const s = stream();
        await store.appendToStream(s, [event()]);
        const lost = [event(), event()];
        forgetful.faults.deadlineExceeded(1, { written: true });
        const result = await store.appendToStream(s, lost);
        const stored = await store.readStream(s);
        expect(stored.map((e) => e.id).slice(1)).toEqual(lost.map((e) => e.id));
        expect(result).toEqual({ nextExpectedRevision: 2, position: stored[2]!.position });
      } finally {
        await forgetful.stop();
      }
    });

    it('UNAVAILABLE: appends and reads are tried again', async () => {
      const store = open();
      const s = stream();
      emulator.faults.unavailable(1);
      await store.appendToStream(s, [event()], { expectedRevision: 'no_stream' });
      emulator.faults.unavailable(1);
      expect(await store.readStream(s)).toHaveLength(1);
      emulator.faults.unavailable(1);
      expect(await store.readAll({ filter: { streamNamePrefixes: [s] } })).toHaveLength(1);
    });

    it('gives up with an InfrastructureError when the outcome stays unknown', async () => {
      const store = open();
      emulator.faults.deadlineExceeded(10);
      await expect(store.appendToStream(stream(), [event()])).rejects.toBeInstanceOf(InfrastructureError);
      expect(retries()).toBe(3);
    });
  });

  describe('subscriptions', () => {
    it('resubscribe after UNAVAILABLE and dropped connections, logging every resubscription, losing nothing', async () => {
      const store = open();
      const s = stream();
      const seen: RecordedEvent[] = [];
      emulator.faults.unavailable(3);
      subscriptions.push(store.subscribeToAll({ filter: { streamNamePrefixes: [s] } }, (e) => void seen.push(e)));
      const resubscriptions = () => logged.filter((l) => l.msg.includes('resubscribing')).length;
      await waitFor(() => resubscriptions() >= 3, 10_000);
      await store.appendToStream(s, [event(), event()]);
      await waitFor(() => expect(seen).toHaveLength(2), 10_000);
      emulator.dropConnections();
      await store.appendToStream(s, [event()]);
      await waitFor(() => expect(seen).toHaveLength(3), 10_000);
      expect(resubscriptions()).toBeGreaterThanOrEqual(4);
      expect(seen).toEqual(await store.readStream(s));
    });

    it('one that dies for good is logged and reported once (onSubscriptionDied), not left idle', async () => {
      const died: unknown[] = [];
      const store = open({ onSubscriptionDied: (error) => died.push(error) });
      const s = stream();
      await store.appendToStream(s, [event()]);
      const boom = new Error('handler failed');
      const subscription = store.subscribeToAll({ filter: { streamNamePrefixes: [s] } }, () => {
        throw boom;
      });
      await expect(within(subscription.done)).rejects.toBe(boom);
      expect(died).toEqual([boom]);
      expect(logged.filter((l) => l.level === 'error' && l.msg.includes('died for good'))).toHaveLength(1);
      // Stopped on purpose: not a death.
      const stopped = store.subscribeToAll({}, () => undefined);
      await stopped.stop();
      expect(died).toHaveLength(1);
    });
  });
});

describe('a distributed process whose subscription dies', () => {
  it('stops with exit code 1 and a clear message instead of sitting idle', async () => {
    const emulator = await startEventStoreDbEmulator();
    const exits: number[] = [];
    const fatal: string[] = [];
    const logger = { ...pino({ level: 'silent' }), fatal: (_obj: object, msg?: string) => void fatal.push(msg ?? '') };
    const config = loadConfig({ SECABLY_MODE: 'distributed', EVENTSTORE_URL: emulator.connectionString });
    const store = connect.store(
      config,
      logger as unknown as Logger,
      ((code: number) => {
        exits.push(code);
      }) as (code: number) => never,
    );
    try {
      await store.appendToStream('crash-1', [{ id: randomUUID(), type: 'Boom', data: {} }]);
      const subscription = store.subscribeToAll({}, () => {
        throw new Error('a projection bug');
      });
      await subscription.done.catch(() => undefined);
      expect(exits).toEqual([1]);
      expect(fatal).toEqual([expect.stringMatching(/died for good; stopping this process/)]);
    } finally {
      await store.close();
      await emulator.stop();
    }
  });
});
