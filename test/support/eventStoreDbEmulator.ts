/**
 * An emulator of EventStoreDB's gRPC API for tests — not EventStoreDB.
 *
 * No EventStoreDB server can run where these tests run, so this speaks the
 * server's side of the protocol the `@eventstore/db-client` package speaks,
 * built on `@grpc/grpc-js` and the client's own generated service definitions
 * and messages, with every event in memory. It follows the real server's
 * semantics, taken from its source (EventStore/EventStore: IndexWriter.CheckCommit,
 * AllReader, Streams.Read/Append/BatchAppend, Enumerators.*, EventFilter,
 * ServerFeatures), so that the adapter's tests exercise what a server would do.
 *
 * What it covers, as a single insecure node (`esdb://127.0.0.1:PORT?tls=false`):
 * - ServerFeatures.GetSupportedMethods: what a 23.10 node reports for the
 *   methods below (the client asks at connect time; it then appends through
 *   BatchAppend, or through Append when `batchAppend: false`, like a 20.x node).
 * - Streams.Append (client streaming: options, then proposed messages) and
 *   Streams.BatchAppend (bidirectional, correlated, multi-part): expected
 *   revision any / no_stream / stream_exists / exact; the commit check of the
 *   real server, idempotency included (same ids at the revisions right after an
 *   older expected revision; for any/stream_exists, ids already in the stream, in
 *   any order); a partial match is a wrong expected version; an empty append
 *   writes a log record but no event; the required `type` and `content-type`
 *   metadata; the 1 MiB maximum append size.
 * - Streams.Read on a stream (forwards/backwards, from a revision / start / end,
 *   count; `stream_not_found`) and on $all (forwards/backwards, from a position /
 *   start / end, count, stream-name or event-type filters by prefixes or regex,
 *   the default $all filter that hides `$epoch-information`; a position that is
 *   not a record boundary is an InvalidArgument "invalid position").
 * - Subscriptions (Read with the `subscription` option) to a stream or to $all,
 *   filtered or not: `confirmation`, then history strictly after the starting
 *   point, `caught_up` (as 23.10+), then live events; filtered $all subscriptions
 *   send `checkpoint` messages every `checkpointInterval × window` events looked at.
 *
 * The log: positions are byte offsets of records, like the real transaction
 * file, so they grow by each record's size (not by one) and an event's $all
 * position has commit = prepare = its record's position (what 20.x+ writes:
 * every event record is implicitly committed); reads return that position as
 * both (`commit_position` = `prepare_position`), an append's answer gives the
 * position of its first record as `prepare`. A fresh node already holds a few
 * system events (`$epoch-information`, `$users`, `$user-admin`, `$settings`).
 *
 * As strict as the server where it is easy to be lenient: the append size counts
 * each character of an event type as 2 bytes (.NET strings), and the
 * committed-event-id cache that makes any / stream_exists retries idempotent is
 * bounded (`idCacheSize`, oldest forgotten first) and lives in memory only, so
 * `restart()` forgets it (then a retried 'any' append is written again, as on a
 * restarted node).
 *
 * Fault switches (`faults`), each for the next N calls: `dropWrites` (an append is
 * lost: nothing written, no answer; the client waits for its deadline),
 * `deadlineExceeded` (an append answers DEADLINE_EXCEEDED, after writing it with
 * `{ written: true }`: the answer is what is lost), `unavailable` (an append, read
 * or subscription answers UNAVAILABLE).
 *
 * Known differences from the real server: one node (no gossip, cluster info,
 * leader election, `requires-leader`), no authentication or ACLs, no TLS; no
 * deletes, tombstones, truncation, `$maxAge` / `$maxCount`, stream metadata
 * semantics, scavenging, projections (so no `$ce-` / `$et-` / link events, and
 * `resolveLinkTos` is ignored), persistent subscriptions, users or operations
 * services; the committed-event-id cache is bounded by a number of ids (the real
 * one by memory); prefix filters compare ordinally (the server uses .NET's
 * culture-sensitive StartsWith, equal for ordinary names); regex filters use
 * JavaScript's RegExp; live subscribers never fall behind (no `fell_behind`:
 * they read from the log at their own pace); no `first_stream_position` /
 * `last_stream_position` messages after stream reads (the Node client ignores
 * them); BatchAppend deadlines are only checked on arrival; all state is in
 * memory and dies with `stop()`.
 *
 * `dropConnections()` closes every client connection (HTTP/2 GOAWAY, then the
 * sessions are destroyed) while the node keeps listening with its data, to
 * test reconnection; `restart()` does that and forgets what a node keeps in
 * memory only (the committed-event-id cache).
 */
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import * as grpc from '@grpc/grpc-js';
import featuresGrpc, { type IServerFeaturesServer } from '@eventstore/db-client/generated/serverfeatures_grpc_pb.js';
import featuresPb from '@eventstore/db-client/generated/serverfeatures_pb.js';
import sharedPb from '@eventstore/db-client/generated/shared_pb.js';
import statusPb from '@eventstore/db-client/generated/status_pb.js';
import streamsGrpc, { type IStreamsServer } from '@eventstore/db-client/generated/streams_grpc_pb.js';
import streamsPb from '@eventstore/db-client/generated/streams_pb.js';

// The protobuf runtime the client's generated code is built on (a dependency of the client).
const requireFromClient = createRequire(
  createRequire(import.meta.url).resolve('@eventstore/db-client/generated/streams_pb.js'),
);
const { Any } = requireFromClient(
  'google-protobuf/google/protobuf/any_pb.js',
) as typeof import('google-protobuf/google/protobuf/any_pb.js');
const { Empty: ProtobufEmpty } = requireFromClient(
  'google-protobuf/google/protobuf/empty_pb.js',
) as typeof import('google-protobuf/google/protobuf/empty_pb.js');

