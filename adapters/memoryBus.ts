import {
  InfrastructureError,
  type Bus,
  type BusConsumer,
  type BusMessage,
  MAX_MESSAGE_BYTES,
  MessageTooLargeError,
} from './ports.js';

/** A message dropped after its last failed attempt. */
export interface FailedDelivery {
  readonly topic: string;
  readonly group: string;
  readonly message: BusMessage;
  readonly attempts: number;
}

export interface MemoryBusOptions {
  /** Deliveries of one message to one group before it is dropped (default 5). */
  readonly maxAttempts?: number;
  /** Wait before redelivery number n is n × retryDelayMs (default 100 ms). */
  readonly retryDelayMs?: number;
  /** Told about each dropped message (default: a line on stderr). */
  readonly onError?: (error: unknown, failed: FailedDelivery) => void;
}

interface Pending {
  /** The value as JSON: each delivery gets a fresh copy, as from Kafka. */
  readonly json: string;
  attempts: number;
}

interface Member {
  readonly handler: (message: BusMessage) => Promise<void>;
  /** The handler call in progress (one at a time per member). */
  running: Promise<void> | undefined;
}

interface Group {
  readonly topic: string;
  readonly name: string;
  readonly members: Member[];
  /** Round-robin cursor over `members`. */
  next: number;
  /** Undelivered messages per key, in publish order; the head may be in flight or waiting for a retry. */
  readonly queues: Map<string, Pending[]>;
  /** Keys whose head message can be handed out now (not in flight, not waiting for a retry). */
  readonly readyKeys: string[];
}

/**
 * Topics between the parts of one process, with Kafka's delivery rules: every
 * consumer group receives every message, the members of a group split them, a
 * member handles one message at a time, messages with the same key reach a
 * group in publish order (one in flight per key and group), and a message is
 * redelivered until its handler resolves (at most `maxAttempts` times).
 *
 * Like a Kafka group created with `fromBeginning: false`, a group only receives
 * what is published after its first member subscribed: subscribe before you
 * publish. A group whose members all stopped keeps its messages for the next one.
 */
export function memoryBus(options: MemoryBusOptions = {}): Bus {
  const maxAttempts = options.maxAttempts ?? 5;
  const retryDelayMs = options.retryDelayMs ?? 100;
  const onError = options.onError ?? logDroppedMessage;
  const topics = new Map<string, Map<string, Group>>();
  const retryTimers = new Set<NodeJS.Timeout>();
  const running = new Set<Promise<void>>();
  let closed = false;

  function groupOf(topic: string, name: string): Group {
    let groups = topics.get(topic);
    if (groups === undefined) {
      groups = new Map();
      topics.set(topic, groups);
    }
    let group = groups.get(name);
    if (group === undefined) {
      group = { topic, name, members: [], next: 0, queues: new Map(), readyKeys: [] };
      groups.set(name, group);
    }
    return group;
  }

  function idleMember(group: Group): Member | undefined {
    const count = group.members.length;
    for (let i = 0; i < count; i++) {
      const index = (group.next + i) % count;
      const member = group.members[index];
      if (member !== undefined && member.running === undefined) {
        group.next = index + 1;
        return member;
      }
    }
    return undefined;
  }

  /** Hands ready keys' head messages to idle members. */
  function pump(group: Group): void {
    while (!closed && group.readyKeys.length > 0) {
      const member = idleMember(group);
      const key = group.readyKeys[0];
      const pending = key === undefined ? undefined : group.queues.get(key)?.[0];
      if (member === undefined || key === undefined || pending === undefined) return;
      group.readyKeys.shift();
      deliver(group, member, key, pending);
    }
  }

  function deliver(group: Group, member: Member, key: string, pending: Pending): void {
    pending.attempts += 1;
    const message: BusMessage = { key, value: JSON.parse(pending.json) as Record<string, unknown> };
    const call: Promise<void> = Promise.resolve()
      .then(() => member.handler(message))
      .then(
        () => settle(group, key, undefined),
        (error: unknown) => settle(group, key, { error, message, attempts: pending.attempts }),
      )
      .finally(() => {
        member.running = undefined;
        running.delete(call);
        pump(group);
      });
    member.running = call;
    running.add(call);
  }

  function settle(
    group: Group,
    key: string,
    failure?: { error: unknown; message: BusMessage; attempts: number },
  ): void {
    if (closed) return;
    if (failure !== undefined && failure.attempts < maxAttempts) {
      // The message stays at the head of its key's queue, so later messages
      // with the same key wait for it.
      const timer = setTimeout(() => {
        retryTimers.delete(timer);
        group.readyKeys.push(key);
        pump(group);
      }, retryDelayMs * failure.attempts);
      retryTimers.add(timer);
      return;
    }
    if (failure !== undefined) {
      const { error, message, attempts } = failure;
      try {
        onError(error, { topic: group.topic, group: group.name, message, attempts });
      } catch {
        // A failing error reporter must not stop delivery.
      }
    }
    const queue = group.queues.get(key);
    queue?.shift();
    if (queue !== undefined && queue.length > 0) group.readyKeys.push(key);
    else group.queues.delete(key);
  }

  return {
    async publish(topic, messages) {
      if (closed) throw new InfrastructureError('memory bus: closed');
      const groups = [...(topics.get(topic)?.values() ?? [])];
      const serialized = messages.map((message) => ({
        key: message.key,
        json: JSON.stringify(message.value),
      }));
      // The same budget as Kafka's, so the embedded mode refuses what the distributed one would.
      for (const { key, json } of serialized) {
        const bytes = Buffer.byteLength(key) + Buffer.byteLength(json);
        if (bytes > MAX_MESSAGE_BYTES) throw new MessageTooLargeError(topic, key, bytes);
      }
      for (const group of groups) {
        for (const { key, json } of serialized) {
          const queue = group.queues.get(key);
          if (queue !== undefined) {
            queue.push({ json, attempts: 0 });
          } else {
            group.queues.set(key, [{ json, attempts: 0 }]);
            group.readyKeys.push(key);
          }
        }
        pump(group);
      }
    },

    async subscribe(topic, groupName, handler): Promise<BusConsumer> {
      if (closed) throw new InfrastructureError('memory bus: closed');
      const group = groupOf(topic, groupName);
      const member: Member = { handler, running: undefined };
      group.members.push(member);
      pump(group);
      return {
        async stop() {
          const index = group.members.indexOf(member);
          if (index >= 0) group.members.splice(index, 1);
          // Wait for the message it is handling; a failure is retried by the others.
          await member.running;
        },
      };
    },

    async close() {
      closed = true;
      for (const timer of retryTimers) clearTimeout(timer);
      retryTimers.clear();
      await Promise.all(running);
    },
  };
}

function logDroppedMessage(error: unknown, failed: FailedDelivery): void {
  console.error(
    `memory bus: dropped message with key ${failed.message.key} on ${failed.topic}/${failed.group} after ${failed.attempts} attempts:`,
    error,
  );
}
