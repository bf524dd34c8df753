import type { Checkpoints, Clock, EventStore, Ids, RecordedEvent } from '../adapters/ports.js';
import { streams } from '../commands/deps.js';
import { type AccountCommand } from '../domain/accounts/account.decider.js';
import { DomainError } from '../domain/shared/decider.js';
import { checkpointedSubscription, type PipelineLogger } from './checkpointedSubscription.js';
import { accounts } from '../commands/aggregates.js';

/**
 * The process manager that moves credits as scans move: a started scan spends
 * its reservation; a failed or cancelled scan gets it refunded (an event, never
 * an edit). You pay for scans that complete. Idempotent: the account decider
 * ignores a second spend or refund of the same scan.
 */
export function creditsPolicy(
  deps: {
    store: EventStore;
    checkpoints: Checkpoints;
    clock: Clock;
    ids: Ids;
    logger: PipelineLogger;
  },
  options: { orphanAfterMs?: number; checkEveryMs?: number } = {},
) {
  const orphanAfterMs = options.orphanAfterMs ?? 120_000;
  /** Reservations whose ScanRequested has not been seen yet (scan id → owner and time). */
  const awaitingScan = new Map<string, { userId: string; at: number }>();
  let timer: NodeJS.Timeout | undefined;

  async function handle(event: RecordedEvent): Promise<void> {
    const scanId = String(event.data.scanId);
    const userId = String(event.data.userId ?? event.data.accountId);
    const now = deps.clock.now().toISOString();
    if (event.type === 'CreditsReserved') {
      awaitingScan.set(scanId, { userId, at: deps.clock.now().getTime() });
      return;
    }
    if (event.type === 'ScanRequested') {
      awaitingScan.delete(scanId);
      return;
    }
    let command: AccountCommand | undefined;
    if (event.type === 'ScanStarted') command = { type: 'SpendCredits', scanId, now };
    if (event.type === 'ScanFailed') {
      command = { type: 'RefundCredits', scanId, reason: `scan failed: ${String(event.data.code)}`, now };
    }
    if (event.type === 'ScanCancelled') command = { type: 'RefundCredits', scanId, reason: 'scan cancelled', now };
    if (!command) return;
    try {
      await accounts.handle(deps, userId, command);
    } catch (error) {
      if (error instanceof DomainError && error.kind === 'not_found') {
        deps.logger.warn({ scanId, type: event.type }, 'no reservation for this scan; nothing to move');
        return;
      }
      throw error;
    }
  }

  /** A reservation whose scan was never written (a crash between the two appends) is refunded. */
  async function refundOrphans(): Promise<void> {
    const cutoff = deps.clock.now().getTime() - orphanAfterMs;
    for (const [scanId, { userId, at }] of awaitingScan) {
      if (at > cutoff) continue;
      awaitingScan.delete(scanId);
      if ((await deps.store.readStream(streams.scan(scanId), { maxCount: 1 })).length > 0) continue;
      deps.logger.warn({ scanId, userId }, 'refunding a reservation whose scan was never created');
      await accounts.handle(deps, userId, {
        type: 'RefundCredits',
        scanId,
        reason: 'scan was never created',
        now: deps.clock.now().toISOString(),
      });
    }
  }

  const subscription = checkpointedSubscription({
    name: 'credits-policy',
    store: deps.store,
    checkpoints: deps.checkpoints,
    logger: deps.logger,
    filter: { eventTypePrefixes: ['CreditsReserved', 'ScanRequested', 'ScanStarted', 'ScanFailed', 'ScanCancelled'] },
    handle,
  });

  return {
    refundOrphans,
    async start() {
      await subscription.start();
      timer = setInterval(() => {
        refundOrphans().catch((error: unknown) => deps.logger.error({ err: error }, 'orphan refund failed'));
      }, options.checkEveryMs ?? 30_000);
      timer.unref();
    },
    async stop() {
      clearInterval(timer);
      await subscription.stop();
    },
  };
}