const { ReadReq, ReadResp, AppendResp, BatchAppendResp } = streamsPb;
type ReadReqMessage = InstanceType<typeof ReadReq>;
type ReadRespMessage = InstanceType<typeof ReadResp>;
type AppendReqMessage = InstanceType<typeof streamsPb.AppendReq>;
type AppendRespMessage = InstanceType<typeof AppendResp>;
type BatchAppendReqMessage = InstanceType<typeof streamsPb.BatchAppendReq>;
type BatchAppendRespMessage = InstanceType<typeof BatchAppendResp>;
type UuidMessage = InstanceType<typeof sharedPb.UUID>;
type ProposedMessage = InstanceType<typeof streamsPb.AppendReq.ProposedMessage>;

export interface EventStoreDbEmulator {
  /** `esdb://127.0.0.1:PORT?tls=false` */
  readonly connectionString: string;
  stop(): Promise<void>;
  /** Cuts every client connection (and so every live subscription); the node keeps its data and listens on. */
  dropConnections(): void;
  /** A node restart: every connection cut, the in-memory committed-event-id cache forgotten; the data stays. */
  restart(): void;
  /** Faults for the next calls (see the file's comment). */
  readonly faults: EmulatorFaults;
}

export interface EmulatorFaults {
  /** The next `count` appends are lost: nothing is written and no answer comes (the client's deadline ends them). */
  dropWrites(count?: number): void;
  /** The next `count` appends answer DEADLINE_EXCEEDED; with `written`, after writing their events. */
  deadlineExceeded(count?: number, options?: { readonly written?: boolean }): void;
  /** The next `count` calls (appends, reads, subscriptions) answer UNAVAILABLE. */
  unavailable(count?: number): void;
  /** Clears every fault still pending. */
  clear(): void;
}

export interface EventStoreDbEmulatorOptions {
  /**
   * Report Streams.BatchAppend in ServerFeatures, as 21.10+ nodes do, so that
   * the client appends through it (default). `false` acts like a 20.x node:
   * the client then uses Streams.Append.
   */
  readonly batchAppend?: boolean;
  /** How many event ids the committed-event-id cache keeps (default 100,000; oldest forgotten first). */
  readonly idCacheSize?: number;
}

/** The version GetSupportedMethods reports: the behaviour emulated is 23.10's. */
const SERVER_VERSION = '23.10.0';
/** The server's default `--max-append-size`. */
const MAX_APPEND_SIZE = 1024 * 1024;
/** Search window of filtered reads when the client sets none (ReadBatchSize). */
const DEFAULT_FILTER_WINDOW = 32;
/** Bytes of a prepare record besides its strings and payloads (approximately the real layout). */
const RECORD_OVERHEAD = 90;
const TICKS_PER_MILLISECOND = 10_000n;

/** ExpectedVersion as the server encodes it. */
const EXPECTED_ANY = -2;
const EXPECTED_NO_STREAM = -1;
const EXPECTED_STREAM_EXISTS = -4;

/** An event in the log (positions are byte offsets; they stay far below 2^53 here). */
interface LogEvent {
  /** Log position of the event's record: its commit and prepare position in $all. */
  readonly position: number;
  /** Position of the first record of the append that wrote it. */
  readonly transactionPosition: number;
  readonly streamName: string;
  readonly revision: number;
  /** Canonical lower-case UUID. */
  readonly id: string;
  readonly type: string;
  readonly contentType: string;
  readonly data: Uint8Array;
  readonly metadata: Uint8Array;
  /** .NET ticks since the Unix epoch. */
  readonly created: bigint;
}

interface ProposedEvent {
  readonly id: string;
  readonly type: string;
  readonly contentType: string;
  readonly data: Uint8Array;
  readonly metadata: Uint8Array;
}

type AppendOutcome =
  | { readonly kind: 'success'; readonly revision: number; readonly commit: number; readonly prepare: number }
  | { readonly kind: 'wrong_expected_version'; readonly current: number };

/** A gRPC error status, with the `exception` metadata the client maps to its errors. */
class RpcError extends Error {
  constructor(
    readonly code: grpc.status,
    readonly details: string,
    readonly metadata: Record<string, string> = {},
  ) {
    super(details);
  }

  toServiceError(): Partial<grpc.StatusObject> {
    const metadata = new grpc.Metadata();
    for (const [key, value] of Object.entries(this.metadata)) metadata.set(key, value);
    return { code: this.code, details: this.details, metadata };
  }
}

const invalidPosition = (): RpcError =>
  new RpcError(grpc.status.INVALID_ARGUMENT, 'Trying to read from an invalid position.');

/** The node's data: the transaction log, its streams and the committed-id cache. */
class Log {
  readonly events: LogEvent[] = [];
  /** Start of every record, event or not, in order: the valid read positions. */
  private readonly recordStarts: number[] = [];
  private readonly streams = new Map<string, LogEvent[]>();
  /** IndexWriter._committedEvents: event id → where it was last committed (bounded, oldest dropped first). */
  private readonly committedIds = new Map<string, { streamName: string; revision: number }>();

  constructor(private readonly idCacheSize: number) {
    this.init();
  }

  /** What a node restart forgets: the committed-event-id cache is in memory only. */
  forgetIdCache(): void {
    this.committedIds.clear();
  }

  private rememberId(id: string, streamName: string, revision: number): void {
    this.committedIds.delete(id);
    this.committedIds.set(id, { streamName, revision });
    while (this.committedIds.size > this.idCacheSize) {
      this.committedIds.delete(this.committedIds.keys().next().value as string);
    }
  }
  private readonly appendListeners = new Set<() => void>();
  /** The writer checkpoint: where the next record goes. */
  end = 0;

  private init(): void {
    this.writeRecord(128); // the epoch record a node writes first
    const system = (streamName: string, type: string, data: unknown): void => {
      this.write(streamName, -1, [
        {
          id: randomUUID(),
          type,
          contentType: 'application/json',
          data: Buffer.from(JSON.stringify(data)),
          metadata: new Uint8Array(),
        },
      ]);
    };
    system('$epoch-information', '$epoch-information', { epochNumber: 0, leaderInstanceId: randomUUID() });
    system('$users', '$User', 'admin');
    system('$user-admin', '$UserCreated', { loginName: 'admin', fullName: 'Event Store Administrator' });
    system('$user-ops', '$UserCreated', { loginName: 'ops', fullName: 'Event Store Operations' });
    system('$settings', 'update-default-acl', { $userStreamAcl: { $r: '$all' }, $systemStreamAcl: { $r: '$admins' } });
  }

