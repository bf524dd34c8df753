import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  InfrastructureError,
  WrongExpectedRevisionError,
  type EventStore,
  type EventToAppend,
  type RecordedEvent,
} from '../../adapters/ports.js';
import { DuplicateEventIdError, sqliteEventStore } from '../../adapters/sqliteEventStore.js';
import { waitFor, within } from '../support/waitFor.js';
import { eventStoreContract } from './eventStore.contract.js';

eventStoreContract('sqliteEventStore (file)', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'secably-events-'));
  return {
    store: sqliteEventStore({ path: join(dir, 'events.db') }),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
});

// A private in-memory database has no other writer to poll for: with polling
// pushed out of reach, live delivery rests on the in-process notifier alone, so
// a lost wake-up shows up as a timeout instead of a 250 ms delay.
eventStoreContract('sqliteEventStore (:memory:, no polling)', async () => ({
  store: sqliteEventStore({ path: ':memory:', pollIntervalMs: 3_600_000 }),
}));

describe('sqliteEventStore', () => {
  let dir: string;
  let path: string;
  const opened: EventStore[] = [];
  const open = (pollIntervalMs?: number): EventStore => {
    const store = sqliteEventStore({ path, pollIntervalMs });
    opened.push(store);
    return store;
  };
  const event = (type = 'ThingHappened'): EventToAppend => ({
    id: randomUUID(),
    type,
    data: { at: Date.now() },
  });

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'secably-events-'));
    path = join(dir, 'events.db');
  });

  afterEach(async () => {
    await Promise.all(opened.splice(0).map((store) => store.close()));
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps events, revisions and positions across close and reopen', async () => {
    const first = open();
    await first.appendToStream('scan-1', [event(), event()]);
    const before = await first.readAll();
    await first.close();

    const reopened = open();
    expect(await reopened.readAll()).toEqual(before);
    await expect(reopened.appendToStream('scan-1', [event()], { expectedRevision: 0 })).rejects.toBeInstanceOf(
      WrongExpectedRevisionError,
    );
    const result = await reopened.appendToStream('scan-1', [event()], { expectedRevision: 1 });
    expect(result.nextExpectedRevision).toBe(2);
    expect(result.position).toBeGreaterThan(before[1]!.position);
  });

  it('writes the file in WAL mode', async () => {
    const store = open();
    await store.appendToStream('scan-1', [event()]);
    const db = new Database(path, { readonly: true });
    try {
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    } finally {
      db.close();
    }
  });

  it('a subscription sees appends made by another instance (another process) on the same file', async () => {
    const reader = open(20);
    const writer = open();
    await writer.appendToStream('scan-1', [event()]);
    const seen: RecordedEvent[] = [];
    const subscription = reader.subscribeToAll({}, (e) => {
      seen.push(e);
    });
    await waitFor(() => expect(seen).toHaveLength(1));
    await writer.appendToStream('scan-2', [event(), event()]);
    await reader.appendToStream('scan-1', [event()]);
    await waitFor(() => expect(seen).toHaveLength(4));
    expect(seen).toEqual(await reader.readAll());
    await subscription.stop();
  });

  it('expected revisions hold across instances on the same file', async () => {
    const [one, two] = [open(), open()];
    await one.appendToStream('account-1', [event()], { expectedRevision: 'no_stream' });
    await expect(two.appendToStream('account-1', [event()], { expectedRevision: 'no_stream' })).rejects.toMatchObject({
      actual: 0,
    });
    await two.appendToStream('account-1', [event()], { expectedRevision: 0 });
    await expect(one.appendToStream('account-1', [event()], { expectedRevision: 0 })).rejects.toMatchObject({
      actual: 1,
    });
  });

  it('rejects an event id already used in another stream, writing nothing', async () => {
    const store = open();
    const used = event();
    await store.appendToStream('scan-1', [used]);
    for (const batch of [[used], [event(), used]]) {
      const error = await store.appendToStream('scan-2', batch).catch((reason: unknown) => reason);
      expect(error).toBeInstanceOf(DuplicateEventIdError);
      expect(error).toBeInstanceOf(WrongExpectedRevisionError);
      expect(error).toMatchObject({
        streamName: 'scan-2',
        eventId: used.id,
        existingStreamName: 'scan-1',
        actual: 'no_stream',
      });
    }
    const twice = event();
    await expect(store.appendToStream('scan-3', [twice, twice])).rejects.toMatchObject({
      eventId: twice.id,
    });
    expect((await store.readAll()).map((e) => e.streamName)).toEqual(['scan-1']);
  });

  it('stop() awaited from inside the handler does not deadlock', async () => {
    const store = open();
    await store.appendToStream('scan-1', [event(), event(), event()]);
    const seen: number[] = [];
    const subscription = store.subscribeToAll({}, async (e) => {
      seen.push(e.revision);
      if (seen.length === 2) await subscription.stop();
    });
    await expect(within(subscription.done)).resolves.toBeUndefined();
    expect(seen).toEqual([0, 1]);
  });

  it('rejects use after close with an InfrastructureError', async () => {
    const store = open();
    await store.close();
    await expect(store.appendToStream('scan-1', [event()])).rejects.toBeInstanceOf(InfrastructureError);
    await expect(store.readAll()).rejects.toBeInstanceOf(InfrastructureError);
    await expect(within(store.subscribeToAll({}, () => undefined).done)).rejects.toBeInstanceOf(InfrastructureError);
  });
});
