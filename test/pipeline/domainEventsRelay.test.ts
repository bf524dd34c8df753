import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import kafkajs from 'kafkajs';
import { afterEach, describe, expect, it } from 'vitest';
import { kafkaBus } from '../../adapters/kafkaBus.js';
import { memoryBus } from '../../adapters/memoryBus.js';
import type { Bus, BusMessage, EventStore, EventToAppend } from '../../adapters/ports.js';
import { memoryCheckpoints } from '../../adapters/sqliteCheckpoints.js';
import { sqliteEventStore } from '../../adapters/sqliteEventStore.js';
import { DOMAIN_EVENTS_TOPIC, domainEventsRelay } from '../../pipeline/domainEventsRelay.js';
import { renderEventsDoc } from '../../scripts/eventsDoc.js';
import { requireServers } from '../support/distributedServers.js';
import { waitFor, within } from '../support/waitFor.js';

const brokersEnv = requireServers('kafka');
const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };
const at = '2026-03-01T12:00:00.000Z';

const event = (type: string, data: Record<string, unknown>): EventToAppend => ({ id: randomUUID(), type, data });

/** A user who registers, adds a target and deletes it: two streams, interleaved. */
async function appendHistory(store: EventStore, userId: string, targetId: string): Promise<void> {
  await store.appendToStream(`user-${userId}`, [
    event('UserRegistered', {
      userId,
      email: 'ada@example.com',
      firstName: 'Ada',
      lastName: 'Lovelace',
      passwordHash: 'scrypt$15$8$1$c2FsdA$a2V5',
      registeredAt: at,
    }),
  ]);
  await store.appendToStream(`target-${targetId}`, [
    event('TargetAdded', {
      targetId,
      userId,
      name: 'home',
      targetValue: 'example.com',
      targetType: 'domain',
      description: '',
      addedAt: at,
    }),
  ]);
  await store.appendToStream(`user-${userId}`, [
    event('ApiKeyCreated', { userId, keyId: 'k1', name: 'laptop', prefix: 'sk_k1', keyHash: 'ab12', createdAt: at }),
  ]);
  await store.appendToStream(`target-${targetId}`, [event('TargetDeleted', { targetId, userId, deletedAt: at })]);
}

describe('domainEventsRelay (sqlite store, memory bus)', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function setup(bus: Bus = memoryBus({ retryDelayMs: 1 })) {
    const store = sqliteEventStore({ path: ':memory:' });
    const checkpoints = memoryCheckpoints();
    const received: BusMessage[] = [];
    await bus.subscribe(DOMAIN_EVENTS_TOPIC, 'downstream', async (m) => void received.push(m));
    cleanups.push(
      () => bus.close(),
      () => store.close(),
    );
    return { store, bus, checkpoints, received };
  }

  it('publishes every event, keyed by stream, in stream order, with the documented envelope', async () => {
    const { store, bus, checkpoints, received } = await setup();
    const relay = domainEventsRelay({ store, bus, checkpoints, logger: silent });
    const [userId, targetId] = [randomUUID(), randomUUID()];
    await appendHistory(store, userId, targetId);
    await relay.start();
    cleanups.push(() => relay.stop());
    await waitFor(() => expect(received).toHaveLength(4));

    const recorded = await store.readAll();
    expect(received.map((m) => m.key)).toEqual(recorded.map((e) => e.streamName));
    for (const [i, message] of received.entries()) {
      const stored = recorded[i]!;
      expect(message.value).toEqual({
        id: stored.id,
        type: stored.type,
        stream: stored.streamName,
        revision: stored.revision,
        position: stored.position,
        recordedAt: stored.recordedAt,
        data: expect.any(Object),
        metadata: {},
      });
    }
    const byStream = (stream: string) => received.filter((m) => m.key === stream).map((m) => m.value.revision);
    expect(byStream(`user-${userId}`)).toEqual([0, 1]);
    expect(byStream(`target-${targetId}`)).toEqual([0, 1]);
    expect(await checkpoints.get('domain-events-relay')).toBe(recorded.at(-1)!.position);
  });

  it('never publishes credential material', async () => {
    const { store, bus, checkpoints, received } = await setup();
    const relay = domainEventsRelay({ store, bus, checkpoints, logger: silent });
    await relay.start();
    cleanups.push(() => relay.stop());
    const userId = randomUUID();
    await appendHistory(store, userId, randomUUID());
    await waitFor(() => expect(received).toHaveLength(4));
    const registered = received.find((m) => m.value.type === 'UserRegistered')!.value.data;
    expect(registered).toEqual({
      userId,
      email: 'ada@example.com',
      firstName: 'Ada',
      lastName: 'Lovelace',
      registeredAt: at,
    });
    const keyCreated = received.find((m) => m.value.type === 'ApiKeyCreated')!.value.data;
    expect(keyCreated).toEqual({ userId, keyId: 'k1', name: 'laptop', prefix: 'sk_k1', createdAt: at });
    // ... and the store still has it.
    expect((await store.readStream(`user-${userId}`))[0]!.data.passwordHash).toBe('scrypt$15$8$1$c2FsdA$a2V5');
  });

  it("skips the system's events and streams ($…)", async () => {
    const { store, bus, checkpoints, received } = await setup();
    const relay = domainEventsRelay({ store, bus, checkpoints, logger: silent });
    await relay.start();
    cleanups.push(() => relay.stop());
    await store.appendToStream('$$scan-1', [event('$metadata', { $maxAge: 60 })]);
    await store.appendToStream('$stats-127.0.0.1', [event('StatsCollected', {})]);
    await store.appendToStream('scan-1', [event('$>', { link: '0@scan-0' })]);
    await store.appendToStream('target-1', [event('TargetDeleted', { targetId: '1', userId: 'u', deletedAt: at })]);
    await waitFor(() => expect(received.map((m) => m.value.type)).toEqual(['TargetDeleted']));
    expect(await checkpoints.get('domain-events-relay')).toBe(await store.headPosition());
  });

  it('resumes after its checkpoint: a restart publishes only what came after', async () => {
    const { store, bus, checkpoints, received } = await setup();
    const first = domainEventsRelay({ store, bus, checkpoints, logger: silent });
    await first.start();
    await appendHistory(store, randomUUID(), randomUUID());
    await waitFor(() => expect(received).toHaveLength(4));
    await first.stop();
    await store.appendToStream('target-2', [event('TargetDeleted', { targetId: '2', userId: 'u', deletedAt: at })]);
    const second = domainEventsRelay({ store, bus, checkpoints, logger: silent });
    await second.start();
    cleanups.push(() => second.stop());
    await waitFor(() => expect(received).toHaveLength(5));
    expect(received.at(-1)!.value.stream).toBe('target-2');
    expect(new Set(received.map((m) => m.value.id)).size).toBe(5);
  });

  it('retries a failed publish (logged) instead of skipping the event', async () => {
    const inner = memoryBus({ retryDelayMs: 1 });
    let failuresLeft = 2;
    const flaky: Bus = {
      subscribe: (topic, group, handler) => inner.subscribe(topic, group, handler),
      close: () => inner.close(),
      async publish(topic, messages) {
        if (failuresLeft-- > 0) throw new Error('broker unavailable');
        await inner.publish(topic, messages);
      },
    };
    const { store, checkpoints, received } = await setup(flaky);
    const errors: object[] = [];
    const logger = { ...silent, error: (obj: object) => void errors.push(obj) };
    const relay = domainEventsRelay({ store, bus: flaky, checkpoints, logger });
    await relay.start();
    cleanups.push(() => relay.stop());
    await store.appendToStream('target-3', [event('TargetDeleted', { targetId: '3', userId: 'u', deletedAt: at })]);
    await waitFor(() => expect(received.map((m) => m.value.stream)).toEqual(['target-3']), 5_000);
    expect(errors).toHaveLength(2);
  });

  it('docs/events.md is what scripts/eventsDoc.ts generates (run `npx tsx scripts/eventsDoc.ts`)', () => {
    const path = fileURLToPath(new URL('../../docs/events.md', import.meta.url));
    expect(readFileSync(path, 'utf8')).toBe(renderEventsDoc());
  });
});