  stream(streamName: string): readonly LogEvent[] {
    return this.streams.get(streamName) ?? [];
  }

  lastRevision(streamName: string): number {
    return this.stream(streamName).length - 1;
  }

  /** Whether `position` is where a record starts, or at or past the end of the log. */
  isReadablePosition(position: bigint): boolean {
    if (position >= BigInt(this.end)) return true;
    const target = Number(position);
    let low = 0;
    let high = this.recordStarts.length - 1;
    while (low <= high) {
      const middle = (low + high) >> 1;
      const start = this.recordStarts[middle]!;
      if (start === target) return true;
      if (start < target) low = middle + 1;
      else high = middle - 1;
    }
    return false;
  }

  /** Index in `events` of the first event whose $all position (pos, pos) is >= (commit, prepare). */
  firstIndexAtOrAfter(commit: bigint, prepare: bigint): number {
    let low = 0;
    let high = this.events.length;
    while (low < high) {
      const middle = (low + high) >> 1;
      if (comparePositions(this.events[middle]!.position, commit, prepare) < 0) low = middle + 1;
      else high = middle;
    }
    return low;
  }

  onAppend(listener: () => void): () => void {
    this.appendListeners.add(listener);
    return () => this.appendListeners.delete(listener);
  }

  wakeAll(): void {
    for (const listener of [...this.appendListeners]) listener();
  }

  /** IndexWriter.CheckCommit, then the write (StorageWriterService.WriteEvents). */
  append(streamName: string, expectedVersion: number, events: readonly ProposedEvent[]): AppendOutcome {
    const current = this.lastRevision(streamName);
    const stored = this.stream(streamName);

    if (expectedVersion === EXPECTED_STREAM_EXISTS && current < 0) {
      return { kind: 'wrong_expected_version', current };
    }
    if (expectedVersion === EXPECTED_ANY || expectedVersion === EXPECTED_STREAM_EXISTS) {
      let first = true;
      let endRevision = -1;
      for (const event of events) {
        const committed = this.committedIds.get(event.id);
        if (committed === undefined || committed.streamName !== streamName) {
          if (first) return this.write(streamName, current, events);
          return { kind: 'wrong_expected_version', current }; // corrupted idempotency
        }
        endRevision = committed.revision;
        first = false;
      }
      if (first) return this.write(streamName, current, events); // no events
      return this.idempotent(streamName, endRevision);
    }
    if (expectedVersion < current) {
      let revision = expectedVersion;
      for (const event of events) {
        revision += 1;
        if (stored[revision]?.id === event.id) continue;
        // The first one differing means another writer got there; a later one, a partial retry.
        return { kind: 'wrong_expected_version', current };
      }
      if (revision === expectedVersion) return { kind: 'wrong_expected_version', current }; // no events
      return this.idempotent(streamName, revision);
    }
    if (expectedVersion > current) return { kind: 'wrong_expected_version', current };
    return this.write(streamName, current, events);
  }

  private idempotent(streamName: string, revision: number): AppendOutcome {
    const event = this.stream(streamName)[revision]!;
    return { kind: 'success', revision, commit: event.position, prepare: event.position };
  }

  private write(streamName: string, current: number, proposed: readonly ProposedEvent[]): AppendOutcome {
    if (proposed.length === 0) {
      // An empty transaction still writes a (data-less) prepare record.
      const position = this.writeRecord(RECORD_OVERHEAD + utf8Length(streamName));
      return { kind: 'success', revision: current, commit: position, prepare: position };
    }
    let stream = this.streams.get(streamName);
    if (stream === undefined) {
      stream = [];
      this.streams.set(streamName, stream);
    }
    const created = BigInt(Date.now()) * TICKS_PER_MILLISECOND;
    let transactionPosition = -1;
    let revision = current;
    let last: LogEvent | undefined;
    for (const event of proposed) {
      revision += 1;
      const size =
        RECORD_OVERHEAD + utf8Length(streamName) + utf8Length(event.type) + event.data.length + event.metadata.length;
      const position = this.writeRecord(size);
      if (transactionPosition < 0) transactionPosition = position;
      last = { ...event, position, transactionPosition, streamName, revision, created };
      stream.push(last);
      this.events.push(last);
      this.rememberId(event.id, streamName, revision);
    }
    this.wakeAll();
    return { kind: 'success', revision, commit: last!.position, prepare: transactionPosition };
  }

  private writeRecord(size: number): number {
    const position = this.end;
    this.recordStarts.push(position);
    this.end += size + 8; // plus the length prefix and suffix
    return position;
  }
}

