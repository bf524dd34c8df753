import { MessageTooLargeError, type Bus, type BusConsumer, type Clock } from '../adapters/ports.js';
import {
  batchFindings,
  InvalidFindingError,
  MAX_RESULT_BYTES,
  normalizeFindings,
  resultBytes,
} from './findingBatches.js';
import { guardTarget, type TargetGuardDeps } from '../commands/targetGuard.js';
import type { ScannerType } from '../domain/scans/scan.events.js';
import { parseTargetValue, type ParsedTarget } from '../domain/targets/targetValue.js';
import type { ScannerRegistry } from '../scanners/registry.js';
import {
  ScanAbortedError,
  ScannerUnavailableError,
  ScanOutputTooLargeError,
  ScanTimeoutError,
  TargetUnreachableError,
} from '../scanners/shared/errors.js';
import type { ScannerRunner, ScannerSettings, ScanTarget } from '../scanners/shared/scanner.js';
import type { PipelineLogger } from './checkpointedSubscription.js';
import { ScanControl, ScanJob, topics, type ScanReport } from './topics.js';

export interface WorkerOptions {
  readonly bus: Bus;
  /** The scanner plug-ins; the worker loads the runners of those it runs. */
  readonly scanners: ScannerRegistry;
  /** The parsed environment handed to runners (binaries' paths, external engines). */
  readonly settings?: ScannerSettings;
  /** Which scanners this worker runs (default: every one that can run). */
  readonly scannerTypes?: readonly ScannerType[];
  readonly targetGuard: TargetGuardDeps;
  readonly clock: Clock;
  readonly logger: PipelineLogger;
  readonly workerId: string;
  /** Scans of one scanner this worker runs at once (default 2). */
  readonly concurrency?: number;
  /** A running scan reports at least this often, progress or not (default 10 s). */
  readonly heartbeatMs?: number;
}

/** What a runner is told about its target (names for Host/SNI/locations; the checked address comes apart). */
export function scanTarget(
  job: Pick<ScanJob, 'targetId' | 'targetValue' | 'targetType'>,
  parsed: ParsedTarget,
): ScanTarget {
  return {
    id: job.targetId,
    value: parsed.normalized,
    type: parsed.type,
    hostname: parsed.host,
    ...(parsed.url ? { url: { scheme: parsed.url.scheme, port: parsed.url.port, path: parsed.url.path } } : {}),
  };
}

/** Jobs already taken (scan:attempt), remembered to drop the duplicates of at-least-once delivery. */
const SEEN_LIMIT = 10_000;

/**
 * A scanner worker: takes jobs from the scanner topics (bounded concurrency per
 * scanner), checks the target once more (DNS resolved again; the scanner gets the
 * checked IP, not the name), runs the scanner with its timeout, reports progress
 * and a heartbeat, and reports the outcome on the results topic. A cancel on the
 * control topic aborts the running child process.
 */
