import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MAX_MESSAGE_BYTES, MessageTooLargeError, type Bus, type BusMessage } from '../../adapters/ports.js';
import { deferred, sleep, waitFor, within } from '../support/waitFor.js';

export interface BusUnderTest {
  readonly bus: Bus;
  /** Runs after the suite closed the bus (delete topics…). */
  readonly cleanup?: () => Promise<void>;
}

/**
 * The behaviour every Bus adapter must have. Topics and groups are unique per
 * test; consumers subscribe before anything is published. Delivery is
 * at-least-once, but in these steady-state runs (no crash, no rebalance) each
 * message must be handled exactly once per group.
 */
export function busContract(name: string, create: () => Promise<BusUnderTest>): void {
  describe(`Bus contract: ${name}`, () => {
    let bus: Bus;
    let cleanup: (() => Promise<void>) | undefined;
    let topic: string;

    const unique = (prefix: string): string => `${prefix}-${randomUUID()}`;
    const message = (key: string, n: number): BusMessage => ({ key, value: { n, key } });
    const numberOf = (received: BusMessage): number => received.value.n as number;

    beforeEach(async () => {
      ({ bus, cleanup } = await create());
      topic = unique('topic');
    });

    afterEach(async () => {
      await within(bus.close());
      await cleanup?.();
    });

    it('delivers every message to every group, as published', async () => {
      const first: BusMessage[] = [];
      const second: BusMessage[] = [];
      await bus.subscribe(topic, unique('group'), async (m) => void first.push(m));
      await bus.subscribe(topic, unique('group'), async (m) => void second.push(m));
      const published = Array.from({ length: 5 }, (_, n) => message(`scan-${n}`, n));
      await bus.publish(topic, published);
      await waitFor(() => expect(first).toHaveLength(5));
      await waitFor(() => expect(second).toHaveLength(5));
      const byNumber = (a: BusMessage, b: BusMessage): number => numberOf(a) - numberOf(b);
      expect([...first].sort(byNumber)).toEqual(published);
      expect([...second].sort(byNumber)).toEqual(published);
    });

    it('refuses a message over the size budget alone: publishes sent at the same time are delivered', async () => {
      const received: BusMessage[] = [];
      await bus.subscribe(topic, unique('group'), async (m) => void received.push(m));
      const big: BusMessage = { key: 'scan-big', value: { blob: 'x'.repeat(MAX_MESSAGE_BYTES) } };
      // Near the budget each: merged into one request they would exceed it together.
      const near = (n: number): BusMessage => ({
        key: `scan-${n}`,
        value: { n, blob: 'y'.repeat(MAX_MESSAGE_BYTES - 200) },
      });
      const outcomes = await Promise.allSettled([
        bus.publish(topic, [message('scan-a', 1)]),
        bus.publish(topic, [big]),
        bus.publish(topic, [near(2)]),
        bus.publish(topic, [near(3)]),
        bus.publish(topic, [message('scan-b', 4)]),
      ]);
      expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'fulfilled', 'fulfilled']);
      expect((outcomes[1] as PromiseRejectedResult).reason).toBeInstanceOf(MessageTooLargeError);
      await waitFor(() => expect(received).toHaveLength(4), 20_000);
      expect(received.map(numberOf).sort()).toEqual([1, 2, 3, 4]);
    });

    it('splits the messages between the members of a group, each handled once', async () => {
      const group = unique('group');
      const byMember: number[][] = [[], []];
      for (const handled of byMember) {
        await bus.subscribe(topic, group, async (m) => {
          handled.push(numberOf(m));
          await sleep(1);
        });
      }
      await bus.publish(
        topic,
        Array.from({ length: 40 }, (_, n) => message(`scan-${n}`, n)),
      );
      await waitFor(() => expect(byMember.flat()).toHaveLength(40));
      await sleep(30);
      expect(byMember.flat().sort((a, b) => a - b)).toEqual(Array.from({ length: 40 }, (_, n) => n));
      for (const handled of byMember) expect(handled.length).toBeGreaterThan(0);
    });

    it('gives a member one message at a time, awaiting its handler', async () => {
      let running = 0;
      let mostAtOnce = 0;
      const handled: number[] = [];
      await bus.subscribe(topic, unique('group'), async (m) => {
        running += 1;
        mostAtOnce = Math.max(mostAtOnce, running);
        await sleep(2);
        handled.push(numberOf(m));
        running -= 1;
      });
      await bus.publish(
        topic,
        Array.from({ length: 10 }, (_, n) => message(`scan-${n}`, n)),
      );
      await waitFor(() => expect(handled).toHaveLength(10));
      expect(mostAtOnce).toBe(1);
    });

    it('delivers the messages of one key in publish order to a group', async () => {
      const group = unique('group');
      const handled = new Map<string, number[]>();
      const handler = async (m: BusMessage): Promise<void> => {
        await sleep(Math.random() * 3);
        handled.set(m.key, [...(handled.get(m.key) ?? []), numberOf(m)]);
      };
      await bus.subscribe(topic, group, handler);
      await bus.subscribe(topic, group, handler);
      await bus.subscribe(topic, group, handler);
      const keys = ['scan-a', 'scan-b', 'scan-c'];
      for (let batch = 0; batch < 3; batch++) {
        await bus.publish(
          topic,
          Array.from({ length: 12 }, (_, i) => message(keys[i % 3]!, batch * 12 + i)),
        );
      }
      await waitFor(() => expect([...handled.values()].flat()).toHaveLength(36));
      for (const [index, key] of keys.entries()) {
        expect(handled.get(key)).toEqual(Array.from({ length: 12 }, (_, i) => index + i * 3));
      }
    });

    it('redelivers a message whose handler threw, before the next message with its key', async () => {
      const attempts: string[] = [];
      let failuresLeft = 2;
      await bus.subscribe(topic, unique('group'), async (m) => {
        attempts.push(`${m.key}:${numberOf(m)}`);
        if (numberOf(m) === 0 && failuresLeft-- > 0) throw new Error('worker crashed');
      });
      await bus.publish(topic, [message('scan-a', 0), message('scan-a', 1)]);
      await waitFor(() => expect(attempts).toEqual(['scan-a:0', 'scan-a:0', 'scan-a:0', 'scan-a:1']));
    });

    it('hands each group its own copy of the value', async () => {
      const value = { n: 1, target: { host: 'a.example', ports: [80] } };
      const seen: BusMessage[][] = [[], []];
      await bus.subscribe(topic, unique('group'), async (m) => {
        (m.value.target as { ports: number[] }).ports.push(443);
        seen[0]!.push(m);
      });
      await bus.subscribe(topic, unique('group'), async (m) => void seen[1]!.push(m));
      await bus.publish(topic, [{ key: 'scan-1', value }]);
      value.target.ports.push(8080);
      await waitFor(() => expect(seen.flat()).toHaveLength(2));
      expect(seen[1]![0]!.value).toEqual({ n: 1, target: { host: 'a.example', ports: [80] } });
    });

    it('a stopped consumer gets nothing more; the other members of its group carry on', async () => {
      const group = unique('group');
      const stoppedOne: number[] = [];
      const remaining: number[] = [];
      const consumer = await bus.subscribe(topic, group, async (m) => void stoppedOne.push(numberOf(m)));
      await bus.subscribe(topic, group, async (m) => void remaining.push(numberOf(m)));
      await within(consumer.stop());
      await bus.publish(
        topic,
        Array.from({ length: 6 }, (_, n) => message(`scan-${n}`, n)),
      );
      await waitFor(() => expect(remaining).toHaveLength(6));
      expect(stoppedOne).toEqual([]);
    });

    it('stop() waits for the message being handled', async () => {
      const gate = deferred();
      const started: number[] = [];
      const handled: number[] = [];
      const consumer = await bus.subscribe(topic, unique('group'), async (m) => {
        started.push(numberOf(m));
        await gate.promise;
        handled.push(numberOf(m));
      });
      await bus.publish(topic, [message('scan-1', 1)]);
      await waitFor(() => expect(started).toEqual([1]));
      let stopped = false;
      const stopping = consumer.stop().then(() => (stopped = true));
      await sleep(20);
      expect(stopped).toBe(false);
      gate.resolve();
      await within(stopping);
      expect(handled).toEqual([1]);
    });

    it('close() waits for running handlers, then nothing is delivered and publish fails', async () => {
      const gate = deferred();
      const started: number[] = [];
      const handled: number[] = [];
      await bus.subscribe(topic, unique('group'), async (m) => {
        started.push(numberOf(m));
        await gate.promise;
        handled.push(numberOf(m));
      });
      await bus.publish(topic, [message('scan-1', 1), message('scan-2', 2)]);
      await waitFor(() => expect(started).toEqual([1]));
      let closed = false;
      const closing = bus.close().then(() => (closed = true));
      await sleep(20);
      expect(closed).toBe(false);
      gate.resolve();
      await within(closing);
      expect(handled).toEqual([1]);
      await sleep(20);
      expect(handled).toEqual([1]);
      await expect(bus.publish(topic, [message('scan-3', 3)])).rejects.toThrow();
    });
  });
}
