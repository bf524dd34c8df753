import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CounterStore } from '../../adapters/ports.js';

export interface CounterStoreUnderTest {
  readonly counters: CounterStore;
  /** Runs after the suite closed the store. */
  readonly cleanup?: () => Promise<void>;
}

/**
 * The behaviour every CounterStore adapter must have. Time moves through the
 * `now` argument only; keys are unique per test, so a shared server works too.
 */
export function counterStoreContract(name: string, create: () => Promise<CounterStoreUnderTest>): void {
  describe(`CounterStore contract: ${name}`, () => {
    let counters: CounterStore;
    let cleanup: (() => Promise<void>) | undefined;
    const minute = 60_000;
    const start = Date.now();
    const newKey = (): string => `rate:${randomUUID()}`;

    beforeEach(async () => {
      ({ counters, cleanup } = await create());
    });

    afterEach(async () => {
      await counters.close();
      await cleanup?.();
    });

    it('counts hits in a window that starts at the first hit', async () => {
      const key = newKey();
      expect(await counters.increment(key, minute, start)).toEqual({
        count: 1,
        resetAt: start + minute,
      });
      expect(await counters.increment(key, minute, start + 10)).toEqual({
        count: 2,
        resetAt: start + minute,
      });
      expect(await counters.increment(key, minute, start + minute - 1)).toEqual({
        count: 3,
        resetAt: start + minute,
      });
    });

    it('opens a new window from the first hit at or after resetAt', async () => {
      const key = newKey();
      await counters.increment(key, minute, start);
      await counters.increment(key, minute, start + 1);
      expect(await counters.increment(key, minute, start + minute)).toEqual({
        count: 1,
        resetAt: start + 2 * minute,
      });
      expect(await counters.increment(key, minute, start + minute + 5)).toEqual({
        count: 2,
        resetAt: start + 2 * minute,
      });
      const later = start + 10 * minute + 123;
      expect(await counters.increment(key, minute, later)).toEqual({
        count: 1,
        resetAt: later + minute,
      });
    });

    it('keeps keys apart, each with its own window length', async () => {
      const [a, b] = [newKey(), newKey()];
      await counters.increment(a, minute, start);
      await counters.increment(a, minute, start);
      expect(await counters.increment(b, 1_000, start + 5)).toEqual({
        count: 1,
        resetAt: start + 1_005,
      });
      expect(await counters.increment(a, minute, start + 6)).toEqual({
        count: 3,
        resetAt: start + minute,
      });
      expect(await counters.increment(b, 1_000, start + 2_000)).toEqual({
        count: 1,
        resetAt: start + 3_000,
      });
    });

    it('decrement takes one hit back, never below zero, keeping the window', async () => {
      const key = newKey();
      await counters.increment(key, minute, start);
      await counters.increment(key, minute, start);
      await counters.decrement(key);
      expect(await counters.increment(key, minute, start + 1)).toEqual({
        count: 2,
        resetAt: start + minute,
      });
      for (let i = 0; i < 5; i++) await counters.decrement(key);
      expect(await counters.increment(key, minute, start + 2)).toEqual({
        count: 1,
        resetAt: start + minute,
      });
      await counters.decrement(newKey()); // unknown key: no error
    });

    it('reset forgets the key: the next hit opens a new window', async () => {
      const [key, other] = [newKey(), newKey()];
      await counters.increment(key, minute, start);
      await counters.increment(key, minute, start);
      await counters.increment(other, minute, start);
      await counters.reset(key);
      expect(await counters.increment(key, minute, start + 100)).toEqual({
        count: 1,
        resetAt: start + 100 + minute,
      });
      expect(await counters.increment(other, minute, start + 100)).toEqual({
        count: 2,
        resetAt: start + minute,
      });
      await counters.reset(newKey()); // unknown key: no error
    });
  });
}
