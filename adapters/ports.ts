/**
 * The ports: what the core needs from the outside world, named by what it does.
 * Adapters (sqliteEventStore, eventStoreDbEventStore, memoryReadModels,
 * mongoReadModels, memoryBus, kafkaBus, …) implement these and translate vendor
 * errors into the errors below. Only adapters import vendor clients.
 */

// ---------------------------------------------------------------- event store

/**
 * Expected revision of a stream when appending, with EventStoreDB's meaning:
 * - 'any': no check;
 * - 'no_stream': the stream must not exist (no event in it yet);
 * - 'stream_exists': the stream must have at least one event;
 * - a number: the revision (0-based index) of the stream's last event.
 */
export type ExpectedRevision = 'any' | 'no_stream' | 'stream_exists' | number;

/** An event to append. `id` is a UUID chosen by the writer (idempotency key). */
export interface EventToAppend {
  readonly id: string;
  readonly type: string;
  readonly data: Record<string, unknown>;
  readonly metadata?: Record<string, unknown>;
}

/** An event as stored. */
export interface RecordedEvent {
  readonly id: string;
  readonly type: string;
  readonly streamName: string;
  /** 0-based index of the event in its stream. */
  readonly revision: number;
  /** Global, strictly increasing (not necessarily contiguous) position in the log. */
  readonly position: number;
  readonly data: Record<string, unknown>;
  readonly metadata: Record<string, unknown>;
  /** When the store recorded it (ISO 8601). Domain time lives in the event's data. */
  readonly recordedAt: string;
}

export interface AppendResult {
  /** Revision of the last event now in the stream. */
  readonly nextExpectedRevision: number;
  /** Global position of the last event appended (or found, on an idempotent retry). */
  readonly position: number;
}

export interface ReadStreamOptions {
  readonly direction?: 'forwards' | 'backwards';
  /** Inclusive. Defaults to the start (forwards) or the end (backwards). */
  readonly fromRevision?: number;
  readonly maxCount?: number;
}

export interface ReadAllOptions {
  /** Exclusive: events strictly after this position. Defaults to the very start. */
  readonly after?: number;
  readonly maxCount?: number;
  readonly filter?: EventFilter;
}

/** A server-side filter: an event passes when it matches any given prefix. */
export interface EventFilter {
  readonly streamNamePrefixes?: readonly string[];
  readonly eventTypePrefixes?: readonly string[];
}

export interface SubscribeToAllOptions {
  /** Exclusive: deliver events strictly after this position (a checkpoint). */
  readonly after?: number;
  readonly filter?: EventFilter;
}

export interface Subscription {
  /** Stops delivering; resolves once no handler call is running. */
  stop(): Promise<void>;
  /** Resolves when the subscription stops, rejects if it dies with an error. */
  readonly done: Promise<void>;
}

export interface EventStore {
  /**
   * Appends atomically (all events or none) to one stream, checking the expected
   * revision (default 'any'). Appending events whose ids are already the stream's
   * events at the expected place is an idempotent no-op returning the original result.
   * Throws WrongExpectedRevisionError on a failed check.
   */
  appendToStream(
    streamName: string,
    events: readonly EventToAppend[],
    options?: { readonly expectedRevision?: ExpectedRevision },
  ): Promise<AppendResult>;
  /** Events of one stream; an empty array when the stream does not exist. */
  readStream(streamName: string, options?: ReadStreamOptions): Promise<RecordedEvent[]>;
  /** Events of every stream in global order. */
  readAll(options?: ReadAllOptions): Promise<RecordedEvent[]>;
  /** Position of the last event in the store; -1 when it is empty. */
  headPosition(): Promise<number>;
  /**
   * Catch-up subscription: history after `after`, then live events, in global
   * order, each handed to `handler` one at a time (the next waits for the
   * previous promise). A throwing handler ends the subscription (`done` rejects).
   */
  subscribeToAll(options: SubscribeToAllOptions, handler: (event: RecordedEvent) => Promise<void> | void): Subscription;
  close(): Promise<void>;
}

