import { describe, expect, it } from 'vitest';
import { MAX_ATTEMPTS, scanDecider } from '../../../domain/scans/scan.decider.js';
import type { ScanEvent } from '../../../domain/scans/scan.events.js';
import { summarize } from '../../../domain/scans/scoring.js';
import { findingFingerprint, identify, type Finding } from '../../../domain/shared/finding.js';
import { deciderSpec } from '../../support/deciderSpec.js';

const spec = deciderSpec(scanDecider);
const ids = { scanId: 's1', userId: 'u1', targetId: 't1' };
const T0 = '2026-11-10T12:00:00.000Z';
const T1 = '2026-11-10T12:00:10.000Z';
const T2 = '2026-11-10T12:01:10.000Z';

const requested: ScanEvent = {
  type: 'ScanRequested',
  data: {
    ...ids,
    targetName: 'lo',
    targetValue: '127.0.0.1',
    targetType: 'ip',
    scannerType: 'nmap',
    scanProfile: 'full',
    scanConfig: { scan_type: 'full' },
    credits: 1,
    timeoutMs: 60_000,
    requestedAt: T0,
  },
};
const queued = (attempt = 1): ScanEvent => ({ type: 'ScanQueued', data: { ...ids, attempt, queuedAt: T0 } });
const started = (attempt = 1): ScanEvent => ({
  type: 'ScanStarted',
  data: { ...ids, attempt, workerId: 'w1', startedAt: T1 },
});
const finding = (risk: Finding['risk']): Finding =>
  identify(
    {
      name: `${risk} thing`,
      risk,
      description: 'd',
      solution: 's',
      evidence: '',
      location: '127.0.0.1:23/tcp',
      rule_id: `test.${risk}`,
      engine: 'nmap',
      confidence: 'high',
    },
    { targetId: ids.targetId, scannerType: 'nmap' },
  );