export function scanWorker(options: WorkerOptions) {
  const { bus, clock, logger, workerId } = options;
  const concurrency = options.concurrency ?? 2;
  const heartbeatMs = options.heartbeatMs ?? 10_000;
  const consumers: BusConsumer[] = [];
  const seen = new Set<string>();
  const cancelled = new Set<string>();
  const running = new Map<string, AbortController>();
  const runners = new Map<ScannerType, ScannerRunner>();

  type Report = ScanReport extends infer R ? (R extends ScanReport ? Omit<R, 'workerId' | 'at'> : never) : never;
  const report = (scanId: string, value: Report) =>
    bus.publish(topics.results, [
      { key: scanId, value: { ...value, workerId, at: clock.now().toISOString() } as Record<string, unknown> },
    ]);

  function remember(key: string): boolean {
    if (seen.has(key)) return false;
    seen.add(key);
    if (seen.size > SEEN_LIMIT) seen.delete(seen.values().next().value as string);
    return true;
  }

  async function runJob(job: ScanJob): Promise<void> {
    const run = runners.get(job.scannerType);
    const { scanId, attempt } = job;
    if (!remember(`${scanId}:${attempt}`) || cancelled.has(scanId)) return;
    const fail = (code: string, reason: string) => report(scanId, { kind: 'failed', scanId, attempt, code, reason });
    if (!run) return fail('scanner_unavailable', `no ${job.scannerType} scanner on this worker`);

    const parsed = parseTargetValue(job.targetValue, job.targetType);
    if (!parsed.ok) return fail('target_invalid', parsed.error);
    const guard = await guardTarget(options.targetGuard, parsed.value);
    if (!guard.ok) return fail(guard.code, guard.reason);

    const controller = new AbortController();
    running.set(scanId, controller);
    let percent = 0;
    let phase = 'starting';
    let lastSent = 0;
    const heartbeat = setInterval(() => {
      lastSent = Date.now();
      void report(scanId, { kind: 'progress', scanId, attempt, percent, phase }).catch(() => {});
    }, heartbeatMs);
    try {
      await report(scanId, { kind: 'started', scanId, attempt });
      const output = await run({
        host: guard.scanHost,
        target: scanTarget(job, parsed.value),
        scanId,
        targetValue: job.targetValue,
        targetType: job.targetType,
        config: job.scanConfig,
        timeoutMs: job.timeoutMs,
        signal: controller.signal,
        onProgress: (progress) => {
          const moved = progress.phase !== phase || progress.percent - percent >= 5;
          percent = progress.percent;
          phase = progress.phase;
          // At most one progress report a second, unless the phase changes.
          if (moved && Date.now() - lastSent >= 1_000) {
            lastSent = Date.now();
            void report(scanId, { kind: 'progress', scanId, attempt, percent, phase }).catch(() => {});
          }
        },
      });
      // Check what the scanner produced before anything leaves: an invalid finding or a
      // result outside its schema or size budget fails this scan with a clear reason.
      const plugin = options.scanners.get(job.scannerType);
      const checkedResult = plugin?.resultSchema.safeParse(output.scanResult);
      if (checkedResult && !checkedResult.success) {
        const issue = checkedResult.error.issues[0];
        await fail(
          'scanner_error',
          `the scanner's result does not match its schema: ${issue?.path.join('.')}: ${issue?.message}`,
        );
        return;
      }
      const scanResult = checkedResult?.data ?? output.scanResult;
      if (resultBytes(scanResult) > MAX_RESULT_BYTES) {
        await fail(
          'result_too_large',
          `the scan_result is ${resultBytes(scanResult)} bytes; at most ${MAX_RESULT_BYTES} are kept`,
        );
        return;
      }
      const findings = normalizeFindings(output.findings);
      const batches = batchFindings(findings);
      for (const [batch, part] of batches.entries()) {
        await report(scanId, { kind: 'findings', scanId, attempt, batch, findings: part });
      }
      await report(scanId, {
        kind: 'completed',
        scanId,
        attempt,
        findingsCount: findings.length,
        batches: batches.length,
        scanResult,
      });
    } catch (error) {
      if (error instanceof ScanAbortedError) {
        // Cancelled (the store already says so) or shutting down (the attempt is retried after restart).
        logger.info({ scanId, attempt, reason: String(controller.signal.reason) }, 'scan stopped');
      } else if (error instanceof ScanTimeoutError) {
        await fail('timeout', `the scan did not finish within ${Math.round(job.timeoutMs / 1000)} s`);
      } else if (error instanceof ScannerUnavailableError) {
        await fail('scanner_unavailable', error.message);
      } else if (error instanceof TargetUnreachableError) {
        await fail(error.code, error.message.slice(0, 2000));
      } else if (error instanceof ScanOutputTooLargeError || error instanceof MessageTooLargeError) {
        await fail('result_too_large', error.message.slice(0, 2000));
      } else if (error instanceof InvalidFindingError) {
        await fail('scanner_error', error.message.slice(0, 2000));
      } else {
        logger.warn({ err: error, scanId, attempt }, 'scan failed');
        await fail('scanner_error', error instanceof Error ? error.message.slice(0, 2000) : String(error));
      }
    } finally {
      clearInterval(heartbeat);
      running.delete(scanId);
    }
  }

  return {
    async start() {
      consumers.push(
        await bus.subscribe(topics.control, `control-${workerId}`, async (message) => {
          const control = ScanControl.safeParse(message.value);
          if (!control.success) return;
          cancelled.add(control.data.scanId);
          if (cancelled.size > SEEN_LIMIT) cancelled.delete(cancelled.values().next().value as string);
          running.get(control.data.scanId)?.abort('cancelled');
        }),
      );
      const types = options.scannerTypes ?? options.scanners.plugins.filter((p) => p.loadRunner).map((p) => p.type);
      for (const type of types) {
        const plugin = options.scanners.get(type);
        if (!plugin?.loadRunner) throw new Error(`the ${type} scanner cannot run on a worker (not available)`);
        runners.set(type, await plugin.loadRunner(options.settings ?? {}));
      }
      for (const type of types) {
        for (let i = 0; i < concurrency; i++) {
          consumers.push(
            await bus.subscribe(topics.jobs(type), `workers-${type}`, async (message) => {
              const job = ScanJob.safeParse(message.value);
              if (!job.success) {
                logger.warn({ key: message.key }, 'dropping malformed scan job');
                return;
              }
              await runJob(job.data);
            }),
          );
        }
      }
    },
    /** Stops taking jobs; running scans are aborted (the watchdog retries or fails them). */
    async stop() {
      for (const controller of running.values()) controller.abort('shutdown');
      await Promise.all(consumers.splice(0).map((c) => c.stop()));
    },
    running: () => [...running.keys()],
  };
}