// ---------------------------------------------------------------- read models

/** A read-model document. `_id` is the key; `_position` the last event applied. */
export interface ReadModelDocument {
  readonly _id: string;
  readonly _position?: number;
  [field: string]: unknown;
}

/**
 * Equality filter on top-level fields; a value may be `{ $in: [...] }`.
 * Kept to what MongoDB and every adapter do identically.
 */
export type DocumentFilter = Record<string, unknown>;

export interface FindOptions {
  readonly sort?: Readonly<Record<string, 1 | -1>>;
  readonly skip?: number;
  readonly limit?: number;
}

/** A document's own fields: all but the key and the position guard. */
export type DocumentFields<T> = { [K in keyof T as K extends '_id' | '_position' ? never : K]: T[K] };

export interface ReadModelCollection<T extends ReadModelDocument = ReadModelDocument> {
  get(id: string): Promise<T | null>;
  find(filter?: DocumentFilter, options?: FindOptions): Promise<T[]>;
  count(filter?: DocumentFilter): Promise<number>;
  /**
   * Writes `doc` (or deletes the document when `doc` is null) only if the stored
   * document has not already seen `position` (its `_position` is absent or lower).
   * Returns false when skipped as already applied.
   */
  applyAt(id: string, position: number, doc: DocumentFields<T> | null): Promise<boolean>;
}

export interface ReadModels {
  collection<T extends ReadModelDocument = ReadModelDocument>(name: string): ReadModelCollection<T>;
  /** Position of the last event a projection has fully applied, or undefined. */
  getCheckpoint(projection: string): Promise<number | undefined>;
  setCheckpoint(projection: string, position: number): Promise<void>;
  /** Drops every document of the given collections and the projection checkpoints. */
  reset(collections: readonly string[], projections: readonly string[]): Promise<void>;
  close(): Promise<void>;
}

// ---------------------------------------------------------------- bus

export interface BusMessage {
  readonly key: string;
  readonly value: Record<string, unknown>;
}

export interface BusConsumer {
  stop(): Promise<void>;
}

/**
 * Topics between processes. Delivery is at-least-once: a handler may see a
 * message again (after a crash or rebalance) and must be idempotent; a message
 * counts as handled only once its handler's promise resolves.
 */
export interface Bus {
  publish(topic: string, messages: readonly BusMessage[]): Promise<void>;
  /** Consumers sharing a `group` split the messages; each group sees every message. */
  subscribe(topic: string, group: string, handler: (message: BusMessage) => Promise<void>): Promise<BusConsumer>;
  close(): Promise<void>;
}

// ---------------------------------------------------------------- counters (rate limits, quotas)

export interface CounterHit {
  readonly count: number;
  /** When the window of this key ends (epoch ms). */
  readonly resetAt: number;
}

/** Fixed-window counters keyed by string. */
export interface CounterStore {
  /** Adds one to `key` in the window of `windowMs` ending at or after now. */
  increment(key: string, windowMs: number, now: number): Promise<CounterHit>;
  /** The key's current window without counting a hit; undefined when none is open at `now`. */
  get(key: string, now: number): Promise<CounterHit | undefined>;
  decrement(key: string): Promise<void>;
  reset(key: string): Promise<void>;
  close(): Promise<void>;
}

// ---------------------------------------------------------------- small ports

export interface Clock {
  now(): Date;
}

export interface Ids {
  /** A random UUID (v4). */
  uuid(): string;
  /** A url-safe random secret of `bytes` random bytes. */
  secret(bytes: number): string;
}

export interface PasswordHasher {
  hash(password: string): Promise<string>;
  verify(password: string, stored: string): Promise<boolean>;
}

// ---------------------------------------------------------------- errors

