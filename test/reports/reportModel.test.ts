/** The report model as a fold: given events → model (and the findings it counts). */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { RecordedEvent } from '../../adapters/ports.js';
import { EVENT_VERSIONS } from '../../domain/events.js';
import { identifyAll } from '../../domain/scans/scan.decider.js';
import type { Finding } from '../../domain/shared/finding.js';
import { countedFindings, foldReport, type ReportModel } from '../../reports/reportModel.js';
import { sampleFindings, scanStream, SCAN_ID, TARGET_ID, USER_ID } from './scanStream.js';

const findingsOf = (model: ReportModel, events: readonly RecordedEvent[]): Finding[] =>
  events.flatMap((e) => countedFindings(model, e));

function recorded(stream: string, revision: number, type: string, data: Record<string, unknown>): RecordedEvent {
  return {
    id: `10000000-0000-4000-8000-${String(revision).padStart(12, '0')}`,
    type,
    streamName: stream,
    revision,
    position: revision,
    data,
    metadata: {},
    recordedAt: '2026-03-01T10:00:00.000Z',
  };
}

describe('the report model of a completed scan', () => {
  const { stream, events, findings } = scanStream(sampleFindings(), { batchSize: 2 });
  const model = foldReport(stream, events);

  it('says what was scanned, when and with what outcome', () => {
    expect(model).toMatchObject({
      stream: `scan-${SCAN_ID}`,
      lastRevision: events.length - 1,
      eventCount: events.length,
      status: 'completed',
      scanId: SCAN_ID,
      userId: USER_ID,
      target: { id: TARGET_ID, name: 'Public website', value: 'example.com', type: 'hostname' },
      scanner: { type: 'echo', profile: 'light', coverage: 'light', config: { mode: 'light' }, credits: 0 },
      requestedAt: '2026-03-01T10:00:00.000Z',
      queuedAt: '2026-03-01T10:00:01.000Z',
      startedAt: '2026-03-01T10:00:02.000Z',
      endedAt: '2026-03-01T10:01:04.500Z',
      attempt: 1,
      workerId: 'worker-1',
      failure: null,
      declaredFindingsCount: 5,
    });
    expect(model.outcome).toEqual({
      riskLevel: 'critical',
      securityScore: 100 - 40 - 20 - 8 - 3,
      vulnerabilitiesFound: 4,
      byRisk: { critical: 1, high: 1, medium: 1, low: 1, info: 0 + 1 },
      durationMs: 62_500,
      scanResult: { reported: 5, padding: '' },
    });
  });

  it('knows where its findings are without holding them', () => {
    expect(model.batches.map((b) => [b.batch, b.count])).toEqual([
      [0, 2],
      [1, 2],
      [2, 1],
    ]);
    expect(model.findingsCount).toBe(5);
    expect(model.findingsByRisk).toEqual({ critical: 1, high: 1, medium: 1, low: 1, info: 1 });
    expect(JSON.stringify(model)).not.toContain('Telnet');
    expect(findingsOf(model, events)).toEqual(findings);
  });
});