export async function startEventStoreDbEmulator(
  options: EventStoreDbEmulatorOptions = {},
): Promise<EventStoreDbEmulator> {
  const log = new Log(options.idCacheSize ?? 100_000);
  const server = new grpc.Server();
  let stopped = false;

  // ------------------------------------------------------------------ faults

  type Fault = 'drop' | 'deadline' | 'deadline-written' | 'unavailable';
  const pendingFaults = { drop: 0, deadline: 0, deadlineWritten: 0, unavailable: 0 };
  /** The fault for the next call of this kind, if one is pending (UNAVAILABLE first). */
  function takeFault(kind: 'append' | 'read'): Fault | undefined {
    if (pendingFaults.unavailable > 0) {
      pendingFaults.unavailable -= 1;
      return 'unavailable';
    }
    if (kind === 'read') return undefined;
    if (pendingFaults.drop > 0) {
      pendingFaults.drop -= 1;
      return 'drop';
    }
    if (pendingFaults.deadlineWritten > 0) {
      pendingFaults.deadlineWritten -= 1;
      return 'deadline-written';
    }
    if (pendingFaults.deadline > 0) {
      pendingFaults.deadline -= 1;
      return 'deadline';
    }
    return undefined;
  }
  const unavailable = (): RpcError =>
    new RpcError(grpc.status.UNAVAILABLE, 'Server Is Not Ready (an emulated fault).', {});
  const deadlineExceeded = (): RpcError => new RpcError(grpc.status.DEADLINE_EXCEEDED, 'Deadline Exceeded');

  const supported: Array<[service: string, method: string, features: string[]]> = [
    ['event_store.client.streams.streams', 'read', ['position', 'events']],
    ['event_store.client.streams.streams', 'append', []],
    ...(options.batchAppend === false
      ? []
      : [['event_store.client.streams.streams', 'batchappend', ['deadline_duration']] as [string, string, string[]]]),
    ['event_store.client.server_features.serverfeatures', 'getsupportedmethods', []],
  ];

  const features: IServerFeaturesServer = {
    getSupportedMethods(_call, callback) {
      const methods = new featuresPb.SupportedMethods();
      methods.setEventStoreServerVersion(SERVER_VERSION);
      methods.setMethodsList(
        supported.map(([service, method, methodFeatures]) => {
          const supportedMethod = new featuresPb.SupportedMethod();
          supportedMethod.setServiceName(service);
          supportedMethod.setMethodName(method);
          supportedMethod.setFeaturesList(methodFeatures);
          return supportedMethod;
        }),
      );
      callback(null, methods);
    },
  };
  server.addService(featuresGrpc.ServerFeaturesService, features);

  const streams: IStreamsServer = {
    read(call) {
      if (takeFault('read') === 'unavailable') {
        failCall(call, unavailable());
        return;
      }
      const options = call.request.getOptions();
      const run =
        options?.getCountOptionCase() === ReadReq.Options.CountOptionCase.SUBSCRIPTION
          ? subscribe(call, options)
          : readOnce(call, options);
      run.catch((error: unknown) => failCall(call, error));
    },
    append(call, callback) {
      const messages: AppendReqMessage[] = [];
      call.on('data', (message: AppendReqMessage) => messages.push(message));
      call.on('error', () => undefined);
      call.on('end', () => {
        const fault = takeFault('append');
        if (fault === 'drop') return; // lost: no answer, the client's deadline ends the call
        if (fault === 'unavailable') return callback(unavailable().toServiceError());
        if (fault === 'deadline') return callback(deadlineExceeded().toServiceError());
        try {
          const response = appendFromAppendReq(messages);
          callback(fault === 'deadline-written' ? deadlineExceeded().toServiceError() : null, response);
        } catch (error) {
          callback(toRpcError(error).toServiceError());
        }
      });
    },
    batchAppend(call) {
      const pending = new Map<string, { options: BatchOptions; events: ProposedEvent[]; size: number }>();
      call.on('error', () => undefined);
      call.on('data', (request: BatchAppendReqMessage) => {
        const fault = request.getIsFinal() ? takeFault('append') : undefined;
        if (fault === 'unavailable') {
          // The whole BatchAppend call fails, as when a node goes away: every write on it with it.
          pending.clear();
          if (!call.cancelled) call.emit('error', unavailable().toServiceError());
          return;
        }
        const response = handleBatchAppend(request, pending, fault);
        if (response !== undefined && !call.cancelled) call.write(response);
      });
      call.on('end', () => call.end());
    },
    delete: unimplemented,
    tombstone: unimplemented,
  };
  server.addService(streamsGrpc.StreamsService, streams);

  function unimplemented(_call: unknown, callback: grpc.sendUnaryData<never>): void {
    callback({ code: grpc.status.UNIMPLEMENTED, details: 'Not supported by the EventStoreDB emulator.' });
  }

  // ------------------------------------------------------------------ appends

  function appendFromAppendReq(messages: readonly AppendReqMessage[]): AppendRespMessage {
    const header = messages[0]?.getOptions();
    if (header === undefined) throw new RpcError(grpc.status.INVALID_ARGUMENT, 'The first message must be options.');
    const streamName = streamNameOf(header.getStreamIdentifier());
    const Case = streamsPb.AppendReq.Options.ExpectedStreamRevisionCase;
    const expectedVersion = expectedVersionOf(header.getExpectedStreamRevisionCase(), header.getRevision(), {
      revision: Case.REVISION,
      noStream: Case.NO_STREAM,
      any: Case.ANY,
      streamExists: Case.STREAM_EXISTS,
    });
    const events: ProposedEvent[] = [];
    let size = 0;
    for (const message of messages.slice(1)) {
      const proposed = message.getProposedMessage();
      if (proposed === undefined) throw new RpcError(grpc.status.INVALID_ARGUMENT, 'Expected a proposed message.');
      const event = proposedEvent(proposed);
      size += eventSize(event);
      if (size > MAX_APPEND_SIZE) throw maxAppendSizeExceeded();
      events.push(event);
    }
    const outcome = log.append(streamName, expectedVersion, events);
    const response = new AppendResp();
    if (outcome.kind === 'success') {
      const success = new AppendResp.Success();
      if (outcome.revision < 0) success.setNoStream(new sharedPb.Empty());
      else success.setCurrentRevision(String(outcome.revision));
      const position = new AppendResp.Position();
      position.setCommitPosition(String(outcome.commit));
      position.setPreparePosition(String(outcome.prepare));
      success.setPosition(position);
      response.setSuccess(success);
      return response;
    }
    const wrong = new AppendResp.WrongExpectedVersion();
    if (outcome.current < 0) wrong.setCurrentNoStream(new sharedPb.Empty());
    else wrong.setCurrentRevision(String(outcome.current));
    if (expectedVersion === EXPECTED_ANY) wrong.setExpectedAny(new sharedPb.Empty());
    else if (expectedVersion === EXPECTED_STREAM_EXISTS) wrong.setExpectedStreamExists(new sharedPb.Empty());
    else if (expectedVersion === EXPECTED_NO_STREAM) wrong.setExpectedNoStream(new sharedPb.Empty());
    else wrong.setExpectedRevision(String(expectedVersion));
    response.setWrongExpectedVersion(wrong);
    return response;
  }

  interface BatchOptions {
    readonly streamName: string;
    readonly expectedVersion: number;
    readonly identifier: InstanceType<typeof sharedPb.StreamIdentifier>;
  }

  function handleBatchAppend(
    request: BatchAppendReqMessage,
    pending: Map<string, { options: BatchOptions; events: ProposedEvent[]; size: number }>,
    fault?: Exclude<Fault, 'unavailable'>,
  ): BatchAppendRespMessage | undefined {
    const correlation = request.getCorrelationId();
    const correlationId = correlation === undefined ? '' : uuidOf(correlation);
    const respond = (
      fill: (response: BatchAppendRespMessage) => void,
      identifier?: unknown,
    ): BatchAppendRespMessage => {
      const response = new BatchAppendResp();
      if (correlation !== undefined) response.setCorrelationId(correlation);
      if (identifier instanceof sharedPb.StreamIdentifier) response.setStreamIdentifier(identifier);
      fill(response);
      return response;
    };
    const header = request.getOptions();
    try {
      if (header !== undefined) {
        const identifier = header.getStreamIdentifier();
        if (identifier === undefined) throw new RpcError(grpc.status.INVALID_ARGUMENT, 'StreamIdentifier not set.');
        const deadline = header.getDeadline();
        if (deadline !== undefined && deadline.toDate().getTime() <= Date.now()) {
          return respond(
            (response) =>
              response.setError(status(grpc.status.DEADLINE_EXCEEDED, 'Timeout', new sharedPb.Timeout(), 'Timeout')),
            identifier,
          );
        }
        const Case = streamsPb.BatchAppendReq.Options.ExpectedStreamPositionCase;
        const expectedVersion = expectedVersionOf(header.getExpectedStreamPositionCase(), header.getStreamPosition(), {
          revision: Case.STREAM_POSITION,
          noStream: Case.NO_STREAM,
          any: Case.ANY,
          streamExists: Case.STREAM_EXISTS,
        });
        if (!pending.has(correlationId)) {
          pending.set(correlationId, {
            options: { streamName: streamNameOf(identifier), expectedVersion, identifier },
            events: [],
            size: 0,
          });
        }
      }
      const write = pending.get(correlationId);
      if (write === undefined) return undefined; // parts of a write that already failed
      for (const proposed of request.getProposedMessagesList()) {
        const event = proposedEvent(proposed);
        write.size += eventSize(event);
        write.events.push(event);
      }
      if (write.size > MAX_APPEND_SIZE) {
        pending.delete(correlationId);
        const details = new sharedPb.MaximumAppendSizeExceeded();
        details.setMaxappendsize(MAX_APPEND_SIZE);
        return respond(
          (response) =>
            response.setError(
              status(grpc.status.INVALID_ARGUMENT, 'MaximumAppendSizeExceeded', details, 'MaximumAppendSizeExceeded'),
            ),
          write.options.identifier,
        );
      }
      if (!request.getIsFinal()) return undefined;
      pending.delete(correlationId);
      const { streamName, expectedVersion, identifier } = write.options;
      if (fault === 'drop') return undefined; // lost: nothing written, no answer
      const timedOut = (): BatchAppendRespMessage =>
        respond(
          (response) =>
            response.setError(status(grpc.status.DEADLINE_EXCEEDED, 'Timeout', new sharedPb.Timeout(), 'Timeout')),
          identifier,
        );
      if (fault === 'deadline') return timedOut();
      const outcome = log.append(streamName, expectedVersion, write.events);
      if (fault === 'deadline-written') return timedOut();
      return respond((response) => {
        if (outcome.kind === 'success') {
          const success = new BatchAppendResp.Success();
          if (outcome.revision < 0) success.setNoStream(new ProtobufEmpty());
          else success.setCurrentRevision(String(outcome.revision));
          const position = new sharedPb.AllStreamPosition();
          position.setCommitPosition(String(outcome.commit));
          position.setPreparePosition(String(outcome.prepare));
          success.setPosition(position);
          response.setSuccess(success);
          return;
        }
        const details = new sharedPb.WrongExpectedVersion();
        if (outcome.current < 0) details.setCurrentNoStream(new ProtobufEmpty());
        else details.setCurrentStreamRevision(String(outcome.current));
        if (expectedVersion === EXPECTED_ANY) details.setExpectedAny(new ProtobufEmpty());
        else if (expectedVersion === EXPECTED_NO_STREAM) details.setExpectedNoStream(new ProtobufEmpty());
        else if (expectedVersion === EXPECTED_STREAM_EXISTS) details.setExpectedStreamExists(new ProtobufEmpty());
        else details.setExpectedStreamPosition(String(expectedVersion));
        response.setError(status(grpc.status.ALREADY_EXISTS, 'WrongExpectedVersion', details, 'WrongExpectedVersion'));
      }, identifier);
    } catch (error) {
      pending.delete(correlationId);
      const details = new sharedPb.BadRequest();
      details.setMessage(error instanceof Error ? error.message : String(error));
      return respond(
        (response) => response.setError(status(grpc.status.INVALID_ARGUMENT, 'BadRequest', details, 'BadRequest')),
        header?.getStreamIdentifier(),
      );
    }
  }

  // ------------------------------------------------------------------ reads

  async function readOnce(
    call: grpc.ServerWritableStream<ReadReqMessage, ReadRespMessage>,
    options: InstanceType<typeof ReadReq.Options> | undefined,
  ): Promise<void> {
    if (options === undefined) throw new RpcError(grpc.status.INVALID_ARGUMENT, 'Options are required.');
    const count = parseUint64(options.getCount());
    const backwards = options.getReadDirection() === ReadReq.Options.ReadDirection.BACKWARDS;
    const structuredIds = options.getUuidOption()?.hasStructured() ?? false;
    const send = (event: LogEvent): Promise<boolean> => write(call, eventResponse(event, structuredIds));

    if (options.getStreamOptionCase() === ReadReq.Options.StreamOptionCase.STREAM) {
      if (options.getFilterOptionCase() === ReadReq.Options.FilterOptionCase.FILTER) {
        throw new RpcError(grpc.status.INVALID_ARGUMENT, 'Filters are only supported on $all.');
      }
      const streamOptions = options.getStream()!;
      const streamName = streamNameOf(streamOptions.getStreamIdentifier());
      const events = log.stream(streamName);
      if (events.length === 0) {
        const notFound = new ReadResp.StreamNotFound();
        notFound.setStreamIdentifier(streamOptions.getStreamIdentifier());
        const response = new ReadResp();
        response.setStreamNotFound(notFound);
        await write(call, response);
        call.end();
        return;
      }
      const last = events.length - 1;
      const Case = ReadReq.Options.StreamOptions.RevisionOptionCase;
      const from = (() => {
        switch (streamOptions.getRevisionOptionCase()) {
          case Case.START:
            return 0n;
          case Case.END:
            return BigInt(backwards ? last : last + 1);
          default:
            return parseUint64(streamOptions.getRevision());
        }
      })();
      let sent = 0n;
      if (backwards) {
        for (
          let revision = Number(from > BigInt(last) ? BigInt(last) : from);
          revision >= 0 && sent < count;
          revision--
        ) {
          if (!(await send(events[revision]!))) return;
          sent += 1n;
        }
      } else {
        for (let revision = from; revision <= BigInt(last) && sent < count; revision++) {
          if (!(await send(events[Number(revision)]!))) return;
          sent += 1n;
        }
      }
      call.end();
      return;
    }

    const allOptions = options.getAll();
    if (allOptions === undefined)
      throw new RpcError(grpc.status.INVALID_ARGUMENT, 'Stream or $all options are required.');
    const matches = allFilter(options);
    const Case = ReadReq.Options.AllOptions.AllOptionCase;
    let sent = 0n;
    if (backwards) {
      let index: number;
      switch (allOptions.getAllOptionCase()) {
        case Case.START:
          index = -1;
          break;
        case Case.POSITION: {
          const { commit, prepare } = positionOf(allOptions.getPosition()!);
          if (!log.isReadablePosition(commit)) throw invalidPosition();
          index = log.firstIndexAtOrAfter(commit, prepare) - 1; // strictly before the position
          break;
        }
        default:
          index = log.events.length - 1;
      }
      for (; index >= 0 && sent < count; index--) {
        const event = log.events[index]!;
        if (!matches(event)) continue;
        if (!(await send(event))) return;
        sent += 1n;
      }
    } else {
      let index: number;
      switch (allOptions.getAllOptionCase()) {
        case Case.END:
          index = log.events.length;
          break;
        case Case.POSITION: {
          const { commit, prepare } = positionOf(allOptions.getPosition()!);
          if (!log.isReadablePosition(commit)) throw invalidPosition();
          index = log.firstIndexAtOrAfter(commit, prepare); // inclusive
          break;
        }
        default:
          index = 0;
      }
      for (; index < log.events.length && sent < count; index++) {
        const event = log.events[index]!;
        if (!matches(event)) continue;
        if (!(await send(event))) return;
        sent += 1n;
      }
    }
    call.end();
  }

  async function subscribe(
    call: grpc.ServerWritableStream<ReadReqMessage, ReadRespMessage>,
    options: InstanceType<typeof ReadReq.Options>,
  ): Promise<void> {
    let wake: (() => void) | undefined;
    const stopListening = log.onAppend(() => wake?.());
    const onCancelled = (): void => wake?.();
    call.on('cancelled', onCancelled);
    try {
      const structuredIds = options.getUuidOption()?.hasStructured() ?? false;
      const confirmation = new ReadResp.SubscriptionConfirmation();
      confirmation.setSubscriptionId(randomUUID());
      const confirmed = new ReadResp();
      confirmed.setConfirmation(confirmation);
      if (!(await write(call, confirmed))) return;

      // Where to go on from, and what to send: (source, next index) over a growing array.
      let source: () => readonly LogEvent[];
      let next: number;
      let matches: (event: LogEvent) => boolean;
      let checkpointEvery = Number.POSITIVE_INFINITY;
      if (options.getStreamOptionCase() === ReadReq.Options.StreamOptionCase.STREAM) {
        const streamOptions = options.getStream()!;
        const streamName = streamNameOf(streamOptions.getStreamIdentifier());
        source = () => log.stream(streamName);
        matches = () => true;
        const Case = ReadReq.Options.StreamOptions.RevisionOptionCase;
        switch (streamOptions.getRevisionOptionCase()) {
          case Case.START:
            next = 0;
            break;
          case Case.END:
            next = log.stream(streamName).length;
            break;
          default: {
            const revision = parseUint64(streamOptions.getRevision()); // exclusive
            next = revision >= BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(revision) + 1;
          }
        }
      } else {
        const allOptions = options.getAll();
        if (allOptions === undefined)
          throw new RpcError(grpc.status.INVALID_ARGUMENT, 'Stream or $all options are required.');
        source = () => log.events;
        matches = allFilter(options);
        const filter = options.getFilter();
        if (options.getFilterOptionCase() === ReadReq.Options.FilterOptionCase.FILTER && filter !== undefined) {
          const window = filter.getWindowCase() === ReadReq.Options.FilterOptions.WindowCase.MAX ? filter.getMax() : 0;
          checkpointEvery =
            Math.max(1, filter.getCheckpointintervalmultiplier()) * (window > 0 ? window : DEFAULT_FILTER_WINDOW);
        }
        const Case = ReadReq.Options.AllOptions.AllOptionCase;
        switch (allOptions.getAllOptionCase()) {
          case Case.START:
            next = 0;
            break;
          case Case.END:
            next = log.events.length;
            break;
          default: {
            const { commit, prepare } = positionOf(allOptions.getPosition()!);
            if (!log.isReadablePosition(commit)) throw invalidPosition();
            // Exclusive: skip what is at or before the position.
            next = log.firstIndexAtOrAfter(commit, prepare);
            const at = log.events[next];
            if (at !== undefined && comparePositions(at.position, commit, prepare) === 0) next += 1;
          }
        }
      }

      let caughtUp = false;
      let considered = 0;
      while (!call.cancelled && !stopped) {
        const events = source();
        while (next < events.length) {
          const event = events[next]!;
          next += 1;
          if (matches(event) && !(await write(call, eventResponse(event, structuredIds)))) return;
          considered += 1;
          if (considered >= checkpointEvery) {
            considered = 0;
            // Where the next read would start: after this record, at prepare 0 (AllReader's next position).
            const following = log.events[log.firstIndexAtOrAfter(BigInt(event.position + 1), 0n)];
            const checkpoint = new ReadResp.Checkpoint();
            checkpoint.setCommitPosition(String(following?.position ?? log.end));
            checkpoint.setPreparePosition('0');
            const response = new ReadResp();
            response.setCheckpoint(checkpoint);
            if (!(await write(call, response))) return;
          }
        }
        if (!caughtUp) {
          caughtUp = true;
          const response = new ReadResp();
          response.setCaughtUp(new ReadResp.CaughtUp());
          if (!(await write(call, response))) return;
        }
        if (next >= source().length && !call.cancelled && !stopped) {
          await new Promise<void>((resolve) => (wake = resolve));
          wake = undefined;
        }
      }
    } finally {
      stopListening();
      call.off('cancelled', onCancelled);
    }
  }

  // ------------------------------------------------------------------ start

  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) =>
      error ? reject(error) : resolve(bound),
    ),
  );
  return {
    connectionString: `esdb://127.0.0.1:${port}?tls=false`,
    dropConnections() {
      if (!stopped) server.drain(`127.0.0.1:${port}`, 0);
    },
    restart() {
      if (stopped) return;
      server.drain(`127.0.0.1:${port}`, 0);
      log.forgetIdCache();
    },
    faults: {
      dropWrites(count = 1) {
        pendingFaults.drop += count;
      },
      deadlineExceeded(count = 1, faultOptions = {}) {
        if (faultOptions.written) pendingFaults.deadlineWritten += count;
        else pendingFaults.deadline += count;
      },
      unavailable(count = 1) {
        pendingFaults.unavailable += count;
      },
      clear() {
        pendingFaults.drop = 0;
        pendingFaults.deadline = 0;
        pendingFaults.deadlineWritten = 0;
        pendingFaults.unavailable = 0;
      },
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      server.forceShutdown();
      log.wakeAll(); // subscriptions waiting for events see `stopped` and end
    },
  };
}

