import Database from 'better-sqlite3';
import {
  InfrastructureError,
  SecablyError,
  WrongExpectedRevisionError,
  type AppendResult,
  type EventFilter,
  type EventStore,
  type EventToAppend,
  type ExpectedRevision,
  type ReadAllOptions,
  type ReadStreamOptions,
  type RecordedEvent,
  type SubscribeToAllOptions,
  type Subscription,
  appendSize,
  MAX_APPEND_BYTES,
  EventTooLargeError,
} from './ports.js';

/**
 * An event id is already used by an event of another stream (ids are unique in
 * this store, EventStoreDB only deduplicates them per stream). It is a
 * WrongExpectedRevisionError, so the core treats it as a conflict.
 */
export class DuplicateEventIdError extends WrongExpectedRevisionError {
  constructor(
    streamName: string,
    expected: ExpectedRevision,
    actual: number | 'no_stream',
    readonly eventId: string,
    readonly existingStreamName: string,
  ) {
    super(streamName, expected, actual);
    this.message = `stream ${streamName}: event id ${eventId} is already used in stream ${existingStreamName}`;
  }
}

export interface SqliteEventStoreOptions {
  /** A file path, or ':memory:' (private to this instance). */
  readonly path: string;
  /**
   * How often live subscriptions look for events appended by other processes on
   * the same file. Appends through this instance wake them at once.
   */
  readonly pollIntervalMs?: number;
}

interface EventRow {
  readonly position: number;
  readonly stream_name: string;
  readonly revision: number;
  readonly event_id: string;
  readonly type: string;
  readonly data: string;
  readonly metadata: string;
  readonly recorded_at: string;
}

interface StreamHeadRow {
  readonly revision: number;
  readonly position: number;
}

interface EventLocationRow {
  readonly stream_name: string;
  readonly revision: number;
  readonly position: number;
}

type InsertParams = [string, number, string, string, string, string, string];

interface AppendOutcome {
  readonly result: AppendResult;
  /** False for an empty or idempotent append. */
  readonly wrote: boolean;
}

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS events (
    position    INTEGER PRIMARY KEY AUTOINCREMENT,
    stream_name TEXT    NOT NULL,
    revision    INTEGER NOT NULL,
    event_id    TEXT    NOT NULL UNIQUE,
    type        TEXT    NOT NULL,
    data        TEXT    NOT NULL,
    metadata    TEXT    NOT NULL,
    recorded_at TEXT    NOT NULL,
    UNIQUE (stream_name, revision)
  ) STRICT;
