import type { Checkpoints, Clock, EventStore, Ids, ReadModels, RecordedEvent } from '../adapters/ports.js';
import { streams } from '../commands/deps.js';
import { type AccountCommand } from '../domain/accounts/account.decider.js';
import { DomainError } from '../domain/shared/decider.js';
import type { PendingReservationDocument } from '../projections/pendingReservations.projection.js';
import { checkpointedSubscription, type PipelineLogger } from './checkpointedSubscription.js';
import { accounts } from '../commands/aggregates.js';

/** A reservation whose scan was not written within this is taken as orphaned (default 2 min). */
export const DEFAULT_RESERVATION_GRACE_MS = 120_000;

/**
 * The process manager that moves credits as scans move: a started scan spends
 * its reservation; a failed or cancelled scan gets it refunded (an event, never
 * an edit). You pay for scans that complete. Idempotent: the account decider
 * ignores a second spend or refund of the same scan.
 *
 * Orphaned reservations (the request died between `CreditsReserved` and
 * `ScanRequested`) are found from stored state, not from memory: the
 * `pending_reservations` read model lists reservations whose scan was not written,
 * and each is checked against the store — no `scan-<id>` stream, the account's
 * reservation still `reserved` — before it is refunded. At start and then every
 * `checkEveryMs`, so a restart (or another dispatcher taking over) forgets nothing.
 */
export function creditsPolicy(
  deps: {
    store: EventStore;
    checkpoints: Checkpoints;
    readModels: ReadModels;
    clock: Clock;
    ids: Ids;
    logger: PipelineLogger;
  },
  options: { orphanAfterMs?: number; checkEveryMs?: number } = {},
) {
  const orphanAfterMs = options.orphanAfterMs ?? DEFAULT_RESERVATION_GRACE_MS;
  const checkEveryMs = options.checkEveryMs ?? Math.min(30_000, Math.max(100, Math.round(orphanAfterMs / 4)));
  const pending = deps.readModels.collection<PendingReservationDocument>('pending_reservations');
  let timer: NodeJS.Timeout | undefined;
  let sweeping: Promise<number> | undefined;

  async function handle(event: RecordedEvent): Promise<void> {
    const scanId = String(event.data.scanId);
    const userId = String(event.data.userId ?? event.data.accountId);
    const now = deps.clock.now().toISOString();
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

  /** Refunds every reservation older than the grace period whose scan was never written; returns how many. */
  async function sweep(): Promise<number> {
    const cutoff = deps.clock.now().getTime() - orphanAfterMs;
    let refunded = 0;
    for (const reservation of await pending.find({ pending: true })) {
      if (Date.parse(reservation.reserved_at) > cutoff) continue;
      const scanId = reservation._id;
      if ((await deps.store.readStream(streams.scan(scanId), { maxCount: 1 })).length > 0) continue;
      const { state } = await accounts.state(deps, reservation.account_id);
      if (state.status !== 'open' || state.reservations[scanId]?.status !== 'reserved') continue;
      deps.logger.warn(
        { scanId, userId: reservation.account_id, reservedAt: reservation.reserved_at },
        'refunding a reservation whose scan was never created',
      );
      await accounts.handle(deps, reservation.account_id, {
        type: 'RefundCredits',
        scanId,
        reason: 'scan was never created',
        now: deps.clock.now().toISOString(),
      });
      refunded += 1;
    }
    return refunded;
  }

  /** One sweep at a time (the timer's and a caller's share it). */
  function refundOrphans(): Promise<number> {
    sweeping ??= sweep().finally(() => {
      sweeping = undefined;
    });
    return sweeping;
  }

  const subscription = checkpointedSubscription({
    name: 'credits-policy',
    store: deps.store,
    checkpoints: deps.checkpoints,
    logger: deps.logger,
    filter: { eventTypePrefixes: ['ScanStarted', 'ScanFailed', 'ScanCancelled'] },
    handle,
  });

  const sweepLogged = () =>
    refundOrphans().catch((error: unknown) => deps.logger.error({ err: error }, 'orphan refund failed'));

  return {
    refundOrphans,
    async start() {
      await subscription.start();
      void sweepLogged(); // what an earlier run left behind
      timer = setInterval(sweepLogged, checkEveryMs);
      timer.unref();
    },
    async stop() {
      clearInterval(timer);
      await sweeping?.catch(() => undefined);
      await subscription.stop();
    },
  };
}