// ------------------------------------------------------------------ helpers

/** Writes with backpressure; false once the call is cancelled. */
function write(
  call: grpc.ServerWritableStream<ReadReqMessage, ReadRespMessage>,
  message: ReadRespMessage,
): Promise<boolean> {
  if (call.cancelled || call.writableEnded || call.destroyed) return Promise.resolve(false);
  if (call.write(message)) return Promise.resolve(true);
  return new Promise((resolve) => {
    const finish = (result: boolean) => (): void => {
      call.off('drain', onDrain);
      call.off('cancelled', onCancelled);
      call.off('close', onCancelled);
      resolve(result);
    };
    const onDrain = finish(true);
    const onCancelled = finish(false);
    call.once('drain', onDrain);
    call.once('cancelled', onCancelled);
    call.once('close', onCancelled);
  });
}

function failCall(call: grpc.ServerWritableStream<ReadReqMessage, ReadRespMessage>, error: unknown): void {
  if (call.cancelled || call.writableEnded || call.destroyed) return;
  call.emit('error', toRpcError(error).toServiceError());
}

function toRpcError(error: unknown): RpcError {
  if (error instanceof RpcError) return error;
  return new RpcError(grpc.status.UNKNOWN, error instanceof Error ? error.message : String(error));
}

const maxAppendSizeExceeded = (): RpcError =>
  new RpcError(grpc.status.INVALID_ARGUMENT, `Maximum Append Size of ${MAX_APPEND_SIZE} Exceeded.`, {
    exception: 'maximum-append-size-exceeded',
    'maximum-append-size': String(MAX_APPEND_SIZE),
  });

