import kafkajs from 'kafkajs';
import type {
  Admin,
  Consumer,
  EachBatchPayload,
  KafkaMessage,
  LogEntry,
  Message,
  Producer,
  RetryOptions,
} from 'kafkajs';
import {
  InfrastructureError,
  type Bus,
  type BusConsumer,
  type BusMessage,
  MAX_MESSAGE_BYTES,
  MessageTooLargeError,
} from './ports.js';

const { Kafka, Partitioners, logLevel: LogLevel } = kafkajs;

/** Where the bus reports what it does (pino's signature, so a pino logger fits). */
export interface KafkaBusLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface KafkaBusOptions {
  readonly brokers: readonly string[];
  readonly clientId: string;
  /** Default: warnings and errors on stderr. */
  readonly logger?: KafkaBusLogger;
  /** Partitions of the topics this bus creates (default 6): the most members of one group that get work. */
  readonly partitions?: number;
  /**
   * A group member that sends no heartbeat for this long is taken as dead and its
   * partitions go to the others (default 30 s). Heartbeats go on while a handler
   * runs, so this bounds how long a crash goes unnoticed, not how long a handler may take.
   */
  readonly sessionTimeoutMs?: number;
  /** How often a member heartbeats, also while its handler runs (default 3 s; at most a third of the session timeout). */
  readonly heartbeatIntervalMs?: number;
  /**
   * How long a rebalance waits for the members to rejoin (default 30 min). A member
   * rejoins only once its running handler has resolved, so set this above the
   * longest handler (the longest scan timeout for scanner workers). A member that
   * takes longer is dropped from the group and its message is delivered again.
   */
  readonly rebalanceTimeoutMs?: number;
  /** Longest wait of a fetch with nothing to read (default 1 s); an idle member notices a rebalance within about this. */
  readonly maxWaitTimeMs?: number;
  /** Wait before the first redelivery of a message whose handler threw (default 500 ms); doubles each time. */
  readonly retryDelayMs?: number;
  /** Ceiling of that wait (default 30 s). A failing message is redelivered until its handler resolves. */
  readonly maxRetryDelayMs?: number;
  /** How long publish() waits for the broker's acknowledgement before it rejects (default 30 s). */
  readonly publishTimeoutMs?: number;
  /** How long subscribe() waits for the member to get its first assignment (default 30 s); see subscribe. */
  readonly joinTimeoutMs?: number;
  /** Whether a group with no committed offset starts from the earliest message (default: always). */
  readonly fromBeginning?: (topic: string, group: string) => boolean;
  /** kafkajs' retries of requests to the broker (connects, fetches, commits, metadata). */
  readonly retry?: RetryOptions;
}

/** A member of a consumer group: one per subscribe call. */
interface Member extends BusConsumer {
  readonly ready: Promise<void>;
}

const DEFAULT_RETRY = {
  initialRetryTime: 300,
  maxRetryTime: 10_000,
  retries: 8,
  factor: 0.2,
  multiplier: 2,
} as const satisfies RetryOptions;

