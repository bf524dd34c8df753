import {
  ANY,
  BACKWARDS,
  DeadlineExceededError,
  END,
  EventStoreDBClient,
  MaxAppendSizeExceededError,
  FORWARDS,
  NO_STREAM,
  NotLeaderError,
  START,
  STREAM_EXISTS,
  StreamNotFoundError,
  WrongExpectedVersionError,
  eventTypeFilter,
  excludeSystemEvents,
  jsonEvent,
  streamNameFilter,
  type AllStreamResolvedEvent,
  type AppendExpectedRevision,
  type Filter,
  type Position,
  type ReadRevision,
  type ResolvedEvent,
} from '@eventstore/db-client';
import {
  InfrastructureError,
  SecablyError,
  WrongExpectedRevisionError,
  type AppendResult,
  type EventFilter,
  type EventStore,
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

/** What the adapter logs (a pino logger fits). */
export interface EventStoreLogger {
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface EventStoreDbEventStoreOptions {
  /** e.g. `esdb://eventstore:2113?tls=false` (any EventStoreDB / KurrentDB connection string). */
  readonly connectionString: string;
  /** Where retries and resubscriptions are logged (default: nowhere). */
  readonly logger?: EventStoreLogger;
  /**
   * Called once when a subscription dies for good (not stopped: its handler threw,
   * or the server refused it for a reason no retry cures). A process whose
   * subscription died would otherwise sit idle: processes stop here (see
   * processes/distributed.ts) so that they are restarted.
   */
  readonly onSubscriptionDied?: (error: unknown) => void;
  /** An append attempt without an answer after this long is given up and retried (default 15 s). */
  readonly appendTimeoutMs?: number;
}

/** gRPC status codes (see @grpc/grpc-js `status`) that no retry will cure. */
const PERMANENT_STATUS_CODES = new Set([
  3, // INVALID_ARGUMENT
  7, // PERMISSION_DENIED
  9, // FAILED_PRECONDITION
  12, // UNIMPLEMENTED
  16, // UNAUTHENTICATED
]);
const INVALID_ARGUMENT = 3;
/** A call that failed with these (a dropped connection shows as either) was cut off, not refused. */
const CONNECTION_LOST = new Set([
  1, // CANCELLED (by the server or a proxy; our own cancellations are never retried)
  14, // UNAVAILABLE
]);
/**
 * Reads and appends cut off by a lost connection are tried again after these
 * delays: the client drops its connection on such an error and opens a new one
 * for the next call, so the first call after a dropped connection fails.
 * Retrying an append is safe: the same event ids at the same expected revision
 * are recognized by the server.
 */
const RECONNECT_RETRY_DELAYS_MS = [50, 250];
/**
 * An append whose outcome is unknown — the connection was lost, the server
 * answered DEADLINE_EXCEEDED (it may have written it), or no answer came — is
 * tried again after these delays, with the same event ids and the same expected
 * revision: if the first attempt was written, the server recognizes the retry and
 * answers with the original result (for an exact expected revision; for 'any' and
 * 'stream_exists' the adapter first looks for the ids at the stream's end, since
 * the server's id cache may have forgotten them).
 */
const APPEND_RETRY_DELAYS_MS = [50, 250, 1_000];
/** How far back the stream's end is searched for the ids of an 'any' / 'stream_exists' append being retried. */
const RETRY_LOOKBACK_EVENTS = 500;
/** A dropped subscription resubscribes after this delay, doubled on each failure in a row, up to the maximum. */
const RESUBSCRIBE_INITIAL_DELAY_MS = 100;
const RESUBSCRIBE_MAX_DELAY_MS = 5_000;
/**
 * Appends give up after this long. The client sends a 10 s deadline to the
 * server, but a BatchAppend stream that died unnoticed would never answer.
 */
const DEFAULT_APPEND_TIMEOUT_MS = 15_000;
/** "No limit" for the client's reads. */
const UNBOUNDED = Number.MAX_SAFE_INTEGER;

/**
 * The event store on EventStoreDB (or KurrentDB), through `@eventstore/db-client`.
 *
 * Mapping to the port:
 * - Revisions are the client's bigint stream revisions as numbers; expected
 *   revisions 'any' | 'no_stream' | 'stream_exists' | n map to ANY | NO_STREAM |
 *   STREAM_EXISTS | BigInt(n) (-1, the revision of an empty stream, is sent as
 *   NO_STREAM, EventStoreDB's own -1). A WrongExpectedVersionError becomes our
 *   WrongExpectedRevisionError with the expected revision as given and the
 *   stream's actual revision (or 'no_stream').
 * - `position` is the event's commit position in the transaction log, as a JS
 *   number: exact up to 2^53 bytes of log (8 PiB); a larger one is refused with
 *   an InfrastructureError rather than rounded. Every event has its own commit
 *   position (20.x+ writes each event as an implicitly committed record), so
 *   positions are strictly increasing and not contiguous. Going back to the
 *   server, a position P becomes `{ commit: P, prepare: P }`, the exact position
 *   of the event at P in $all.
 * - `after` (readAll, subscribeToAll) is meant to be a position this store gave
 *   out (a checkpoint) or -1. Any other number works too, but more slowly: the
 *   server refuses to read from a position that is not a record boundary, and
 *   the adapter then reads from the start, skipping what is at or before `after`.
 * - System events (a stream or an event type starting with `$`) are never
 *   returned by readAll, headPosition or subscribeToAll; readStream reads any
 *   stream asked for.
 * - Filters: subscribeToAll filters on the server when one list of prefixes is
 *   given (a stream-name or an event-type filter), and otherwise (no filter, or
 *   both lists: the server filters on one field only) asks the server to drop
 *   system event types and filters the rest itself. readAll always filters here:
 *   the client's readAll (6.x) has no filter option, so it reads $all after
 *   `after` and keeps what matches, stopping at maxCount (cost: every event after
 *   `after`; fine for audits, rebuild checks and tests; live consumers use
 *   subscribeToAll).
 * - Idempotency is the server's: appending the same event ids again is a no-op
 *   returning the original result when they sit right after the expected
 *   revision (a retry with the same expected revision), or, with 'any' /
 *   'stream_exists', when the server still remembers the ids. An expected
 *   revision equal to the stream's current one appends them again (duplicates);
 *   a higher one is a conflict. Event ids are only unique per stream.
 * - Data and metadata are JSON. Events written by other tools whose data (or
 *   metadata) is not a JSON object come through as `{ $data: <value> }` (binary:
 *   base64) rather than failing a subscription.
 * - Errors: a read cut off by a lost connection (UNAVAILABLE, or CANCELLED by the
 *   other side) is tried twice more, 50 and 250 ms later (the client opens a new
 *   connection for the call after one failed). An append whose outcome is unknown
 *   — connection lost, DEADLINE_EXCEEDED (the server may have written it before
 *   its deadline passed), or no answer within `appendTimeoutMs` — is tried three
 *   more times (50 ms, 250 ms, 1 s later) with the same event ids and the same
 *   expected revision, each retry logged: the server recognizes a write that did
 *   happen (see idempotency); for 'any' / 'stream_exists' the adapter first looks
 *   for the ids at the stream's end, because a restarted server has forgotten them.
 *   Failures then become InfrastructureError; a stream that does not exist reads as [].
 *
 * subscribeToAll runs a catch-up subscription (`subscribeToAll({ fromPosition,
 * filter })`), hands events strictly after `after` to the handler one at a
 * time, and when the connection drops (or the server ends the subscription)
 * resubscribes from the last event it handled, after 100 ms doubling up to 5 s
 * while failures repeat (each resubscription is logged): nothing is lost or
 * handed over twice. It only gives up (done rejects) on a handler error or on an
 * error no retry can cure (access denied, invalid argument, a position past 2^53);
 * then it logs the error and calls `onSubscriptionDied`, so that the process does
 * not sit idle with a dead subscription.
 */
export function eventStoreDbEventStore(options: EventStoreDbEventStoreOptions): EventStore {
  const client = EventStoreDBClient.connectionString(options.connectionString);
  const logger = options.logger;
  const onSubscriptionDied = options.onSubscriptionDied;
  const appendTimeoutMs = options.appendTimeoutMs ?? DEFAULT_APPEND_TIMEOUT_MS;
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

  function ensureOpen(): void {
    if (closed) throw new InfrastructureError('eventstoredb event store: closed');
  }

  /** Whether `ids` are the last events of the stream's end (a write that happened), and its result if so. */
  async function alreadyAppended(streamName: string, ids: readonly string[]): Promise<AppendResult | undefined> {
    const tail = (await readStream(streamName, { direction: 'backwards', maxCount: RETRY_LOOKBACK_EVENTS })).reverse();
    const start = tail.findIndex((event) => event.id === ids[0]);
    if (start < 0 || start + ids.length > tail.length) return undefined;
    if (!ids.every((id, i) => tail[start + i]!.id === id)) return undefined;
    const last = tail[start + ids.length - 1]!;
    return { nextExpectedRevision: last.revision, position: last.position };
  }

  async function streamHead(streamName: string): Promise<AppendResult> {
    const [last] = await readStream(streamName, { direction: 'backwards', maxCount: 1 });
    return last
      ? { nextExpectedRevision: last.revision, position: last.position }
      : { nextExpectedRevision: -1, position: -1 };
  }

  async function readStream(streamName: string, options: ReadStreamOptions = {}): Promise<RecordedEvent[]> {
    ensureOpen();
    const backwards = options.direction === 'backwards';
    if (options.maxCount !== undefined && options.maxCount <= 0) return [];
    let fromRevision: ReadRevision;
    if (options.fromRevision === undefined) fromRevision = backwards ? END : START;
    else if (options.fromRevision >= 0) fromRevision = BigInt(options.fromRevision);
    else if (backwards) return [];
    else fromRevision = START;
    try {
      return await retryingOnLostConnection(async () => {
        const events: RecordedEvent[] = [];
        const read = client.readStream(streamName, {
          direction: backwards ? BACKWARDS : FORWARDS,
          fromRevision,
          maxCount: options.maxCount ?? UNBOUNDED,
        });
        for await (const resolved of read) events.push(toRecordedEvent(resolved));
        return events;
      });
    } catch (error) {
      if (error instanceof StreamNotFoundError) return [];
      throw infrastructureError(error, `read stream ${streamName}`);
    }
  }

  async function retryingOnLostConnection<T>(operation: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await operation();
      } catch (error) {
        const delay = RECONNECT_RETRY_DELAYS_MS[attempt];
        if (delay === undefined || closed || !connectionLost(error)) throw error;
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  }

  /**
   * Reads $all forwards from `after` (exclusive), handing each event to `visit`
   * until it returns false. Falls back to reading from the start when the server
   * refuses `after` as a read position.
   */
  async function scanAll(after: number, visit: (event: RecordedEvent) => boolean): Promise<void> {
    ensureOpen();
    /** Position of the last event seen; reading goes on strictly after it. */
    let cursor = after;
    let cursorIsEventPosition = after < 0;
    let fromStart = false;
    let reconnects = 0;
    for (;;) {
      const read = client.readAll({
        direction: FORWARDS,
        fromPosition: cursor < 0 || fromStart ? START : toPosition(cursor),
        maxCount: UNBOUNDED,
      });
      let complete = false;
      try {
        for await (const resolved of read as AsyncIterable<AllStreamResolvedEvent>) {
          const event = toRecordedEvent(resolved);
          if (event.position <= cursor) continue;
          cursor = event.position;
          cursorIsEventPosition = true;
          fromStart = false;
          if (!visit(event)) return;
        }
        complete = true;
        return;
      } catch (error) {
        if (!cursorIsEventPosition && !fromStart && isInvalidPosition(error)) {
          fromStart = true; // `after` is not an event's position: start over and skip up to it
          continue;
        }
        const delay = connectionLost(error) ? RECONNECT_RETRY_DELAYS_MS[reconnects++] : undefined;
        if (delay === undefined || closed) throw infrastructureError(error, 'read $all');
        await new Promise((resolve) => setTimeout(resolve, delay)); // then go on after the cursor
      } finally {
        if (!complete) await read.cancel().catch(() => undefined);
      }
    }
  }

  function subscribeToAll(
    options: SubscribeToAllOptions,
    handler: (event: RecordedEvent) => Promise<void> | void,
  ): Subscription {
    const matches = eventMatcher(options.filter);
    const serverFilter = serverSideFilter(options.filter);
    /** Position of the last event handed over (or skipped by the filter); -1: the start. */
    let last = options.after ?? -1;
    /** Whether `last` is known to be an event's position (so a valid place to resume from). */
    let lastIsEventPosition = last < 0;
    let fromStart = false;
    let stopping = false;
    let current: ReturnType<typeof client.subscribeToAll> | undefined;
    let wakeFromBackoff: (() => void) | undefined;

    const backoff = (failures: number): Promise<void> =>
      new Promise((resolve) => {
        const delay = Math.min(RESUBSCRIBE_MAX_DELAY_MS, RESUBSCRIBE_INITIAL_DELAY_MS * 2 ** (failures - 1));
        const timer = setTimeout(finish, delay * (0.75 + Math.random() * 0.5));
        function finish(): void {
          clearTimeout(timer);
          wakeFromBackoff = undefined;
          resolve();
        }
        wakeFromBackoff = finish;
      });

    const run = async (): Promise<void> => {
      ensureOpen();
      let failures = 0;
      try {
        while (!stopping) {
          const live = client.subscribeToAll({
            fromPosition: last < 0 || fromStart ? START : toPosition(last),
            ...(serverFilter ? { filter: serverFilter } : {}),
          });
          current = live;
          let failure: unknown;
          try {
            for await (const resolved of live as AsyncIterable<AllStreamResolvedEvent>) {
              if (stopping) break;
              const event = toRecordedEvent(resolved);
              if (event.position <= last) continue; // already handed over before a resubscription
              failures = 0;
              if (matches(event)) {
                try {
                  await callHandler(subscription, () => handler(event));
                } catch (error) {
                  throw new HandlerFailure(error);
                }
              }
              last = event.position;
              lastIsEventPosition = true;
              fromStart = false;
              if (stopping) break;
            }
            failure = stopping ? undefined : new Error('the server ended the subscription');
          } catch (error) {
            failure = error;
          } finally {
            current = undefined;
            await release(live);
          }
          if (failure instanceof HandlerFailure) throw failure.error;
          if (stopping) return;
          if (!lastIsEventPosition && !fromStart && isInvalidPosition(failure)) {
            fromStart = true; // `after` is not an event's position: start over and skip up to it
            continue;
          }
          if (failure instanceof SecablyError) throw failure;
          if (!isTransient(failure)) throw infrastructureError(failure, 'subscription to $all');
          failures += 1;
          logger?.warn(
            { err: failure, after: last, failures, filter: options.filter },
            'eventstoredb: the subscription to $all dropped; resubscribing after the last event handled',
          );
          await backoff(failures);
        }
      } finally {
        subscriptions.delete(subscription);
      }
    };

    const stop = async (): Promise<void> => {
      stopping = true;
      wakeFromBackoff?.();
      if (current) void release(current);
      // Called from inside this subscription's handler (before its first await):
      // waiting for that handler would deadlock; the loop sees `stopping` as soon as
      // it returns. (Awaiting stop() after an await inside the handler would deadlock.)
      if (inHandler === subscription) return;
      await done.catch(() => undefined);
    };
    // Starts on the next microtask, once `subscription` exists. `done` is left
    // unobserved on purpose: a subscription dying unnoticed must not be silent.
    const done = Promise.resolve()
      .then(run)
      .catch((error: unknown) => {
        if (!stopping && !closed) {
          logger?.error(
            { err: error, after: last, filter: options.filter },
            'eventstoredb: a subscription to $all died for good',
          );
          onSubscriptionDied?.(error);
        }
        throw error;
      });
    const subscription: Subscription = { stop, done };
    subscriptions.add(subscription);
    return subscription;
  }

  return {
    async appendToStream(streamName, events, options): Promise<AppendResult> {
      ensureOpen();
      const expected = options?.expectedRevision ?? 'any';
      // The server's limit, checked before sending (its own refusal is translated below too).
      const bytes = appendSize(events);
      if (bytes > MAX_APPEND_BYTES) throw new EventTooLargeError(streamName, bytes);
      const proposed = events.map((event) =>
        jsonEvent({
          id: event.id,
          type: event.type,
          data: event.data,
          ...(event.metadata ? { metadata: event.metadata } : {}),
        }),
      );
      const expectedRevision = toExpectedRevision(expected);
      let result: Awaited<ReturnType<typeof client.appendToStream>>;
      try {
        const attempt = () =>
          withTimeout(
            client.appendToStream(streamName, proposed, { expectedRevision }),
            appendTimeoutMs,
            `append to ${streamName}: no answer within ${appendTimeoutMs} ms (it may or may not have happened; retrying with the same event ids and expected revision is safe)`,
          );
        let outcome: typeof result | AppendResult | undefined;
        for (let retry = 0; outcome === undefined; retry++) {
          try {
            outcome = await attempt();
          } catch (error) {
            const why = unknownOutcome(error);
            const delay = APPEND_RETRY_DELAYS_MS[retry];
            if (why === undefined || delay === undefined || closed) throw error;
            logger?.warn(
              { stream: streamName, expectedRevision: String(expected), retry: retry + 1, reason: why },
              'eventstoredb: append outcome unknown; retrying with the same event ids and expected revision',
            );
            await new Promise((resolve) => setTimeout(resolve, delay));
            if (typeof expected !== 'number' && expected !== 'no_stream' && events.length > 0) {
              // 'any' / 'stream_exists': the server's id cache may have forgotten a write; look for it.
              const found = await alreadyAppended(
                streamName,
                events.map((event) => event.id),
              );
              if (found) outcome = found;
            }
          }
        }
        if (!('success' in outcome)) return outcome;
        result = outcome;
      } catch (error) {
        if (error instanceof WrongExpectedVersionError) {
          const actual =
            error.actualVersion === 'no_stream' ? 'no_stream' : toSafeNumber(error.actualVersion, 'revision');
          throw new WrongExpectedRevisionError(streamName, expected, actual);
        }
        if (error instanceof MaxAppendSizeExceededError) {
          throw new EventTooLargeError(streamName, bytes);
        }
        throw infrastructureError(error, `append to ${streamName}`);
      }
      // An empty append only checked the expected revision; the client cannot
      // tell "no stream" from revision 0 in its answer, so ask the stream.
      if (events.length === 0) return streamHead(streamName);
      const revision = toSafeNumber(result.nextExpectedRevision, 'revision');
      if (result.position !== undefined) {
        return { nextExpectedRevision: revision, position: toSafeNumber(result.position.commit, 'position') };
      }
      // Older servers answer an idempotent retry without a position: read the event's.
      const [appended] = await readStream(streamName, { fromRevision: revision, maxCount: 1 });
      if (appended === undefined) throw new InfrastructureError(`append to ${streamName}: event ${revision} not found`);
      return { nextExpectedRevision: revision, position: appended.position };
    },

    readStream,

    async readAll(options: ReadAllOptions = {}): Promise<RecordedEvent[]> {
      const limit = options.maxCount ?? Number.POSITIVE_INFINITY;
      ensureOpen();
      if (limit <= 0) return [];
      const matches = eventMatcher(options.filter);
      const events: RecordedEvent[] = [];
      await scanAll(options.after ?? -1, (event) => {
        if (matches(event)) events.push(event);
        return events.length < limit;
      });
      return events;
    },

    async headPosition(): Promise<number> {
      ensureOpen();
      try {
        return await retryingOnLostConnection(async () => {
          const read = client.readAll({ direction: BACKWARDS, fromPosition: END, maxCount: UNBOUNDED });
          try {
            for await (const resolved of read as AsyncIterable<AllStreamResolvedEvent>) {
              const event = toRecordedEvent(resolved);
              if (!isSystemEvent(event)) return event.position;
            }
            return -1;
          } finally {
            await read.cancel().catch(() => undefined);
          }
        });
      } catch (error) {
        throw infrastructureError(error, 'read $all backwards');
      }
    },

    subscribeToAll,

    close(): Promise<void> {
      closing ??= (async () => {
        await Promise.all([...subscriptions].map((subscription) => subscription.stop()));
        closed = true;
        await client.dispose();
      })();
      return closing;
    },
  };
}

/** A handler's own error, carried out of the read loop untouched. */
class HandlerFailure {
  constructor(readonly error: unknown) {}
}

/** Ends a client subscription: cancels its gRPC call and ends its iteration. */
async function release(subscription: { unsubscribe(): Promise<void>; destroy(): unknown }): Promise<void> {
  subscription.destroy();
  await subscription.unsubscribe().catch(() => undefined);
}

function toExpectedRevision(expected: ExpectedRevision): AppendExpectedRevision {
  switch (expected) {
    case 'any':
      return ANY;
    case 'no_stream':
      return NO_STREAM;
    case 'stream_exists':
      return STREAM_EXISTS;
    default:
      if (!Number.isSafeInteger(expected) || expected < -1) {
        throw new RangeError(`expected revision ${expected}: a revision is an integer >= -1`);
      }
      return expected === -1 ? NO_STREAM : BigInt(expected);
  }
}

function toPosition(position: number): Position {
  const at = BigInt(position);
  return { commit: at, prepare: at };
}

function toSafeNumber(value: bigint, what: string): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) {
    throw new InfrastructureError(`eventstoredb: ${what} ${value} is beyond 2^53 and cannot be a JS number`);
  }
  return Number(value);
}