/** google.rpc.Status with its details packed, as BatchAppend reports errors. */
function status(
  code: grpc.status,
  message: string,
  details: { serializeBinary(): Uint8Array },
  typeName: string,
): InstanceType<typeof statusPb.Status> {
  const result = new statusPb.Status();
  result.setCode(code as number);
  result.setMessage(message);
  const packed = new Any();
  packed.pack(details.serializeBinary(), `event_store.client.${typeName}`);
  result.setDetails(packed);
  return result;
}

function expectedVersionOf(
  which: number,
  revision: string,
  cases: { revision: number; noStream: number; any: number; streamExists: number },
): number {
  switch (which) {
    case cases.revision: {
      const value = parseUint64(revision);
      return value > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(value);
    }
    case cases.noStream:
      return EXPECTED_NO_STREAM;
    case cases.any:
      return EXPECTED_ANY;
    case cases.streamExists:
      return EXPECTED_STREAM_EXISTS;
    default:
      throw new RpcError(grpc.status.INVALID_ARGUMENT, 'An expected stream revision is required.');
  }
}

function proposedEvent(message: ProposedMessage): ProposedEvent {
  const id = message.getId();
  if (id === undefined) throw new RpcError(grpc.status.INVALID_ARGUMENT, 'An event id is required.');
  const metadata = message.getMetadataMap();
  const type = metadata.get('type');
  const contentType = metadata.get('content-type');
  if (type === undefined || contentType === undefined) {
    const missing = type === undefined ? 'type' : 'content-type';
    throw new RpcError(grpc.status.INVALID_ARGUMENT, `Required Metadata Property '${missing}' is missing`, {
      exception: 'missing-required-metadata-property',
      'required-metadata-properties': 'type,content-type',
    });
  }
  return {
    id: uuidOf(id),
    type,
    contentType,
    data: message.getData_asU8(),
    metadata: message.getCustomMetadata_asU8(),
  };
}