/**
 * The Bus on Apache Kafka (kafkajs 2). Delivery rules, and how they map to Kafka:
 *
 * - **Publishing**: an idempotent producer (acks from all in-sync replicas, one
 *   request in flight, unlimited retries of retriable errors), JSON values, the
 *   message key as the Kafka key, so one key always lands on one partition.
 *   Publishes of one bus are sent one batch at a time (waiting calls are
 *   coalesced into the next batch): kafkajs gives a failed request's sequence
 *   numbers back, and a concurrent send could otherwise reuse them and be
 *   discarded by the broker as a duplicate. Calls are written in call order.
 *   publish() rejects after `publishTimeoutMs`; the batch may still be written
 *   later (at-least-once: the caller retries, consumers drop duplicates).
 * - **Topics** are created on first use with `partitions` partitions (auto
 *   creation is off, so no topic gets the broker's default count).
 * - **Groups**: each subscribe call is one member of `group`; members of a group
 *   split the partitions, so N subscribe calls are N concurrent handlers. A
 *   member handles one message at a time, in partition order, so messages of one
 *   key are handled in publish order within a group.
 * - **A new group starts from the earliest offset** (`fromBeginning`), unlike the
 *   memory bus, which only delivers what is published after the group's first
 *   member subscribed: a freshly deployed worker or results consumer must not
 *   miss jobs published before it came up.
 * - **Offsets are committed only after the handler resolved**, one message at a
 *   time, before the next message (autoCommit off, an explicit commit of offset+1).
 *   kafkajs' autoCommit would commit resolved offsets on an interval, on rebalance
 *   and on errors, which widens the window of redelivery after a crash; with an
 *   explicit commit a crash redelivers at most the message that was running.
 * - **A handler that throws** gets its message again: the member seeks back to it
 *   and pauses that partition for a backoff (`retryDelayMs`, doubling, capped),
 *   then fetches it again. Later messages of the partition wait, so per-key order
 *   holds; other partitions of the member go on. Nothing is skipped; a message
 *   that can never succeed blocks its partition, so handlers drop what they
 *   cannot parse (they do) instead of throwing. Only a record that is not a JSON
 *   object (nobody could handle it) is skipped, with an error in the log.
 * - **Long handlers** (scans run for minutes): kafkajs only heartbeats between
 *   messages, so while a handler runs the member heartbeats on a timer; the
 *   session timeout can stay short (fast detection of a dead member). A
 *   rebalance (a member joins or leaves) waits for running handlers to finish,
 *   up to `rebalanceTimeoutMs`, so that no message is taken away from a member
 *   that is still handling it.
 * - stop() / close() wait for the running handler (and its commit), then leave
 *   the group, so the partitions move to the other members at once.
 *
 * Errors from kafkajs are translated into InfrastructureError.
 */
