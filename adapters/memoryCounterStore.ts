import type { CounterHit, CounterStore } from './ports.js';

export interface MemoryCounterStoreOptions {
  /** How often expired windows are dropped (default 60 s). */
  readonly sweepIntervalMs?: number;
}

interface Window {
  count: number;
  readonly resetAt: number;
}

/**
 * Fixed-window counters in this process. A key's window starts at its first
 * hit and covers [start, start + windowMs); the hit at `resetAt` opens a new one.
 *
 * Time is only what callers pass as `now` (a fixed clock in tests works), so the
 * sweep drops windows that ended before the latest `now` seen, not Date.now().
 * Every new key comes with an increment that moves that clock, so memory stays
 * bounded by the keys of the current windows.
 */
export function memoryCounterStore(options: MemoryCounterStoreOptions = {}): CounterStore {
  const windows = new Map<string, Window>();
  let latestNow = -Infinity;

  const sweeper = setInterval(() => {
    for (const [key, window] of windows) if (window.resetAt <= latestNow) windows.delete(key);
  }, options.sweepIntervalMs ?? 60_000);
  sweeper.unref();

  return {
    async increment(key, windowMs, now): Promise<CounterHit> {
      latestNow = Math.max(latestNow, now);
      let window = windows.get(key);
      if (window === undefined || window.resetAt <= now) {
        window = { count: 0, resetAt: now + windowMs };
        windows.set(key, window);
      }
      window.count += 1;
      return { count: window.count, resetAt: window.resetAt };
    },
    async get(key, now) {
      const window = windows.get(key);
      return window === undefined || window.resetAt <= now
        ? undefined
        : { count: window.count, resetAt: window.resetAt };
    },
    async decrement(key) {
      const window = windows.get(key);
      if (window !== undefined && window.count > 0) window.count -= 1;
    },
    async reset(key) {
      windows.delete(key);
    },
    async close() {
      clearInterval(sweeper);
      windows.clear();
    },
  };
}