function toRecordedEvent(resolved: ResolvedEvent | AllStreamResolvedEvent): RecordedEvent {
  const recorded = resolved.event;
  if (recorded === undefined) throw new InfrastructureError('eventstoredb: a read returned no event');
  const commit = recorded.position?.commit ?? resolved.commitPosition;
  if (commit === undefined) {
    throw new InfrastructureError(
      `eventstoredb: event ${recorded.id} in ${recorded.streamId} came without a position (EventStoreDB 22.6+ sends it)`,
    );
  }
  return {
    id: recorded.id,
    type: recorded.type,
    streamName: recorded.streamId,
    revision: toSafeNumber(recorded.revision, 'revision'),
    position: toSafeNumber(commit, 'position'),
    data: asObject(recorded.data),
    metadata: recorded.metadata === undefined ? {} : asObject(recorded.metadata),
    recordedAt: recorded.created.toISOString(),
  };
}

function asObject(value: unknown): Record<string, unknown> {
  if (value instanceof Uint8Array) return { $data: Buffer.from(value).toString('base64') };
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value as Record<string, unknown>;
  return { $data: value };
}

function isSystemEvent(event: { readonly streamName: string; readonly type: string }): boolean {
  return event.streamName.startsWith('$') || event.type.startsWith('$');
}

