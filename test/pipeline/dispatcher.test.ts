import { afterEach, describe, expect, it } from 'vitest';
import { memoryBus } from '../../adapters/memoryBus.js';
import { memoryReadModels } from '../../adapters/memoryReadModels.js';
import type { BusMessage } from '../../adapters/ports.js';
import { memoryCheckpoints } from '../../adapters/sqliteCheckpoints.js';
import { sqliteEventStore } from '../../adapters/sqliteEventStore.js';
import { fixedClock } from '../../adapters/systemClock.js';
import { cryptoIds } from '../../adapters/cryptoIds.js';
import { accounts, scans, targets } from '../../commands/aggregates.js';
import { scanDispatcher } from '../../pipeline/dispatcher.js';
import { topics } from '../../pipeline/topics.js';

const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };
const NOW = '2026-11-10T12:00:00.000Z';

describe('the dispatcher', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it('cancels, instead of queueing, a scan requested while its target was being deleted', async () => {
    const store = sqliteEventStore({ path: ':memory:' });
    const bus = memoryBus({ retryDelayMs: 1 });
    cleanups.push(
      () => store.close(),
      () => bus.close(),
    );
    const deps = { store, ids: cryptoIds, clock: fixedClock(NOW) };
    const jobs: BusMessage[] = [];
    await bus.subscribe(topics.jobs('nmap'), 'test', async (message) => void jobs.push(message));
    const userId = cryptoIds.uuid();
    const targetId = cryptoIds.uuid();
    const scanId = cryptoIds.uuid();
    await accounts.handle(deps, userId, { type: 'OpenAccount', accountId: userId, now: NOW });
    await accounts.handle(deps, userId, { type: 'PurchaseCredits', credits: 1, reason: 'test', now: NOW });
    await targets.handle(deps, targetId, {
      type: 'AddTarget',
      targetId,
      userId,
      name: 'lo',
      targetValue: '127.0.0.1',
      targetType: 'ip',
      description: '',
      now: NOW,
    });
    // The request read the target (still there), then the delete went through, then it appended.
    await targets.handle(deps, targetId, { type: 'DeleteTarget', userId, now: NOW });
    await accounts.handle(deps, userId, { type: 'ReserveCredits', scanId, credits: 1, now: NOW });
    await scans.handle(deps, scanId, {
      type: 'RequestScan',
      scanId,
      userId,
      targetId,
      targetName: 'lo',
      targetValue: '127.0.0.1',
      targetType: 'ip',
      scannerType: 'nmap',
      scanProfile: 'full',
      scanConfig: { scan_type: 'full' },
      credits: 1,
      timeoutMs: 60_000,
      now: NOW,
    });

    const dispatcher = scanDispatcher({
      ...deps,
      bus,
      checkpoints: memoryCheckpoints(),
      readModels: memoryReadModels(),
      logger: silent,
    });
    await dispatcher.dispatch(scanId);
    expect((await scans.state(deps, scanId)).state.status).toBe('cancelled');
    expect(jobs).toEqual([]);
  });
});
