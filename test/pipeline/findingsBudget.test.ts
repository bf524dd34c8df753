/**
 * The size budget from end to end: a scan with 20,000 findings completes with every
 * event and every bus message under the bounds, and a result too large fails only
 * its own scan — on the embedded pieces (SQLite store, in-memory bus) and on the
 * distributed ones (EventStoreDB emulator, the real Kafka broker).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { cryptoIds } from '../../adapters/cryptoIds.js';
import { staticResolver } from '../../adapters/dnsResolver.js';
import { eventStoreDbEventStore } from '../../adapters/eventStoreDbEventStore.js';
import { kafkaBus } from '../../adapters/kafkaBus.js';
import { memoryBus } from '../../adapters/memoryBus.js';
import { namespacedBus } from '../../adapters/namespacedBus.js';
import {
  appendSize,
  MAX_APPEND_BYTES,
  MAX_MESSAGE_BYTES,
  type Bus,
  type Checkpoints,
  type EventStore,
  type RecordedEvent,
} from '../../adapters/ports.js';
import { sqliteEventStore } from '../../adapters/sqliteEventStore.js';
import { systemClock } from '../../adapters/systemClock.js';
import { upcastingEventStore } from '../../adapters/upcastingEventStore.js';
import { scans } from '../../commands/aggregates.js';
import { EVENT_VERSIONS } from '../../domain/events.js';
import { parseAllowList } from '../../domain/targets/targetPolicy.js';
import { scanDispatcher } from '../../pipeline/dispatcher.js';
import { resultsConsumer } from '../../pipeline/resultsConsumer.js';
import { scanWorker } from '../../pipeline/worker.js';
import { scannerRegistry } from '../../scanners/registry.js';
import { requireServers } from '../support/distributedServers.js';
import { startEventStoreDbEmulator, type EventStoreDbEmulator } from '../support/eventStoreDbEmulator.js';
import { echoScanner } from '../support/scanners/echo/echo.plugin.js';
import { waitFor } from '../support/waitFor.js';

const logger = pino({ level: 'silent' });
const allowed = parseAllowList('127.0.0.0/8');
if (!allowed.ok) throw new Error(allowed.error);

interface Recorded {
  readonly appends: number[];
  readonly messages: number[];
}

/** The store and the bus, recording the size of every append and every message. */
function spying(store: EventStore, bus: Bus, recorded: Recorded): { store: EventStore; bus: Bus } {
  return {
    store: {
      ...store,
      appendToStream: (stream, events, options) => {
        recorded.appends.push(appendSize(events));
        return store.appendToStream(stream, events, options);
      },
    },
    bus: {
      ...bus,
      publish: (topic, messages) => {
        for (const m of messages)
          recorded.messages.push(Buffer.byteLength(m.key) + Buffer.byteLength(JSON.stringify(m.value)));
        return bus.publish(topic, messages);
      },
    },
  };
}

function memoryCheckpoints(): Checkpoints {
  const positions = new Map<string, number>();
  return {
    get: async (name) => positions.get(name),
    set: async (name, position) => void positions.set(name, position),
    close: async () => undefined,
  };
}

async function pipeline(rawStore: EventStore, rawBus: Bus) {
  const recorded: Recorded = { appends: [], messages: [] };
  const { store, bus } = spying(upcastingEventStore(rawStore, EVENT_VERSIONS), rawBus, recorded);
  const deps = { store, bus, clock: systemClock, ids: cryptoIds, logger };
  const results = resultsConsumer(deps);
  const dispatcher = scanDispatcher({ ...deps, checkpoints: memoryCheckpoints(), readModels: undefined as never });
  const worker = scanWorker({
    bus,
    scanners: scannerRegistry([echoScanner]),
    targetGuard: { resolver: staticResolver({}), allowedTargets: allowed.ok ? allowed.cidrs : [] },
    clock: systemClock,
    logger,
    workerId: 'budget-test',
    concurrency: 2,
  });
  await results.start();
  await worker.start();
  await dispatcher.start();

  async function scan(config: Record<string, unknown>) {
    const scanId = cryptoIds.uuid();
    await scans.handle(deps, scanId, {
      type: 'RequestScan',
      scanId,
      userId: cryptoIds.uuid(),
      targetId: cryptoIds.uuid(),
      targetName: 'loopback',
      targetValue: '127.0.0.1',
      targetType: 'ip',
      scannerType: 'echo',
      scanProfile: 'light',
      scanConfig: echoScanner.configSchema.parse(config),
      credits: 0,
      timeoutMs: 60_000,
      now: systemClock.now().toISOString(),
    });
    return scanId;
  }

  async function ended(scanId: string, timeoutMs: number): Promise<{ last: RecordedEvent; events: RecordedEvent[] }> {
    const found = await waitFor(
      async () => {
        const events = await store.readStream(`scan-${scanId}`);
        const last = events.at(-1);
        return last && ['ScanCompleted', 'ScanFailed'].includes(last.type) ? { last, events } : false;
      },
      timeoutMs,
      50,
    );
    if (!found) throw new Error('unreachable');
    return found;
  }

  return {
    recorded,
    scan,
    ended,
    async stop() {
      await dispatcher.stop();
      await worker.stop();
      await results.stop();
    },
  };
}