export async function kafkaBus(options: KafkaBusOptions): Promise<Bus> {
  const logger = options.logger ?? stderrLogger;
  const partitions = options.partitions ?? 6;
  const sessionTimeout = options.sessionTimeoutMs ?? 30_000;
  const heartbeatInterval = options.heartbeatIntervalMs ?? 3_000;
  const rebalanceTimeout = options.rebalanceTimeoutMs ?? 30 * 60_000;
  const maxWaitTimeInMs = options.maxWaitTimeMs ?? 1_000;
  const retryDelayMs = options.retryDelayMs ?? 500;
  const maxRetryDelayMs = options.maxRetryDelayMs ?? 30_000;
  const publishTimeoutMs = options.publishTimeoutMs ?? 30_000;
  const joinTimeoutMs = options.joinTimeoutMs ?? 30_000;
  const fromBeginning = options.fromBeginning ?? (() => true);
  // Every field given: under NODE_ENV=test kafkajs otherwise falls back to its test defaults.
  const retry: RetryOptions = { ...DEFAULT_RETRY, ...options.retry };

  const kafka = new Kafka({
    clientId: options.clientId,
    brokers: [...options.brokers],
    connectionTimeout: 3_000,
    retry,
    logLevel: LogLevel.WARN,
    logCreator: () => (entry) => logKafkajs(logger, entry),
  });

  const producer: Producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
    createPartitioner: Partitioners.DefaultPartitioner, // murmur2, as the Java client
    // Unlimited: a send given up on would hand its sequence numbers to the next one (see above).
    retry: { ...retry, retries: Number.MAX_SAFE_INTEGER },
  });
  const admin: Admin = kafka.admin();
  try {
    await producer.connect();
    await admin.connect();
  } catch (error) {
    await Promise.allSettled([producer.disconnect(), admin.disconnect()]);
    throw infrastructure(`cannot connect to ${options.brokers.join(',')}`, error);
  }

  const members = new Set<Member>();
  const topicsReady = new Map<string, Promise<void>>();
  let closed = false;

  // ------------------------------------------------------------------ topics

  /**
   * Creates a topic and waits for its leaders. Right after a broker starts, or when
   * several clients create the same topic at once, the metadata answer can say
   * "unknown topic" or "no leader" for a moment: those are retried (bounded).
   */
  async function createTopicWithRetry(topic: string): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await admin.createTopics({ topics: [{ topic, numPartitions: partitions }], waitForLeaders: true });
        await admin.fetchTopicMetadata({ topics: [topic] });
        return;
      } catch (error) {
        const type = (error as { type?: string }).type ?? '';
        const transient = ['UNKNOWN_TOPIC_OR_PARTITION', 'LEADER_NOT_AVAILABLE', 'NOT_CONTROLLER', 'REQUEST_TIMED_OUT'];
        if (attempt >= 20 || !transient.includes(type)) throw error;
        await new Promise((resolve) => setTimeout(resolve, Math.min(2_000, 100 * attempt)));
      }
    }
  }

  function ensureTopic(topic: string): Promise<void> {
    let ready = topicsReady.get(topic);
    if (ready === undefined) {
      ready = createTopicWithRetry(topic);
      ready.catch(() => topicsReady.delete(topic)); // try again next time
      topicsReady.set(topic, ready);
    }
    return ready.catch((error: unknown) => {
      throw infrastructure(`cannot create topic ${topic}`, error);
    });
  }

  // ------------------------------------------------------------------ publishing

  interface Pending {
    readonly topic: string;
    readonly messages: Message[];
    readonly resolve: () => void;
    readonly reject: (error: unknown) => void;
  }
  const queue: Pending[] = [];
  /** The running flush loop, if any (it ends as soon as the queue is empty). */
  let flushing: Promise<void> | undefined;

  /** Bytes of records merged into one request: the broker refuses a record batch over ~1 MB. */
  const SEND_BUDGET_BYTES = MAX_MESSAGE_BYTES;
  const recordBytes = (message: Message) =>
    Buffer.byteLength(String(message.key ?? '')) + Buffer.byteLength(String(message.value ?? ''));

  /**
   * The waiting publishes in requests of at most SEND_BUDGET_BYTES (each record was
   * checked against the budget on publish, so a record is never too large alone):
   * merging never makes innocent records share a request the broker refuses.
   */
  function chunks(batch: readonly Pending[]): { pendings: Set<Pending>; byTopic: Map<string, Message[]> }[] {
    const out: { pendings: Set<Pending>; byTopic: Map<string, Message[]>; bytes: number }[] = [];
    let current: (typeof out)[number] | undefined;
    for (const pending of batch) {
      for (const message of pending.messages) {
        const bytes = recordBytes(message);
        if (!current || current.bytes + bytes > SEND_BUDGET_BYTES) {
          current = { pendings: new Set(), byTopic: new Map(), bytes: 0 };
          out.push(current);
        }
        current.pendings.add(pending);
        current.bytes += bytes;
        const list = current.byTopic.get(pending.topic);
        if (list) list.push(message);
        else current.byTopic.set(pending.topic, [message]);
      }
    }
    return out;
  }

  async function flush(): Promise<void> {
    try {
      while (queue.length > 0) {
        const batch = queue.splice(0);
        const failed = new Map<Pending, unknown>();
        for (const chunk of chunks(batch)) {
          // Later parts of a publish that already failed are not sent (its order would break).
          const live = [...chunk.pendings].filter((p) => !failed.has(p));
          if (live.length === 0) continue;
          try {
            await producer.sendBatch({
              acks: -1,
              topicMessages: [...chunk.byTopic]
                .map(([topic, messages]) => ({
                  topic,
                  messages: messages.filter((m) => live.some((p) => p.topic === topic && p.messages.includes(m))),
                }))
                .filter((t) => t.messages.length > 0),
            });
          } catch (error) {
            for (const pending of live) failed.set(pending, error);
          }
        }
        for (const pending of batch) {
          if (failed.has(pending)) pending.reject(failed.get(pending));
          else pending.resolve();
        }
      }
    } finally {
      // Synchronously after the last look at the queue: a send() from now on starts a new loop.
      flushing = undefined;
    }
  }

  function send(topic: string, messages: Message[]): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      queue.push({ topic, messages, resolve, reject });
      flushing ??= flush();
    });
  }

  // ------------------------------------------------------------------ consuming

  function groupMember(topic: string, group: string, handler: (message: BusMessage) => Promise<void>): Member {
    const consumer: Consumer = kafka.consumer({
      groupId: group,
      sessionTimeout,
      rebalanceTimeout,
      heartbeatInterval,
      maxWaitTimeInMs,
      allowAutoTopicCreation: false,
      retry: { ...retry, restartOnFailure: async () => !stopping },
    });
    const context = { topic, group };
    const resumeTimers = new Set<NodeJS.Timeout>();
    /** Failed attempts per `partition:offset` (for the backoff and the log). */
    const failures = new Map<string, number>();
    let stopping = false;
    let memberId = '';
    /** Settles with the first join, or fails when the consumer dies before it. */
    let settleJoin: { resolve: () => void; reject: (error: unknown) => void } | undefined;
    const firstJoin = new Promise<void>((resolve, reject) => (settleJoin = { resolve, reject }));
    firstJoin.catch(() => undefined); // handled in start()

    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      memberId = payload.memberId;
      logger.info(
        { ...context, memberId, partitions: payload.memberAssignment[topic] ?? [] },
        'kafka bus: member joined its group',
      );
      settleJoin?.resolve();
    });
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      if (stopping) return;
      if (!payload.restart) settleJoin?.reject(payload.error);
      logger.error(
        { ...context, memberId, err: payload.error, restart: payload.restart },
        payload.restart
          ? 'kafka bus: consumer crashed; kafkajs restarts it'
          : 'kafka bus: consumer crashed and will not restart; its partitions go to the other members',
      );
    });

    /** The handler, with heartbeats on a timer while it runs (kafkajs sends one only when it is due). */
    async function runHandler(message: BusMessage, heartbeat: () => Promise<void>): Promise<unknown> {
      let warned = false;
      const timer = setInterval(
        () => {
          heartbeat().catch((error: unknown) => {
            // REBALANCE_IN_PROGRESS is expected here: the rebalance waits for this handler.
            if (warned || isRebalancing(error)) return;
            warned = true;
            logger.warn({ ...context, memberId, err: error }, 'kafka bus: heartbeat failed while a handler runs');
          });
        },
        Math.max(100, Math.floor(heartbeatInterval / 2)),
      );
      try {
        await Promise.resolve().then(() => handler(message));
        return undefined;
      } catch (error) {
        return error ?? new Error('handler rejected without a reason');
      } finally {
        clearInterval(timer);
      }
    }

    async function commit(
      partition: number,
      offset: string,
      commitOffsets: EachBatchPayload['commitOffsetsIfNecessary'],
      isRunning: () => boolean,
    ): Promise<void> {
      const offsets = { topics: [{ topic, partitions: [{ partition, offset }] }] };
      for (let attempt = 1; ; attempt++) {
        try {
          await commitOffsets(offsets);
          return;
        } catch (error) {
          const giveUp = attempt >= 5 || isRebalancing(error) || kafkaErrorType(error) === 'UNKNOWN_MEMBER_ID';
          if (!giveUp && isRunning()) {
            await sleep(Math.min(2_000, 100 * 2 ** attempt));
            continue;
          }
          logger.warn(
            { ...context, memberId, partition, offset, err: error },
            'kafka bus: offset commit failed after the handler resolved; the message will be delivered again',
          );
          if (!isRunning()) return; // stopping: leaving the group hands the partition over anyway
          throw error; // kafkajs rejoins the group or fetches again from the last commit
        }
      }
    }

    async function eachBatch(payload: EachBatchPayload): Promise<void> {
      const { batch, resolveOffset, heartbeat, commitOffsetsIfNecessary, isRunning, isStale, pause } = payload;
      const { partition } = batch;
      for (const record of batch.messages) {
        if (!isRunning() || isStale() || stopping) return;
        const message = decode(record);
        const attemptKey = `${partition}:${record.offset}`;
        if (message === undefined) {
          logger.error(
            { ...context, partition, offset: record.offset, key: record.key?.toString('utf8') },
            'kafka bus: skipping a record whose value is not a JSON object',
          );
        } else {
          const error = await runHandler(message, heartbeat);
          if (error !== undefined) {
            const attempts = (failures.get(attemptKey) ?? 0) + 1;
            if (failures.size >= 10_000) failures.clear();
            failures.set(attemptKey, attempts);
            const delay = Math.min(maxRetryDelayMs, retryDelayMs * 2 ** (attempts - 1));
            logger.warn(
              { ...context, memberId, partition, offset: record.offset, key: message.key, attempts, err: error },
              `kafka bus: handler failed; redelivering in ${delay} ms`,
            );
            // Fetch this message again after the backoff; the rest of the batch is stale.
            consumer.seek({ topic, partition, offset: record.offset });
            const resume = pause();
            const timer = setTimeout(() => {
              resumeTimers.delete(timer);
              resume();
            }, delay);
            resumeTimers.add(timer);
            return;
          }
          failures.delete(attemptKey);
        }
        await commit(partition, nextOffset(record.offset), commitOffsetsIfNecessary, isRunning);
        resolveOffset(record.offset);
        await heartbeat(); // throws when a rebalance started: kafkajs rejoins now
      }
    }

    async function start(): Promise<void> {
      const fail = async (error: unknown): Promise<never> => {
        stopping = true;
        await consumer.disconnect().catch(() => undefined);
        throw infrastructure(`cannot subscribe to ${topic} as ${group}`, error);
      };
      try {
        await consumer.connect();
        await consumer.subscribe({ topics: [topic], fromBeginning: fromBeginning(topic, group) });
      } catch (error) {
        return fail(error);
      }
      // run() resolves once the member has joined the group. A join waits for every
      // member to rejoin, and a member busy with a long handler rejoins only when it is
      // done: stop waiting after joinTimeoutMs. Nothing is missed meanwhile (the group
      // keeps its offsets; a new group starts from the earliest message).
      consumer
        .run({ autoCommit: false, eachBatchAutoResolve: false, partitionsConsumedConcurrently: 1, eachBatch })
        .catch((error: unknown) => settleJoin?.reject(error));
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<'timeout'>(
        (resolve) => (timer = setTimeout(() => resolve('timeout'), joinTimeoutMs)),
      );
      try {
        const outcome = await Promise.race([firstJoin, timeout]);
        if (outcome === 'timeout') {
          logger.warn(
            { ...context },
            `kafka bus: member has not joined its group after ${joinTimeoutMs} ms; it keeps trying`,
          );
        }
      } catch (error) {
        return fail(error);
      } finally {
        clearTimeout(timer);
      }
    }

    let stopped: Promise<void> | undefined;
    return {
      ready: start(),
      stop() {
        stopped ??= (async () => {
          stopping = true;
          for (const timer of resumeTimers) clearTimeout(timer);
          resumeTimers.clear();
          try {
            await consumer.disconnect(); // waits for the running handler, then leaves the group
          } catch (error) {
            throw infrastructure(`cannot stop the consumer of ${topic} as ${group}`, error);
          }
        })();
        return stopped;
      },
    };
  }

  // ------------------------------------------------------------------ the port

  function assertOpen(): void {
    if (closed) throw new InfrastructureError('kafka bus: closed');
  }

  return {
    async publish(topic, messages) {
      assertOpen();
      if (messages.length === 0) return;
      // Serialize first: a value that is not JSON (a bigint, a cycle) throws here, as a caller error.
      const records: Message[] = messages.map((message) => ({
        key: message.key,
        value: JSON.stringify(message.value),
      }));
      // A record over the budget is refused here, alone: the broker would refuse it and,
      // merged with others, their request too. Permanent: retrying cannot help.
      for (const record of records) {
        const bytes = recordBytes(record);
        if (bytes > MAX_MESSAGE_BYTES) throw new MessageTooLargeError(topic, String(record.key), bytes);
      }
      await ensureTopic(topic);
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`not acknowledged within ${publishTimeoutMs} ms (it may still be written)`)),
          publishTimeoutMs,
        );
      });
      try {
        await Promise.race([send(topic, records), timeout]);
      } catch (error) {
        throw infrastructure(`publish to ${topic} failed`, error);
      } finally {
        clearTimeout(timer);
      }
    },

    async subscribe(topic, group, handler) {
      assertOpen();
      await ensureTopic(topic);
      const member = groupMember(topic, group, handler);
      members.add(member);
      try {
        await member.ready;
      } catch (error) {
        members.delete(member);
        throw error;
      }
      return {
        async stop() {
          members.delete(member);
          await member.stop();
        },
      };
    },

    async close() {
      if (closed) return;
      closed = true;
      const stops = await Promise.allSettled([...members].map((member) => member.stop()));
      members.clear();
      // Publishes already handed to the producer get their chance to finish.
      if (flushing) await Promise.race([flushing, sleep(publishTimeoutMs)]);
      const disconnects = await Promise.allSettled([producer.disconnect(), admin.disconnect()]);
      const failure = [...stops, ...disconnects].find((result) => result.status === 'rejected');
      if (failure) throw infrastructure('close failed', failure.reason);
    },
  };
}

