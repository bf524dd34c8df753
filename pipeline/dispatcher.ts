import type { Bus, Checkpoints, Clock, EventStore, Ids, ReadModels, RecordedEvent } from '../adapters/ports.js';
import { streams } from '../commands/deps.js';
import { toDomainEvent } from '../commands/handleCommand.js';
import { scanDecider } from '../domain/scans/scan.decider.js';
import { ScanEvent, ScanRequested } from '../domain/scans/scan.events.js';
import type { ScanDocument } from '../projections/scans.projection.js';
import { checkpointedSubscription, type PipelineLogger } from './checkpointedSubscription.js';
import { topics, type ScanJob } from './topics.js';
import { scans, targets } from '../commands/aggregates.js';
import { DomainError } from '../domain/shared/decider.js';

export interface Dispatcher {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Publishes the job of a scan still waiting to run (pending or queued), e.g. after a restart. */
  dispatch(scanId: string): Promise<void>;
}

/**
 * Turns ScanRequested / ScanRetried into jobs on the scanner's topic (then
 * appends ScanQueued), and ScanCancelled into a message on the control topic.
 * Publishing is at-least-once: a crash between publish and ScanQueued publishes
 * again, and workers drop the duplicate.
 */
export function scanDispatcher(deps: {
  store: EventStore;
  bus: Bus;
  checkpoints: Checkpoints;
  readModels: ReadModels;
  clock: Clock;
  ids: Ids;
  logger: PipelineLogger;
}): Dispatcher {
  const { store, bus, logger } = deps;

  async function dispatch(scanId: string): Promise<void> {
    const events = await store.readStream(streams.scan(scanId));
    const first = events[0];
    if (!first || first.type !== 'ScanRequested') return;
    const request = ScanRequested.parse({ type: first.type, data: first.data }).data;
    const state = events.map((e) => toDomainEvent(ScanEvent, e)).reduce(scanDecider.evolve, scanDecider.initialState());
    if (state.status !== 'pending' && state.status !== 'queued') return;
    if ((await targets.state(deps, request.targetId)).state.status === 'deleted') {
      // Requested while its target was being deleted: cancelled (and so refunded), never run.
      logger.info({ scanId, targetId: request.targetId }, 'the target was deleted: cancelling the scan');
      await scans
        .handle(deps, scanId, { type: 'CancelScan', userId: request.userId, now: deps.clock.now().toISOString() })
        .catch((error: unknown) => {
          if (!(error instanceof DomainError && error.kind === 'conflict')) throw error;
        });
      return;
    }
    const job: ScanJob = {
      scanId,
      attempt: state.attempt,
      userId: request.userId,
      targetId: request.targetId,
      targetValue: request.targetValue,
      targetType: request.targetType,
      scannerType: request.scannerType,
      scanConfig: request.scanConfig,
      timeoutMs: request.timeoutMs,
    };
    await bus.publish(topics.jobs(request.scannerType), [{ key: scanId, value: { ...job } }]);
    await scans.handle(deps, scanId, {
      type: 'QueueScan',
      attempt: state.attempt,
      now: deps.clock.now().toISOString(),
    });
  }

  async function handle(event: RecordedEvent): Promise<void> {
    if (event.type === 'ScanRequested' || event.type === 'ScanRetried') {
      await dispatch(String(event.data.scanId));
    } else if (event.type === 'ScanCancelled') {
      await bus.publish(topics.control, [
        { key: String(event.data.scanId), value: { scanId: String(event.data.scanId), action: 'cancel' } },
      ]);
    }
  }

  const subscription = checkpointedSubscription({
    name: 'dispatcher',
    store,
    checkpoints: deps.checkpoints,
    logger,
    filter: { streamNamePrefixes: ['scan-'] },
    handle,
  });

  return {
    dispatch,
    async start() {
      await subscription.start();
    },
    stop: () => subscription.stop(),
  };
}

/** Scans waiting to run, from the read model (recovery after a restart of an in-memory bus). */
export async function waitingScans(readModels: ReadModels): Promise<ScanDocument[]> {
  return readModels.collection<ScanDocument>('scans').find({ status: { $in: ['pending', 'queued'] } });
}