function budgetSuite(name: string, setup: () => Promise<{ store: EventStore; bus: Bus; close(): Promise<void> }>) {
  describe(name, () => {
    it(
      '20,000 findings: every event and bus message under the bounds; the scan completes with all of them',
      { timeout: 240_000 },
      async () => {
        const { store, bus, close } = await setup();
        const p = await pipeline(store, bus);
        try {
          const scanId = await p.scan({ findings: 20_000, evidence_bytes: 200 });
          const { last, events } = await p.ended(scanId, 200_000);
          expect(last.type).toBe('ScanCompleted');
          expect(last.data.findingsCount).toBe(20_000);
          const batches = events.filter((e) => e.type === 'FindingsReported');
          expect(batches.length).toBeGreaterThan(1);
          expect(batches.reduce((n, e) => n + (e.data.findings as unknown[]).length, 0)).toBe(20_000);
          expect(Math.max(...p.recorded.appends)).toBeLessThan(MAX_APPEND_BYTES / 2);
          expect(Math.max(...p.recorded.messages)).toBeLessThan(MAX_MESSAGE_BYTES / 2);
          // One message in all would have been several megabytes.
          expect(p.recorded.messages.reduce((a, b) => a + b, 0)).toBeGreaterThan(4 * MAX_MESSAGE_BYTES);
        } finally {
          await p.stop();
          await close();
        }
      },
    );

    it('a result too large fails only its own scan', { timeout: 120_000 }, async () => {
      const { store, bus, close } = await setup();
      const p = await pipeline(store, bus);
      try {
        const [big, small] = await Promise.all([p.scan({ result_bytes: 1_500_000 }), p.scan({ findings: 5 })]);
        const bigEnd = await p.ended(big, 60_000);
        expect(bigEnd.last.type).toBe('ScanFailed');
        expect(bigEnd.last.data.code).toBe('result_too_large');
        const smallEnd = await p.ended(small, 60_000);
        expect(smallEnd.last.type).toBe('ScanCompleted');
        expect(smallEnd.last.data.findingsCount).toBe(5);
      } finally {
        await p.stop();
        await close();
      }
    });
  });
}

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

budgetSuite('size budget: SQLite store and in-memory bus', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'secably-budget-'));
  dirs.push(dir);
  const store = sqliteEventStore({ path: join(dir, 'events.sqlite') });
  const bus = memoryBus();
  return {
    store,
    bus,
    async close() {
      await bus.close();
      await store.close();
    },
  };
});

const brokers = requireServers('kafka');
describe.skipIf(brokers === undefined)('against the distributed servers', () => {
  let emulator: EventStoreDbEmulator;
  afterAll(async () => emulator?.stop());
  budgetSuite('size budget: EventStoreDB (emulator) and the real Kafka broker', async () => {
    emulator ??= await startEventStoreDbEmulator();
    const store = eventStoreDbEventStore({ connectionString: emulator.connectionString });
    const bus = namespacedBus(
      await kafkaBus({ brokers: (brokers ?? '').split(','), clientId: 'secably-budget-test', partitions: 3 }),
      `budget-${cryptoIds.uuid().slice(0, 8)}.`,
    );
    return {
      store,
      bus,
      async close() {
        await bus.close();
        await store.close();
      },
    };
  });
});