/** Event.SizeOnDisk, near enough. */
function eventSize(event: ProposedEvent): number {
  // The server measures the type as a .NET string: 2 bytes per character.
  return event.data.length + event.metadata.length + event.type.length * 2;
}

function eventResponse(event: LogEvent, structuredIds: boolean): ReadRespMessage {
  const recorded = new ReadResp.ReadEvent.RecordedEvent();
  const id = new sharedPb.UUID();
  if (structuredIds) {
    const hex = event.id.replaceAll('-', '');
    const structured = new sharedPb.UUID.Structured();
    structured.setMostSignificantBits(BigInt.asIntN(64, BigInt(`0x${hex.slice(0, 16)}`)).toString());
    structured.setLeastSignificantBits(BigInt.asIntN(64, BigInt(`0x${hex.slice(16)}`)).toString());
    id.setStructured(structured);
  } else {
    id.setString(event.id);
  }
  recorded.setId(id);
  const identifier = new sharedPb.StreamIdentifier();
  identifier.setStreamName(Buffer.from(event.streamName, 'utf8'));
  recorded.setStreamIdentifier(identifier);
  recorded.setStreamRevision(String(event.revision));
  recorded.setCommitPosition(String(event.position));
  recorded.setPreparePosition(String(event.position)); // 20.x+: prepare = commit for every event record
  const metadata = recorded.getMetadataMap();
  metadata.set('type', event.type);
  metadata.set('content-type', event.contentType);
  metadata.set('created', event.created.toString());
  recorded.setCustomMetadata(event.metadata);
  recorded.setData(event.data);
  const readEvent = new ReadResp.ReadEvent();
  readEvent.setEvent(recorded);
  readEvent.setCommitPosition(String(event.position));
  const response = new ReadResp();
  response.setEvent(readEvent);
  return response;
}

