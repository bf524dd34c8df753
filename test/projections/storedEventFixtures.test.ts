/**
 * Event evolution: streams written by the previous version of the code (before
 * plug-ins: test/fixtures/events/history-c4591fd.json, produced by commit c4591fd
 * with a registration, two targets, three nmap scans and a cancelled one) are read
 * by today's code through the upcasters and give the same read models as that code
 * built (test/fixtures/events/scans-c4591fd.json), plus today's findings model.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RecordedEvent } from '../../adapters/ports.js';
import { sqliteEventStore } from '../../adapters/sqliteEventStore.js';
import { upcastingEventStore } from '../../adapters/upcastingEventStore.js';
import { EVENT_VERSIONS } from '../../domain/events.js';
import { scanDecider } from '../../domain/scans/scan.decider.js';
import { FindingsReported, ScanEvent } from '../../domain/scans/scan.events.js';
import { findingFingerprint, Finding } from '../../domain/shared/finding.js';
import { scanView } from '../../http/scans.routes.js';
import type { FindingDocument } from '../../projections/findings.projection.js';
import type { ScanDocument } from '../../projections/scans.projection.js';
import { needsEmbedded, testRuntime, type TestRuntime } from '../support/testRuntime.js';

const fixture = (name: string) =>
  JSON.parse(readFileSync(new URL(`../fixtures/events/${name}`, import.meta.url), 'utf8'));
const history: { writtenBy: string; events: RecordedEvent[] } = fixture('history-c4591fd.json');
const oldScans: Record<string, any>[] = fixture('scans-c4591fd.json');

describe('upcasting stored events of the previous version', () => {
  it('FindingsReported v1 reads as a v2 batch: rule ids, engine, identity in the domain', () => {
    const v1 = history.events.filter((e) => e.type === 'FindingsReported');
    expect(v1.length).toBe(3);
    for (const event of v1) {
      expect(event.metadata.schemaVersion).toBeUndefined();
      const upcast = EVENT_VERSIONS.upcast(event);
      expect(upcast.metadata.schemaVersion).toBe(2);
      const data = FindingsReported.parse({ type: upcast.type, data: upcast.data }).data;
      expect(data.batch).toBe(0);
      expect(data.scanResult).toBeDefined();
      for (const finding of data.findings) {
        expect(Finding.parse(finding)).toEqual(finding);
        expect(finding.engine).toBe('nmap');
        expect(finding.fingerprint).toBe(
          findingFingerprint({
            targetId: data.targetId,
            scannerType: 'nmap',
            ruleId: finding.rule_id,
            location: finding.location,
          }),
        );
      }
      expect(data.findings.map((f) => f.rule_id)).toContain('nmap.telnet-service-exposed');
    }
  });

  it('every old stream folds with today’s deciders', () => {
    const byStream = new Map<string, RecordedEvent[]>();
    for (const e of history.events) byStream.set(e.streamName, [...(byStream.get(e.streamName) ?? []), e]);
    for (const [stream, events] of byStream) {
      if (!stream.startsWith('scan-')) continue;
      const state = events
        .map((e) => EVENT_VERSIONS.upcast(e))
        .map((e) => ScanEvent.parse({ type: e.type, data: e.data }))
        .reduce(scanDecider.evolve, scanDecider.initialState());
      expect(['completed', 'cancelled']).toContain(state.status);
    }
  });

  it('current events are written with their version and read unchanged', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'secably-upcast-'));
    try {
      const store = upcastingEventStore(sqliteEventStore({ path: join(dir, 'events.sqlite') }), EVENT_VERSIONS);
      await store.appendToStream('scan-x', [
        { id: '00000000-0000-4000-8000-000000000001', type: 'FindingsReported', data: { batch: 1, findings: [] } },
        { id: '00000000-0000-4000-8000-000000000002', type: 'ScanQueued', data: { attempt: 1 } },
      ]);
      const [reported, queued] = await store.readStream('scan-x');
      expect(reported?.metadata.schemaVersion).toBe(2);
      expect(reported?.data).toEqual({ batch: 1, findings: [] });
      expect(queued?.metadata.schemaVersion).toBe(1);
      await store.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

// Writes an old history into the service's own store file: in-process only.
describe.skipIf(needsEmbedded)('read models rebuilt from the previous version’s events', () => {
  let rt: TestRuntime;
  let dataDir: string;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'secably-fixture-'));
    const raw = sqliteEventStore({ path: join(dataDir, 'events.sqlite') });
    for (const event of history.events) {
      await raw.appendToStream(
        event.streamName,
        [{ id: event.id, type: event.type, data: event.data, metadata: event.metadata }],
        { expectedRevision: event.revision === 0 ? 'no_stream' : event.revision - 1 },
      );
    }
    await raw.close();
    rt = await testRuntime({}, { dataDir });
  });
  afterAll(async () => {
    await rt?.cleanup();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('the scans read model says what the previous version said', async () => {
    const scans = rt.deps.readModels.collection<ScanDocument>('scans');
    for (const old of oldScans) {
      const doc = await scans.get(old.id);
      expect(doc).not.toBeNull();
      const now = scanView(doc!);
      for (const field of [
        'website_name',
        'website_url',
        'status',
        'risk_level',
        'vulnerabilities_found',
        'security_score',
        'vulnerabilities_by_risk',
        'scan_type',
        'scan_config',
        'credits_used',
        'created_at',
        'started_at',
        'completed_at',
        'duration',
        'error',
      ]) {
        expect((now as Record<string, unknown>)[field], `${old.id} ${field}`).toEqual(old[field]);
      }
      const strip = (f: Record<string, unknown>) => {
        const { fingerprint: _f, rule_id: _r, engine: _e, confidence: _c, cwe: _w, ...rest } = f;
        return rest;
      };
      expect(now.vulnerabilities_list.map(strip)).toEqual(old.vulnerabilities_list.map(strip));
      const oldResult = await rt.call('GET', `/api/v1/scans/${old.id}/`);
      expect(oldResult.status).toBe(401); // still private
    }
  });

  it('the findings model is built from them too: seen twice = open, once = new', async () => {
    const findings = await rt.deps.readModels.collection<FindingDocument>('findings').find({});
    const ipTarget = oldScans[0]!.target_id as string;
    const onIp = findings.filter((f) => f.target_id === ipTarget);
    const telnet = onIp.find((f) => f.rule_id === 'nmap.telnet-service-exposed');
    // quick (top1000 ∩ range) then full: two coverages, both saw port 23.
    expect(telnet).toMatchObject({ status: 'open', scans_seen: 2 });
    expect(
      onIp
        .filter((f) => f.status === 'new')
        .map((f) => f.location)
        .sort(),
    ).toEqual(
      oldScans[2]!.vulnerabilities_list
        .filter((f: { name: string }) => /Open port (?!23)/.test(f.name))
        .map((f: { location: string }) => f.location)
        .sort(),
    );
  });
});