describe('which findings count', () => {
  const ids = { scanId: SCAN_ID, userId: USER_ID, targetId: TARGET_ID };
  const stream = `scan-${SCAN_ID}`;
  const [a, b, c] = identifyAll(sampleFindings(), { targetId: TARGET_ID, scannerType: 'echo' });
  const requested = {
    ...ids,
    targetName: 't',
    targetValue: '127.0.0.1',
    targetType: 'ip',
    scannerType: 'echo',
    scanProfile: 'light',
    scanConfig: {},
    credits: 0,
    timeoutMs: 1000,
    requestedAt: '2026-03-01T10:00:00.000Z',
  };
  const completed = (attempt: number, findingsCount: number) => ({
    ...ids,
    attempt,
    riskLevel: 'high',
    securityScore: 80,
    vulnerabilitiesFound: 1,
    byRisk: { High: 1 },
    durationMs: 5,
    findingsCount,
    batches: 1,
    completedAt: '2026-03-01T10:05:00.000Z',
  });

  it('only the batches of the attempt that completed, each batch once', () => {
    const events = [
      recorded(stream, 0, 'ScanRequested', requested),
      recorded(stream, 1, 'ScanStarted', { ...ids, attempt: 1, workerId: 'w1', startedAt: '2026-03-01T10:00:01Z' }),
      recorded(stream, 2, 'FindingsReported', { ...ids, attempt: 1, batch: 0, findings: [a], reportedAt: 'x' }),
      recorded(stream, 3, 'ScanRetried', { ...ids, attempt: 2, reason: 'worker lost', retriedAt: 'x' }),
      recorded(stream, 4, 'ScanStarted', { ...ids, attempt: 2, workerId: 'w2', startedAt: '2026-03-01T10:02:00Z' }),
      recorded(stream, 5, 'FindingsReported', { ...ids, attempt: 2, batch: 0, findings: [b], reportedAt: 'x' }),
      // A late duplicate of attempt 2's batch 0, and a straggler of attempt 1.
      recorded(stream, 6, 'FindingsReported', { ...ids, attempt: 2, batch: 0, findings: [c], reportedAt: 'x' }),
      recorded(stream, 7, 'FindingsReported', { ...ids, attempt: 1, batch: 1, findings: [c], reportedAt: 'x' }),
      recorded(stream, 8, 'ScanCompleted', completed(2, 1)),
    ];
    const model = foldReport(stream, events);
    expect(model).toMatchObject({ status: 'completed', attempt: 2, workerId: 'w2', findingsCount: 1 });
    expect(model.batches.map((x) => x.revision)).toEqual([5]);
    expect(findingsOf(model, events)).toEqual([b]);
    expect(model.outcome?.byRisk).toEqual({ critical: 0, high: 1, medium: 0, low: 0, info: 0 });
  });

  it('a scan that has not completed: its status and the current attempt’s batches, no outcome', () => {
    const events = [
      recorded(stream, 0, 'ScanRequested', requested),
      recorded(stream, 1, 'ScanQueued', { ...ids, attempt: 1, queuedAt: '2026-03-01T10:00:01Z' }),
      recorded(stream, 2, 'ScanStarted', { ...ids, attempt: 1, workerId: 'w1', startedAt: '2026-03-01T10:00:02Z' }),
      recorded(stream, 3, 'ScanProgressed', { ...ids, attempt: 1, percent: 40, phase: 'ports', at: 'x' }),
      recorded(stream, 4, 'FindingsReported', { ...ids, attempt: 1, batch: 0, findings: [a, b], reportedAt: 'x' }),
    ];
    const running = foldReport(stream, events);
    expect(running).toMatchObject({ status: 'running', outcome: null, findingsCount: 2, endedAt: null });
    const failed = foldReport(stream, [
      ...events,
      recorded(stream, 5, 'ScanFailed', { ...ids, attempt: 1, code: 'timeout', reason: 'too slow', failedAt: 'y' }),
    ]);
    expect(failed).toMatchObject({ status: 'failed', failure: { code: 'timeout', reason: 'too slow' }, endedAt: 'y' });
    const cancelled = foldReport(stream, [
      ...events,
      recorded(stream, 5, 'ScanCancelled', { ...ids, wasRunning: true, attempt: 1, cancelledAt: 'z' }),
    ]);
    expect(cancelled).toMatchObject({ status: 'cancelled', endedAt: 'z', outcome: null });
    expect(foldReport(stream, [])).toMatchObject({ status: 'none', lastRevision: -1, eventCount: 0 });
  });

  it('counts events of types it does not know (the digest covers them) without reading them', () => {
    const events = [
      recorded(stream, 0, 'ScanRequested', requested),
      recorded(stream, 1, 'ScanAnnotated', { note: 'from a later version' }),
    ];
    expect(foldReport(stream, events)).toMatchObject({ status: 'pending', lastRevision: 1, eventCount: 2 });
  });

  it('refuses a malformed event of a known type', () => {
    const events = [recorded(stream, 0, 'ScanRequested', { scanId: SCAN_ID })];
    expect(() => foldReport(stream, events)).toThrow(/malformed ScanRequested/);
  });
});

describe('legacy streams (before batches), read through the upcasters', () => {
  const history = JSON.parse(
    readFileSync(new URL('../fixtures/events/history-c4591fd.json', import.meta.url), 'utf8'),
  ) as { events: RecordedEvent[] };
  const byStream = new Map<string, RecordedEvent[]>();
  for (const event of history.events) {
    if (!event.streamName.startsWith('scan-')) continue;
    byStream.set(event.streamName, [...(byStream.get(event.streamName) ?? []), EVENT_VERSIONS.upcast(event)]);
  }

  it('a completed legacy scan: its findings from batch 0 and the scan_result that event carried', () => {
    const completedStreams = [...byStream].filter(([, events]) => events.some((e) => e.type === 'ScanCompleted'));
    expect(completedStreams.length).toBe(3);
    for (const [stream, events] of completedStreams) {
      const model = foldReport(stream, events);
      expect(model.status).toBe('completed');
      expect(model.declaredFindingsCount).toBeNull();
      expect(model.outcome?.scanResult).toHaveProperty('open_ports');
      const findings = findingsOf(model, events);
      expect(findings.length).toBe(model.findingsCount);
      expect(findings.map((f) => f.rule_id)).toContain('nmap.telnet-service-exposed');
      const byRisk = model.outcome!.byRisk;
      expect(model.findingsByRisk).toEqual(byRisk);
    }
  });

  it('a cancelled legacy scan', () => {
    const cancelled = [...byStream].find(([, events]) => events.some((e) => e.type === 'ScanCancelled'));
    expect(foldReport(cancelled![0], cancelled![1])).toMatchObject({ status: 'cancelled', outcome: null });
  });
});