`;
const COLUMNS = 'position, stream_name, revision, event_id, type, data, metadata, recorded_at';
/** Events read per query by catch-up subscriptions. */
const PAGE_SIZE = 500;
/** SQLite's "no limit". */
const NO_LIMIT = -1;

/**
 * The event store on one SQLite file, with EventStoreDB's semantics.
 *
 * Global position = the AUTOINCREMENT rowid. SQLite serializes writers and
 * AUTOINCREMENT never reuses or goes back, so once position P is visible no event
 * below P can appear later: a reader may move its checkpoint to the highest
 * position it has seen without missing a slower writer (unlike a sequence in a
 * multi-writer database).
 */
export function sqliteEventStore(options: SqliteEventStoreOptions): EventStore {
  const pollIntervalMs = options.pollIntervalMs ?? 250;
  const db = new Database(options.path, { timeout: 5000 });
  // WAL + synchronous=NORMAL: a commit is in the WAL file (the OS's page cache)
  // before append returns, so no acknowledged event is lost if the process
  // crashes; only an OS crash or power loss can drop the last commits. FULL would
  // fsync every commit against that too, at ~6x the latency (~150 µs instead of
  // ~25 µs per append here). WAL also lets readers run beside the writer.
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec(SCHEMA);

  const selectStreamHead = db.prepare<[string], StreamHeadRow>(
    'SELECT revision, position FROM events WHERE stream_name = ? ORDER BY revision DESC LIMIT 1',
  );
  const selectEventLocation = db.prepare<[string], EventLocationRow>(
    'SELECT stream_name, revision, position FROM events WHERE event_id = ?',
  );
  const selectStreamIds = db.prepare<[string, number, number], { event_id: string } & StreamHeadRow>(
    'SELECT event_id, revision, position FROM events WHERE stream_name = ? AND revision >= ? ORDER BY revision LIMIT ?',
  );
  const insertEvent = db.prepare<InsertParams>(
    'INSERT INTO events (stream_name, revision, event_id, type, data, metadata, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
  );
  const selectForwards = db.prepare<[string, number, number], EventRow>(
    `SELECT ${COLUMNS} FROM events WHERE stream_name = ? AND revision >= ? ORDER BY revision LIMIT ?`,
  );
  const selectBackwards = db.prepare<[string, number, number], EventRow>(
    `SELECT ${COLUMNS} FROM events WHERE stream_name = ? AND revision <= ? ORDER BY revision DESC LIMIT ?`,
  );
  const selectLastPosition = db.prepare<[], { head: number | null }>('SELECT max(position) AS head FROM events');
  /** readAll statements by filter shape ("<stream prefixes>:<type prefixes>"). */
  const selectAllByShape = new Map<string, Database.Statement<[Record<string, string | number>], EventRow>>();

  /** Wakes the live subscriptions of this instance after each write. */
  const appendListeners = new Set<() => void>();
  const subscriptions = new Set<Subscription>();
  /**
   * The subscription whose handler is in its synchronous part right now (see stop()).
   * Not AsyncLocalStorage: on Node 20 that turns on promise hooks for the whole
   * process, which costs every request of the API about a tenth of its time.
   */
  let inHandler: Subscription | undefined;
  function callHandler<T>(subscription: Subscription, call: () => T): T {
    inHandler = subscription;
    try {
      return call();
    } finally {
      inHandler = undefined;
    }
  }
  let closed = false;
  let closing: Promise<void> | undefined;

  /**
   * Run as an IMMEDIATE transaction: it takes the write lock before reading the
   * stream head, so writers in other processes cannot interleave.
   */
  const appendInTransaction = db.transaction(
    (streamName: string, events: readonly EventToAppend[], expected: ExpectedRevision): AppendOutcome => {
      const head = selectStreamHead.get(streamName);
      const actual = head?.revision ?? 'no_stream';
      const first = events[0];
      if (first === undefined) {
        checkExpectedRevision(streamName, expected, actual);
        const result = {
          nextExpectedRevision: head?.revision ?? -1,
          position: head?.position ?? -1,
        };
        return { result, wrote: false };
      }
      // Idempotency comes before the revision check: a retried append whose
      // events are already there succeeds, whatever it expected.
      const existing = selectEventLocation.get(first.id);
      if (existing !== undefined) {
        if (existing.stream_name !== streamName) {
          throw new DuplicateEventIdError(streamName, expected, actual, first.id, existing.stream_name);
        }
        const stored = selectStreamIds.all(streamName, existing.revision, events.length);
        const last = stored.at(-1);
        if (
          last === undefined ||
          stored.length !== events.length ||
          stored.some((row, i) => row.event_id !== events[i]?.id)
        ) {
          throw new WrongExpectedRevisionError(streamName, expected, actual); // a partial match
        }
        return {
          result: { nextExpectedRevision: last.revision, position: last.position },
          wrote: false,
        };
      }
      checkExpectedRevision(streamName, expected, actual);
      const recordedAt = new Date().toISOString();
      let revision = head?.revision ?? -1;
      let position = -1;
      for (const event of events) {
        revision += 1;
        try {
          const params: InsertParams = [
            streamName,
            revision,
            event.id,
            event.type,
            JSON.stringify(event.data),
            JSON.stringify(event.metadata ?? {}),
            recordedAt,
          ];
          position = Number(insertEvent.run(...params).lastInsertRowid);
        } catch (error) {
          // Only event_id can collide here: we hold the write lock on the stream head.
          if (error instanceof Database.SqliteError && error.code === 'SQLITE_CONSTRAINT_UNIQUE') {
            const other = selectEventLocation.get(event.id)?.stream_name ?? streamName;
            throw new DuplicateEventIdError(streamName, expected, actual, event.id, other);
          }
          throw error;
        }
      }
      return { result: { nextExpectedRevision: revision, position }, wrote: true };
    },
  );

  function guarded<T>(operation: () => T): T {
    if (closed) throw new InfrastructureError('sqlite event store: closed');
    try {
      return operation();
    } catch (error) {
      if (error instanceof SecablyError) throw error;
      throw new InfrastructureError(`sqlite event store: ${errorMessage(error)}`, { cause: error });
    }
  }

  function selectAll(after: number, until: number, limit: number, filter: EventFilter | undefined): RecordedEvent[] {
    const streamPrefixes = filter?.streamNamePrefixes ?? [];
    const typePrefixes = filter?.eventTypePrefixes ?? [];
    const shape = `${streamPrefixes.length}:${typePrefixes.length}`;
    let statement = selectAllByShape.get(shape);
    if (statement === undefined) {
      // substr(), not LIKE: LIKE is case-insensitive and treats _ and % as wildcards.
      const conditions = [
        ...streamPrefixes.map((_, i) => `substr(stream_name, 1, length(@s${i})) = @s${i}`),
        ...typePrefixes.map((_, i) => `substr(type, 1, length(@t${i})) = @t${i}`),
      ];
      // No prefix at all (no filter, or empty lists) lets every event through.
      const where = conditions.length === 0 ? '' : ` AND (${conditions.join(' OR ')})`;
      statement = db.prepare<[Record<string, string | number>], EventRow>(
        `SELECT ${COLUMNS} FROM events WHERE position > @after AND position <= @until${where} ORDER BY position LIMIT @limit`,
      );
      selectAllByShape.set(shape, statement);
    }
    const params: Record<string, string | number> = { after, until, limit };
    streamPrefixes.forEach((prefix, i) => (params[`s${i}`] = prefix));
    typePrefixes.forEach((prefix, i) => (params[`t${i}`] = prefix));
    return statement.all(params).map(toRecordedEvent);
  }

  function subscribeToAll(
    options: SubscribeToAllOptions,
    handler: (event: RecordedEvent) => Promise<void> | void,
  ): Subscription {
    let after = options.after ?? -1;
    let stopping = false;
    /** Set by every append through this instance; cleared before each look at the log. */
    let appended = true;
    let wake: (() => void) | undefined;
    const onAppend = (): void => {
      appended = true;
      wake?.();
    };
    const waitForAppendOrPoll = (): Promise<void> =>
      new Promise((resolve) => {
        const finish = (): void => {
          clearTimeout(timer);
          wake = undefined;
          resolve();
        };
        const timer = setTimeout(finish, pollIntervalMs);
        wake = finish;
      });

    const run = async (): Promise<void> => {
      if (closed) throw new InfrastructureError('sqlite event store: closed');
      appendListeners.add(onAppend);
      try {
        while (!stopping) {
          appended = false;
          // Deliver (after, head] page by page, then let `after` jump to head even
          // when the filter skipped the last events (safe: see the note on positions).
          const head = guarded(() => selectLastPosition.get()?.head) ?? -1;
          while (!stopping && head > after) {
            const page = guarded(() => selectAll(after, head, PAGE_SIZE, options.filter));
            for (const event of page) {
              if (stopping) return;
              await callHandler(subscription, () => handler(event));
              after = event.position;
            }
            if (page.length < PAGE_SIZE) after = head;
          }
          if (!appended && !stopping) await waitForAppendOrPoll();
        }
      } finally {
        appendListeners.delete(onAppend);
        subscriptions.delete(subscription);
      }
    };

    const stop = async (): Promise<void> => {
      stopping = true;
      wake?.();
      // Called from inside this subscription's handler (before its first await):
      // waiting for that handler would deadlock; the loop sees `stopping` as soon as
      // it returns. (Awaiting stop() after an await inside the handler would deadlock.)
      if (inHandler === subscription) return;
      await done.catch(() => undefined);
    };
    // Starts on the next microtask, once `subscription` exists. `done` is left
    // unobserved on purpose: a subscription dying unnoticed must not be silent.
    const done = Promise.resolve().then(run);
    const subscription: Subscription = { stop, done };
    subscriptions.add(subscription);
    return subscription;
  }

  return {
    async appendToStream(streamName, events, options): Promise<AppendResult> {
      const expected = options?.expectedRevision ?? 'any';
      // EventStoreDB's limit, so the embedded mode refuses what the distributed one would.
      const bytes = appendSize(events);
      if (bytes > MAX_APPEND_BYTES) throw new EventTooLargeError(streamName, bytes);
      const { result, wrote } = guarded(() => appendInTransaction.immediate(streamName, events, expected));
      if (wrote) for (const listener of appendListeners) listener();
      return result;
    },

    async readStream(streamName: string, options: ReadStreamOptions = {}): Promise<RecordedEvent[]> {
      const limit = options.maxCount ?? NO_LIMIT;
      const rows = guarded(() =>
        options.direction === 'backwards'
          ? selectBackwards.all(streamName, options.fromRevision ?? Number.MAX_SAFE_INTEGER, limit)
          : selectForwards.all(streamName, options.fromRevision ?? 0, limit),
      );
      return rows.map(toRecordedEvent);
    },

    async readAll(options: ReadAllOptions = {}): Promise<RecordedEvent[]> {
      return guarded(() =>
        selectAll(options.after ?? -1, Number.MAX_SAFE_INTEGER, options.maxCount ?? NO_LIMIT, options.filter),
      );
    },

    async headPosition(): Promise<number> {
      return guarded(() => selectLastPosition.get()?.head ?? -1);
    },

    subscribeToAll,

    close(): Promise<void> {
      closing ??= (async () => {
        await Promise.all([...subscriptions].map((subscription) => subscription.stop()));
        closed = true;
        appendListeners.clear();
        db.close();
      })();
      return closing;
    },
  };
}

function checkExpectedRevision(streamName: string, expected: ExpectedRevision, actual: number | 'no_stream'): void {
  const ok =
    expected === 'any' ||
    (expected === 'no_stream' && actual === 'no_stream') ||
    (expected === 'stream_exists' && actual !== 'no_stream') ||
    expected === actual;
  if (!ok) throw new WrongExpectedRevisionError(streamName, expected, actual);
}

function toRecordedEvent(row: EventRow): RecordedEvent {
  return {
    id: row.event_id,
    type: row.type,
    streamName: row.stream_name,
    revision: row.revision,
    position: row.position,
    data: JSON.parse(row.data) as Record<string, unknown>,
    metadata: JSON.parse(row.metadata) as Record<string, unknown>,
    recordedAt: row.recorded_at,
  };
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