describe('scan decider', () => {
  it('a request is recorded once', () => {
    const { requestedAt, ...fields } = requested.data as Extract<ScanEvent, { type: 'ScanRequested' }>['data'];
    const command = { type: 'RequestScan' as const, ...fields, now: requestedAt };
    spec.given([]).when(command).then([requested]);
    spec.given([requested]).when(command).then([]);
  });

  it('pending → queued → running, each step once and only for the current attempt', () => {
    spec.given([requested]).when({ type: 'QueueScan', attempt: 1, now: T0 }).then([queued()]);
    spec.given([requested, queued()]).when({ type: 'QueueScan', attempt: 1, now: T0 }).then([]);
    spec
      .given([requested, queued()])
      .when({ type: 'StartScan', attempt: 1, workerId: 'w1', now: T1 })
      .then([started()]);
    spec
      .given([requested, queued(), started()])
      .when({ type: 'StartScan', attempt: 1, workerId: 'w2', now: T1 })
      .then([]);
    spec.given([requested, queued()]).when({ type: 'StartScan', attempt: 2, workerId: 'w1', now: T1 }).then([]);
  });

  it('findings arrive in batches, each with its identity; completion sums them up', () => {
    const raw = [finding('high'), finding('info'), finding('medium')].map(({ fingerprint: _f, ...rest }) => rest);
    const identified = [finding('high'), finding('info'), finding('medium')];
    const running = [requested, queued(), started()];
    const batch0: ScanEvent = {
      type: 'FindingsReported',
      data: { ...ids, attempt: 1, batch: 0, findings: identified.slice(0, 2), reportedAt: T2 },
    };
    const batch1: ScanEvent = {
      type: 'FindingsReported',
      data: { ...ids, attempt: 1, batch: 1, findings: identified.slice(2), reportedAt: T2 },
    };
    spec
      .given(running)
      .when({ type: 'ReportFindings', attempt: 1, batch: 0, findings: raw.slice(0, 2), now: T2 })
      .then([batch0]);
    // The same batch again (at-least-once delivery) changes nothing.
    spec
      .given([...running, batch0])
      .when({ type: 'ReportFindings', attempt: 1, batch: 0, findings: raw.slice(0, 2), now: T2 })
      .then([]);
    spec
      .given([...running, batch0, batch1])
      .when({ type: 'CompleteScan', attempt: 1, findingsCount: 3, batches: 2, scanResult: { open_ports: [] }, now: T2 })
      .then([
        {
          type: 'ScanCompleted',
          data: {
            ...ids,
            attempt: 1,
            riskLevel: 'high',
            securityScore: 72,
            vulnerabilitiesFound: 2,
            byRisk: { Critical: 0, High: 1, Medium: 1, Low: 0, Informational: 1 },
            durationMs: 60_000,
            findingsCount: 3,
            batches: 2,
            scanResult: { open_ports: [] },
            completedAt: T2,
          },
        },
      ]);
  });

  it('identities: target + scanner + rule + location; the same weakness twice in a batch is one finding', () => {
    const raw = { ...finding('high'), engine: 'secably-tls' };
    const { fingerprint: _f, ...withoutId } = raw;
    const events = scanDecider.decide(
      {
        type: 'ReportFindings',
        attempt: 1,
        batch: 0,
        findings: [withoutId, { ...withoutId, engine: 'nmap-nse' }],
        now: T2,
      },
      spec.given([requested, queued(), started()]).state,
    );
    const reported = events[0] as Extract<ScanEvent, { type: 'FindingsReported' }>;
    expect(reported.data.findings).toHaveLength(1);
    expect(reported.data.findings[0]).toMatchObject({
      fingerprint: findingFingerprint({
        targetId: ids.targetId,
        scannerType: 'nmap',
        ruleId: 'test.high',
        location: '127.0.0.1:23/tcp',
      }),
      sources: [{ engine: 'nmap-nse', rule_id: 'test.high' }],
    });
  });

  it('a completion that does not match the batches received fails the scan (refunded)', () => {
    const batch0: ScanEvent = {
      type: 'FindingsReported',
      data: { ...ids, attempt: 1, batch: 0, findings: [finding('low')], reportedAt: T2 },
    };
    const [failed] = scanDecider.decide(
      { type: 'CompleteScan', attempt: 1, findingsCount: 5, batches: 2, scanResult: {}, now: T2 },
      spec.given([requested, queued(), started(), batch0]).state,
    );
    expect(failed).toMatchObject({ type: 'ScanFailed', data: { code: 'report_incomplete' } });
  });

  it('late or duplicate reports change nothing once the scan has ended', () => {
    const history = [requested, queued(), started()];
    const after = history.reduce(scanDecider.evolve, scanDecider.initialState());
    const complete = {
      type: 'CompleteScan' as const,
      attempt: 1,
      findingsCount: 0,
      batches: 0,
      scanResult: {},
      now: T2,
    };
    const completion = scanDecider.decide(complete, after);
    const done = [...history, ...completion];
    spec.given(done).when(complete).then([]);
    spec.given(done).when({ type: 'ReportFindings', attempt: 1, batch: 0, findings: [], now: T2 }).then([]);
    spec.given(done).when({ type: 'FailScan', attempt: 1, code: 'x', reason: 'y', now: T2 }).then([]);
    spec.given(done).when({ type: 'ReportProgress', attempt: 1, percent: 50, phase: 'x', now: T2 }).then([]);
    spec.given(done).when({ type: 'RetryScan', attempt: 1, reason: 'lost', now: T2 }).then([]);
  });

  it('cancel: by the owner only, before the end; cancelling twice is fine', () => {
    spec
      .given([requested, queued(), started()])
      .when({ type: 'CancelScan', userId: 'u1', now: T2 })
      .then([{ type: 'ScanCancelled', data: { ...ids, wasRunning: true, attempt: 1, cancelledAt: T2 } }]);
    spec
      .given([requested])
      .when({ type: 'CancelScan', userId: 'u1', now: T2 })
      .then([{ type: 'ScanCancelled', data: { ...ids, wasRunning: false, attempt: 1, cancelledAt: T2 } }]);
    spec.given([requested]).when({ type: 'CancelScan', userId: 'intruder', now: T2 }).thenThrows('not_found');
    const cancelled: ScanEvent = {
      type: 'ScanCancelled',
      data: { ...ids, wasRunning: false, attempt: 1, cancelledAt: T2 },
    };
    spec.given([requested, cancelled]).when({ type: 'CancelScan', userId: 'u1', now: T2 }).then([]);
    const failed: ScanEvent = {
      type: 'ScanFailed',
      data: { ...ids, attempt: 1, code: 'x', reason: 'y', failedAt: T2 },
    };
    spec.given([requested, failed]).when({ type: 'CancelScan', userId: 'u1', now: T2 }).thenThrows('scan_ended');
  });

  it(`a lost attempt is retried, then failed after ${MAX_ATTEMPTS} attempts`, () => {
    const retried: ScanEvent = { type: 'ScanRetried', data: { ...ids, attempt: 2, reason: 'lost', retriedAt: T2 } };
    spec
      .given([requested, queued(), started()])
      .when({ type: 'RetryScan', attempt: 1, reason: 'lost', now: T2 })
      .then([retried]);
    const state = spec.given([requested, queued(), started(), retried]).state;
    expect(state).toMatchObject({ status: 'pending', attempt: 2 });
    // Reports from the lost attempt 1 are ignored now.
    spec
      .given([requested, queued(), started(), retried])
      .when({ type: 'CompleteScan', attempt: 1, findingsCount: 0, batches: 0, scanResult: {}, now: T2 })
      .then([]);
    spec
      .given([requested, queued(), started(), retried, queued(2), started(2)])
      .when({ type: 'RetryScan', attempt: 2, reason: 'lost again', now: T2 })
      .then([
        {
          type: 'ScanFailed',
          data: {
            ...ids,
            attempt: 2,
            code: 'worker_lost',
            reason: 'lost again; gave up after 2 attempts',
            failedAt: T2,
          },
        },
      ]);
  });

  it('commands on an unknown scan are refused', () => {
    spec.given([]).when({ type: 'QueueScan', attempt: 1, now: T0 }).thenThrows('not_found');
  });
});

describe('scoring (one function for every scanner)', () => {
  it('nothing found: info, 100', () => {
    expect(summarize([])).toEqual({
      riskLevel: 'info',
      securityScore: 100,
      vulnerabilitiesFound: 0,
      byRisk: { Critical: 0, High: 0, Medium: 0, Low: 0, Informational: 0 },
    });
  });

  it('info findings do not lower the score', () => {
    expect(summarize([finding('info'), finding('info')])).toMatchObject({
      riskLevel: 'info',
      securityScore: 100,
      vulnerabilitiesFound: 0,
    });
  });

  it('the most severe risk wins; weights 40/20/8/3; floored at 0', () => {
    expect(summarize([finding('low'), finding('critical')])).toMatchObject({
      riskLevel: 'critical',
      securityScore: 57,
    });
    expect(summarize([finding('medium'), finding('low')])).toMatchObject({ riskLevel: 'medium', securityScore: 89 });
    expect(summarize(Array.from({ length: 5 }, () => finding('critical'))).securityScore).toBe(0);
  });
});
