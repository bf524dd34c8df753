import { describe, expect, it } from 'vitest';
import { memoryCounterStore } from '../../adapters/memoryCounterStore.js';
import { sleep } from '../support/waitFor.js';
import { counterStoreContract } from './counterStore.contract.js';

counterStoreContract('memoryCounterStore', async () => ({ counters: memoryCounterStore() }));

describe('memoryCounterStore', () => {
  it('sweeps ended windows by the clock callers pass in, keeping current ones', async () => {
    const counters = memoryCounterStore({ sweepIntervalMs: 5 });
    const past = Date.UTC(2020, 0, 1); // a fixed clock far from Date.now() must still work
    await counters.increment('old', 1_000, past);
    await counters.increment('current', 60_000, past + 500);
    await counters.increment('current', 60_000, past + 2_000); // the clock moves past 'old'
    await sleep(30);
    // A surviving 'old' window would still count 2 at past + 999.
    expect(await counters.increment('old', 1_000, past + 999)).toEqual({
      count: 1,
      resetAt: past + 1_999,
    });
    expect(await counters.increment('current', 60_000, past + 2_001)).toEqual({
      count: 3,
      resetAt: past + 60_500,
    });
    await counters.close();
  });
});
