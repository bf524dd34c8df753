import type { Clock, EventStore, Ids, ReadModels } from '../adapters/ports.js';
import type { ScanDocument } from '../projections/scans.projection.js';
import type { PipelineLogger } from './checkpointedSubscription.js';
import type { Dispatcher } from './dispatcher.js';
import { scans as scanAggregate } from '../commands/aggregates.js';

export interface WatchdogOptions {
  /** How often it looks (default 15 s). */
  readonly checkEveryMs?: number;
  /** A running attempt silent for this long is taken as lost (default 60 s; workers beat every 10 s). */
  readonly silenceMs?: number;
  /** A pending or queued scan untouched for this long has its job published again (default 60 s). */
  readonly requeueAfterMs?: number;
}

/**
 * No scan stays pending or running forever: a running attempt that stopped
 * reporting (its worker died) is retried once, then failed (and refunded by the
 * credits policy); a scan whose job went missing is dispatched again.
 */
export function scanWatchdog(
  deps: {
    store: EventStore;
    readModels: ReadModels;
    dispatcher: Dispatcher;
    clock: Clock;
    ids: Ids;
    logger: PipelineLogger;
  },
  options: WatchdogOptions = {},
) {
  const checkEveryMs = options.checkEveryMs ?? 15_000;
  const silenceMs = options.silenceMs ?? 60_000;
  const requeueAfterMs = options.requeueAfterMs ?? 60_000;
  const scans = deps.readModels.collection<ScanDocument>('scans');
  let timer: NodeJS.Timeout | undefined;
  let checking: Promise<void> | undefined;

  async function retry(scan: ScanDocument, reason: string): Promise<void> {
    await scanAggregate.handle(deps, scan._id, {
      type: 'RetryScan',
      attempt: scan.attempt,
      reason,
      now: deps.clock.now().toISOString(),
    });
  }

  async function check(): Promise<void> {
    const now = deps.clock.now().getTime();
    const age = (scan: ScanDocument) => now - Date.parse(scan.last_activity_at);
    for (const scan of await scans.find({ status: 'running' })) {
      if (age(scan) > silenceMs) {
        deps.logger.warn({ scanId: scan._id, attempt: scan.attempt }, 'running scan stopped reporting');
        await retry(scan, `the worker stopped reporting for ${Math.round(age(scan) / 1000)} s`);
      }
    }
    for (const scan of await scans.find({ status: { $in: ['pending', 'queued'] } })) {
      if (age(scan) > requeueAfterMs) await deps.dispatcher.dispatch(scan._id);
    }
  }

  return {
    /** One pass now (also what the timer runs). */
    async check() {
      checking ??= check().finally(() => {
        checking = undefined;
      });
      return checking;
    },
    /**
     * After a restart of the embedded mode every worker restarted too: scans that
     * were running are lost attempts, and jobs of the in-memory bus are gone.
     *
     * A lost attempt's scanner process is gone as well: every tool runs behind
     * `setpriv --pdeathsig KILL` (scanners/shared/childProcess.ts), so the kernel
     * killed it when the previous process died, even by kill -9. Retrying it now
     * therefore never runs a second scan beside a first one still alive; each such
     * scan is retried once (attempt 2), or failed and refunded when its attempts
     * are used up.
     */
    async recoverAfterRestart() {
      for (const scan of await scans.find({ status: 'running' })) {
        deps.logger.warn(
          { scanId: scan._id, attempt: scan.attempt },
          'the service restarted during this scan; its scanner died with the previous process: retrying',
        );
        await retry(scan, 'the service restarted during the scan');
      }
      for (const scan of await scans.find({ status: { $in: ['pending', 'queued'] } })) {
        await deps.dispatcher.dispatch(scan._id);
      }
    },
    start() {
      timer = setInterval(() => {
        this.check().catch((error: unknown) => deps.logger.error({ err: error }, 'watchdog check failed'));
      }, checkEveryMs);
      timer.unref();
    },
    async stop() {
      clearInterval(timer);
      await checking;
    },
  };
}