describe.skipIf(brokersEnv === undefined)('domainEventsRelay on Kafka', () => {
  const brokers = brokersEnv?.split(',').map((broker) => broker.trim()) ?? [];

  it('publishes the store to secably.events.v1, where a new consumer group reads it from the start', async () => {
    // A prefix per run keeps this test's topic and group apart from any other user of the broker.
    const prefix = `secably-test-${randomUUID()}.`;
    const kafka = await kafkaBus({ brokers, clientId: 'secably-test-relay', logger: silent, maxWaitTimeMs: 250 });
    const bus: Bus = {
      publish: (topic, messages) => kafka.publish(prefix + topic, messages),
      subscribe: (topic, group, handler) => kafka.subscribe(prefix + topic, prefix + group, handler),
      close: () => kafka.close(),
    };
    const store = sqliteEventStore({ path: ':memory:' });
    const checkpoints = memoryCheckpoints();
    const relay = domainEventsRelay({ store, bus, checkpoints, logger: silent });
    try {
      const [userId, targetId] = [randomUUID(), randomUUID()];
      await appendHistory(store, userId, targetId);
      await relay.start();
      // Generous waits: kafkaBus.test.ts may be restarting the shared broker right now.
      await waitFor(
        async () => expect(await checkpoints.get('domain-events-relay')).toBe(await store.headPosition()),
        60_000,
      );
      // Subscribed after everything was published: a new group starts from the earliest offset.
      const received: BusMessage[] = [];
      await bus.subscribe(DOMAIN_EVENTS_TOPIC, 'downstream', async (m) => void received.push(m));
      await waitFor(() => expect(received).toHaveLength(4), 60_000);
      const byStream = (stream: string) => received.filter((m) => m.key === stream).map((m) => m.value.type);
      expect(byStream(`user-${userId}`)).toEqual(['UserRegistered', 'ApiKeyCreated']);
      expect(byStream(`target-${targetId}`)).toEqual(['TargetAdded', 'TargetDeleted']);
      expect(JSON.stringify(received)).not.toMatch(/passwordHash|keyHash/);
    } finally {
      await relay.stop();
      await within(bus.close(), 15_000);
      await store.close();
      const admin = new kafkajs.Kafka({
        clientId: 'secably-test-admin',
        brokers,
        logLevel: kafkajs.logLevel.NOTHING,
      }).admin();
      await admin.connect();
      await admin.deleteTopics({ topics: [prefix + DOMAIN_EVENTS_TOPIC] }).catch(() => undefined);
      await admin.disconnect();
    }
  }, 150_000);
});
