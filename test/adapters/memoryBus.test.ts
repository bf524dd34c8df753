import { describe, expect, it } from 'vitest';
import { memoryBus, type FailedDelivery } from '../../adapters/memoryBus.js';
import { waitFor } from '../support/waitFor.js';
import { busContract } from './bus.contract.js';

busContract('memoryBus', async () => ({ bus: memoryBus({ retryDelayMs: 10 }) }));

describe('memoryBus', () => {
  it('drops a message after maxAttempts, tells onError, and moves on to the next of its key', async () => {
    const dropped: [unknown, FailedDelivery][] = [];
    const bus = memoryBus({
      maxAttempts: 3,
      retryDelayMs: 1,
      onError: (error, failed) => dropped.push([error, failed]),
    });
    const attempts: number[] = [];
    const failure = new Error('always fails');
    await bus.subscribe('jobs', 'workers', async (m) => {
      attempts.push(m.value.n as number);
      if (m.value.n === 0) throw failure;
    });
    await bus.publish('jobs', [
      { key: 'scan-1', value: { n: 0 } },
      { key: 'scan-1', value: { n: 1 } },
    ]);
    await waitFor(() => expect(attempts).toEqual([0, 0, 0, 1]));
    expect(dropped).toEqual([
      [
        failure,
        {
          topic: 'jobs',
          group: 'workers',
          message: { key: 'scan-1', value: { n: 0 } },
          attempts: 3,
        },
      ],
    ]);
    await bus.close();
  });

  it('keeps the messages of a group whose members all stopped for its next member', async () => {
    const bus = memoryBus();
    const first = await bus.subscribe('jobs', 'workers', async () => undefined);
    await first.stop();
    await bus.publish('jobs', [{ key: 'scan-1', value: { n: 1 } }]);
    const handled: unknown[] = [];
    await bus.subscribe('jobs', 'workers', async (m) => void handled.push(m.value.n));
    await waitFor(() => expect(handled).toEqual([1]));
    await bus.close();
  });

  it('rejects a value that does not survive JSON, as a Kafka producer would', async () => {
    const bus = memoryBus();
    await bus.subscribe('jobs', 'workers', async () => undefined);
    await expect(bus.publish('jobs', [{ key: 'k', value: { big: 1n } }])).rejects.toThrow();
    await bus.close();
  });
});