/** Base of every error the core raises on purpose. */
export class SecablyError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** The stream is not at the revision the writer expected (optimistic concurrency). */
export class WrongExpectedRevisionError extends SecablyError {
  constructor(
    readonly streamName: string,
    readonly expected: ExpectedRevision,
    readonly actual: number | 'no_stream',
  ) {
    super(
      `stream ${streamName}: expected revision ${String(expected)}, actual ${String(actual)}`,
      'wrong_expected_revision',
    );
  }
}

/**
 * The size budget, the same in both modes. EventStoreDB refuses an append over
 * 1 MiB (its default), counting each event's data and metadata plus 2 bytes per
 * character of its type; Kafka refuses a record batch over ~1 MB (the broker's
 * default message.max.bytes). Every event and bus message we write stays well under.
 */
export const MAX_APPEND_BYTES = 1024 * 1024;
/** The largest bus message (key + JSON value, in UTF-8 bytes) a bus accepts. */
export const MAX_MESSAGE_BYTES = 1_000_000;

/** The size of an append as EventStoreDB counts it. */
export function appendSize(events: readonly EventToAppend[]): number {
  let bytes = 0;
  for (const event of events) {
    bytes += Buffer.byteLength(JSON.stringify(event.data));
    bytes += Buffer.byteLength(JSON.stringify(event.metadata ?? {}));
    bytes += 2 * event.type.length;
  }
  return bytes;
}

/** An append larger than MAX_APPEND_BYTES: permanent, retrying cannot help. */
export class EventTooLargeError extends SecablyError {
  constructor(
    readonly streamName: string,
    readonly bytes: number,
  ) {
    super(`append to ${streamName} is ${bytes} bytes; the store takes at most ${MAX_APPEND_BYTES}`, 'event_too_large');
  }
}

/** A bus message larger than MAX_MESSAGE_BYTES: permanent, retrying cannot help; other messages are not affected. */
export class MessageTooLargeError extends SecablyError {
  constructor(
    readonly topic: string,
    readonly key: string,
    readonly bytes: number,
  ) {
    super(
      `message ${key} on ${topic} is ${bytes} bytes; the bus takes at most ${MAX_MESSAGE_BYTES}`,
      'message_too_large',
    );
  }
}

/** A store or server could not be reached or answered with a failure. */
export class InfrastructureError extends SecablyError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'infrastructure');
    if (options?.cause !== undefined) this.cause = options.cause;
  }
}

// ---------------------------------------------------------------- tokens

export interface AccessClaims {
  readonly userId: string;
  /** The user's session version when issued; a password change makes older tokens invalid. */
  readonly sessionVersion: number;
  /**
   * The refresh-token family (login) the token was issued for: a family revoked for
   * reuse takes its access tokens with it. Absent only in tokens issued before it existed.
   */
  readonly familyId?: string;
}

export interface RefreshClaims {
  readonly userId: string;
  readonly familyId: string;
  readonly tokenId: string;
}

/** Signs and checks our JWTs. Verification failures throw UnauthorizedError. */
export interface Tokens {
  signAccess(claims: AccessClaims, now: Date): Promise<{ token: string; expiresAt: Date }>;
  signRefresh(claims: RefreshClaims, now: Date): Promise<{ token: string; expiresAt: Date }>;
  verifyAccess(token: string, now: Date): Promise<AccessClaims>;
  verifyRefresh(token: string, now: Date): Promise<RefreshClaims>;
}

export class UnauthorizedError extends SecablyError {
  constructor(message = 'Authentication credentials were not provided or are invalid.') {
    super(message, 'unauthorized');
  }
}

// ---------------------------------------------------------------- DNS

/** Resolves a hostname to every IPv4 and IPv6 address it has (an empty list when it has none). */
export interface Resolver {
  resolve(hostname: string): Promise<string[]>;
}

// ---------------------------------------------------------------- checkpoints

/** Durable positions of the store's subscribers (dispatcher, process managers). */
export interface Checkpoints {
  get(name: string): Promise<number | undefined>;
  set(name: string, position: number): Promise<void>;
  close(): Promise<void>;
}