// ---------------------------------------------------------------------- helpers

function decode(record: KafkaMessage): BusMessage | undefined {
  if (record.value === null) return undefined;
  try {
    const value: unknown = JSON.parse(record.value.toString('utf8'));
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
    return { key: record.key?.toString('utf8') ?? '', value: value as Record<string, unknown> };
  } catch {
    return undefined;
  }
}

/** The offset to commit after handling `offset`: the next one to read. */
function nextOffset(offset: string): string {
  return (BigInt(offset) + 1n).toString();
}

function kafkaErrorType(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'type' in error && typeof error.type === 'string'
    ? error.type
    : undefined;
}

function isRebalancing(error: unknown): boolean {
  const type = kafkaErrorType(error);
  return type === 'REBALANCE_IN_PROGRESS' || type === 'NOT_COORDINATOR_FOR_GROUP' || type === 'ILLEGAL_GENERATION';
}

function infrastructure(action: string, error: unknown): InfrastructureError {
  if (error instanceof InfrastructureError) return error;
  const reason = error instanceof Error ? error.message : String(error);
  return new InfrastructureError(`kafka bus: ${action}: ${reason}`, { cause: error });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function logKafkajs(logger: KafkaBusLogger, { namespace, level, log }: LogEntry): void {
  const { message, timestamp: _timestamp, logger: _logger, ...details } = log;
  const entry = { kafkajs: namespace, ...details };
  const text = `kafkajs: ${message}`;
  // kafkajs logs every error answer of the broker at ERROR, also the ones it retries or
  // that belong to the protocol (a heartbeat answered "rebalancing"); whoever made the
  // request handles the error, so these are warnings, and rebalances mere information.
  const answer = namespace === 'Connection' && message.startsWith('Response ');
  if (answer && String(details.error).includes('rebalancing')) logger.info(entry, text);
  else if (level <= LogLevel.ERROR && !answer) logger.error(entry, text);
  else if (level <= LogLevel.WARN) logger.warn(entry, text);
  else logger.info(entry, text);
}

const stderrLogger: KafkaBusLogger = {
  info: () => undefined,
  warn: (obj, msg) => console.error(msg ?? '', obj),
  error: (obj, msg) => console.error(msg ?? '', obj),
};
