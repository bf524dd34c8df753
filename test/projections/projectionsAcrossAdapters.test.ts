/**
 * Projection tests in both modes: the same events through the projection runner
 * give the same documents in the in-process read models and in MongoDB —
 * the previous version's history (upcast) plus a lifecycle history written by
 * today's decider (batches, a finding fixed and reopened, a deleted target).
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { cryptoIds } from '../../adapters/cryptoIds.js';
import { memoryReadModels } from '../../adapters/memoryReadModels.js';
import { mongoReadModels } from '../../adapters/mongoReadModels.js';
import type { EventStore, ReadModels, RecordedEvent } from '../../adapters/ports.js';
import { sqliteEventStore } from '../../adapters/sqliteEventStore.js';
import { upcastingEventStore } from '../../adapters/upcastingEventStore.js';
import { scans, targets } from '../../commands/aggregates.js';
import { EVENT_VERSIONS } from '../../domain/events.js';
import type { ScannerFinding } from '../../domain/shared/finding.js';
import { allProjections } from '../../projections/index.js';
import { projectionRunner } from '../../projections/projectionRunner.js';
import { requireServers } from '../support/distributedServers.js';

const history: { events: RecordedEvent[] } = JSON.parse(
  readFileSync(new URL('../fixtures/events/history-c4591fd.json', import.meta.url), 'utf8'),
);
const COLLECTIONS = ['profiles', 'api_keys', 'targets', 'scans', 'scan_findings', 'findings'];
const logger = pino({ level: 'silent' });
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

let clock = Date.parse('2026-11-01T10:00:00Z');
let counter = 0;
/** Deterministic ids, so both runs write the same documents. */
const nextId = () => `00000000-0000-4000-8000-${String((counter += 1)).padStart(12, '0')}`;
const at = () => new Date((clock += 1_000)).toISOString();

const finding = (port: number): ScannerFinding => ({
  name: `Open port ${port}/tcp`,
  risk: port === 23 ? 'high' : 'info',
  description: 'd',
  solution: 's',
  location: `web.example.test:${port}/tcp`,
  rule_id: 'nmap.open-port',
  engine: 'nmap',
});

/** Today's events: three scans of one target (22 and 23; then 22 only; then both again), then the target deleted. */
async function writeLifecycle(store: EventStore): Promise<void> {
  const deps = { store, ids: cryptoIds };
  const userId = nextId();
  const targetId = nextId();
  await targets.handle(deps, targetId, {
    type: 'AddTarget',
    targetId,
    userId,
    name: 'web',
    targetValue: 'web.example.test',
    targetType: 'hostname',
    description: '',
    now: at(),
  });
  for (const ports of [[22, 23], [22], [22, 23]]) {
    const scanId = nextId();
    await scans.handle(deps, scanId, {
      type: 'RequestScan',
      scanId,
      userId,
      targetId,
      targetName: 'web',
      targetValue: 'web.example.test',
      targetType: 'hostname',
      scannerType: 'nmap',
      scanProfile: 'quick',
      coverage: 'tcp:top1000',
      scanConfig: { scan_type: 'quick' },
      credits: 0,
      timeoutMs: 60_000,
      now: at(),
    });
    await scans.handle(deps, scanId, { type: 'QueueScan', attempt: 1, now: at() });
    await scans.handle(deps, scanId, { type: 'StartScan', attempt: 1, workerId: 'w', now: at() });
    for (const [batch, port] of ports.entries()) {
      await scans.handle(deps, scanId, {
        type: 'ReportFindings',
        attempt: 1,
        batch,
        findings: [finding(port)],
        now: at(),
      });
    }
    await scans.handle(deps, scanId, {
      type: 'CompleteScan',
      attempt: 1,
      findingsCount: ports.length,
      batches: ports.length,
      scanResult: { open_ports: [], host_info: { status: 'up', latency: null }, hosts: [] },
      now: at(),
    });
  }
  await targets.handle(deps, targetId, { type: 'DeleteTarget', userId, now: at() });
}

async function project(readModels: ReadModels): Promise<Record<string, unknown[]>> {
  const dir = mkdtempSync(join(tmpdir(), 'secably-projections-'));
  dirs.push(dir);
  const raw = sqliteEventStore({ path: join(dir, 'events.sqlite') });
  for (const event of history.events) {
    await raw.appendToStream(
      event.streamName,
      [{ id: event.id, type: event.type, data: event.data, metadata: event.metadata }],
      {
        expectedRevision: event.revision === 0 ? 'no_stream' : event.revision - 1,
      },
    );
  }
  const store = upcastingEventStore(raw, EVENT_VERSIONS);
  clock = Date.parse('2026-11-01T10:00:00Z');
  counter = 0;
  await writeLifecycle(store);
  const runner = projectionRunner({ store, readModels, projections: allProjections, logger });
  await runner.start();
  await runner.waitFor(await store.headPosition(), 60_000);
  await runner.stop();
  const out: Record<string, unknown[]> = {};
  for (const name of COLLECTIONS) {
    const docs = await readModels.collection(name).find({}, { sort: { _id: 1 } });
    out[name] = docs.map(({ _position: _p, ...doc }) => doc);
  }
  await store.close();
  return out;
}

describe('projections give the same documents in both modes', () => {
  const mongoUrl = requireServers('mongo');

  it('in process: the lifecycle history makes a fixed-then-reopened finding, and a deleted target drops its findings', async () => {
    const docs = await project(memoryReadModels());
    const fromFixture = docs.findings!.filter((f: any) => f.target_value === '127.0.0.1');
    expect(fromFixture.length).toBeGreaterThan(0);
    // The lifecycle target was deleted: its findings are gone, its scan rows remain.
    expect(docs.findings!.filter((f: any) => f.target_value === 'web.example.test')).toEqual([]);
    const rows = docs.scan_findings!.filter((f: any) => f.location === 'web.example.test:23/tcp');
    expect(rows).toHaveLength(2);
    const lifecycleScans = docs.scans!.filter((s: any) => s.website_url === 'web.example.test') as any[];
    lifecycleScans.sort((a, b) => a.created_at.localeCompare(b.created_at));
    expect(lifecycleScans.map((s) => [s.new_findings, s.fixed_findings])).toEqual([
      [null, null],
      [0, 1],
      [1, 0],
    ]);
  });

  it.skipIf(mongoUrl === undefined)(
    'MongoDB holds exactly what the in-process read models hold',
    { timeout: 120_000 },
    async () => {
      const database = `secably_test_projections_${randomUUID().slice(0, 8)}`;
      const mongo = await mongoReadModels({ url: mongoUrl!, database });
      try {
        const inMemory = await project(memoryReadModels());
        const inMongo = await project(mongo);
        for (const name of COLLECTIONS) {
          expect(inMongo[name]!.length, name).toBe(inMemory[name]!.length);
          expect(JSON.parse(JSON.stringify(inMongo[name])), name).toEqual(JSON.parse(JSON.stringify(inMemory[name])));
        }
      } finally {
        await mongo.close();
        const raw = await MongoClient.connect(mongoUrl!);
        await raw.db(database).dropDatabase();
        await raw.close();
      }
    },
  );
});