/** EventFilter.DefaultAllFilter: every $all read hides these system streams. */
function visibleInAll(event: LogEvent): boolean {
  if (!event.streamName.startsWith('$')) return true;
  if (event.streamName === '$epoch-information') return false;
  if (event.streamName.startsWith('$persistentsubscription-$all::')) {
    return !event.streamName.endsWith('-checkpoint') && !event.streamName.endsWith('-parked');
  }
  return true;
}

function allFilter(options: InstanceType<typeof ReadReq.Options>): (event: LogEvent) => boolean {
  const filter = options.getFilter();
  if (options.getFilterOptionCase() !== ReadReq.Options.FilterOptionCase.FILTER || filter === undefined) {
    return visibleInAll;
  }
  const onStreams = filter.getFilterCase() === ReadReq.Options.FilterOptions.FilterCase.STREAM_IDENTIFIER;
  const expression = onStreams ? filter.getStreamIdentifier() : filter.getEventType();
  if (expression === undefined) throw new RpcError(grpc.status.INVALID_ARGUMENT, 'A filter expression is required.');
  const field = (event: LogEvent): string => (onStreams ? event.streamName : event.type);
  const regex = expression.getRegex();
  if (regex !== '') {
    const pattern = new RegExp(regex, 'u');
    return (event) => visibleInAll(event) && pattern.test(field(event));
  }
  const prefixes = expression.getPrefixList();
  return (event) => visibleInAll(event) && prefixes.some((prefix) => field(event).startsWith(prefix));
}

function positionOf(position: InstanceType<typeof ReadReq.Options.Position>): { commit: bigint; prepare: bigint } {
  return { commit: parseUint64(position.getCommitPosition()), prepare: parseUint64(position.getPreparePosition()) };
}

/** Orders an event's $all position (position, position) against (commit, prepare). */
function comparePositions(position: number, commit: bigint, prepare: bigint): number {
  const at = BigInt(position);
  if (at !== commit) return at < commit ? -1 : 1;
  return at === prepare ? 0 : at < prepare ? -1 : 1;
}

function parseUint64(value: string): bigint {
  if (!/^\d+$/.test(value)) throw new RpcError(grpc.status.INVALID_ARGUMENT, `'${value}' is not a valid uint64.`);
  return BigInt(value);
}

function streamNameOf(identifier: InstanceType<typeof sharedPb.StreamIdentifier> | undefined): string {
  const name = identifier === undefined ? '' : Buffer.from(identifier.getStreamName_asU8()).toString('utf8');
  if (name === '') throw new RpcError(grpc.status.INVALID_ARGUMENT, 'A stream name is required.');
  return name;
}

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** A UUID message (string or structured form) as a canonical lower-case string, like Guid.ToString(). */
function uuidOf(uuid: UuidMessage): string {
  if (uuid.hasStructured()) {
    const structured = uuid.getStructured()!;
    const most = BigInt.asUintN(64, BigInt(structured.getMostSignificantBits()));
    const least = BigInt.asUintN(64, BigInt(structured.getLeastSignificantBits()));
    const hex = most.toString(16).padStart(16, '0') + least.toString(16).padStart(16, '0');
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  }
  const text = uuid
    .getString()
    .trim()
    .toLowerCase()
    .replace(/^\{(.*)\}$/, '$1');
  const canonical = /^[0-9a-f]{32}$/.test(text)
    ? `${text.slice(0, 8)}-${text.slice(8, 12)}-${text.slice(12, 16)}-${text.slice(16, 20)}-${text.slice(20)}`
    : text;
  if (!UUID_PATTERN.test(canonical))
    throw new RpcError(grpc.status.INVALID_ARGUMENT, `'${uuid.getString()}' is not a valid UUID.`);
  return canonical;
}

function utf8Length(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}