/** Our filter, applied here: no system event, and a match on any prefix (or no prefix given). */
function eventMatcher(filter: EventFilter | undefined): (event: RecordedEvent) => boolean {
  const streamPrefixes = filter?.streamNamePrefixes ?? [];
  const typePrefixes = filter?.eventTypePrefixes ?? [];
  const unfiltered = streamPrefixes.length === 0 && typePrefixes.length === 0;
  return (event) =>
    !isSystemEvent(event) &&
    (unfiltered ||
      streamPrefixes.some((prefix) => event.streamName.startsWith(prefix)) ||
      typePrefixes.some((prefix) => event.type.startsWith(prefix)));
}

/** What the server can filter: one field only; otherwise it drops system event types and we do the rest. */
function serverSideFilter(filter: EventFilter | undefined): Filter {
  const streamPrefixes = filter?.streamNamePrefixes ?? [];
  const typePrefixes = filter?.eventTypePrefixes ?? [];
  if (streamPrefixes.length > 0 && typePrefixes.length === 0)
    return streamNameFilter({ prefixes: [...streamPrefixes] });
  if (typePrefixes.length > 0 && streamPrefixes.length === 0) return eventTypeFilter({ prefixes: [...typePrefixes] });
  return excludeSystemEvents();
}

function grpcCode(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

const DEADLINE_EXCEEDED = 4;

/** Why an append may or may not have happened (so a retry is due), or undefined when it failed for sure. */
function unknownOutcome(error: unknown): string | undefined {
  if (connectionLost(error)) return 'connection lost';
  if (error instanceof DeadlineExceededError || grpcCode(error) === DEADLINE_EXCEEDED) return 'deadline exceeded';
  if (error instanceof AppendTimeout) return 'no answer';
  return undefined;
}

function connectionLost(error: unknown): boolean {
  const code = grpcCode(error);
  return code !== undefined && CONNECTION_LOST.has(code);
}

/** The server refused a read position that is not a record boundary. */
function isInvalidPosition(error: unknown): boolean {
  return grpcCode(error) === INVALID_ARGUMENT && /invalid position/i.test(errorMessage(error));
}

/** A dropped connection, an unavailable or busy server, a leader change: worth subscribing again. */
function isTransient(error: unknown): boolean {
  if (error instanceof NotLeaderError) return true;
  const code = grpcCode(error);
  return code === undefined || !PERMANENT_STATUS_CODES.has(code);
}

function infrastructureError(error: unknown, what: string): SecablyError {
  if (error instanceof SecablyError) return error;
  return new InfrastructureError(`eventstoredb: ${what}: ${errorMessage(error)}`, { cause: error });
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** An append attempt that got no answer in time. */
class AppendTimeout extends InfrastructureError {}

function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new AppendTimeout(`eventstoredb: ${message}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
