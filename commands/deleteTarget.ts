import { DomainError } from '../domain/shared/decider.js';
import type { ScanDocument } from '../projections/scans.projection.js';
import { scans, targets } from './aggregates.js';
import type { CommandDeps } from './deps.js';
import { loadTarget, releaseSlot } from './targetSlots.js';

/** Scan statuses that have not ended: a deleted target's scans in these are cancelled. */
const ACTIVE = ['pending', 'queued', 'running'] as const;

/**
 * Deletes one of the user's targets, then gives its slot back, and cancels the
 * target's scans that have not ended (queued or running): their `ScanCancelled`
 * makes the worker stop and the credits policy refund them. Another user's target,
 * or one already deleted, is not found; a repeated delete still gives back a slot a
 * failed earlier attempt kept, and cancels what an earlier attempt left running.
 *
 * A scan requested while the delete runs (its request read the target just before)
 * is not missed: the dispatcher looks at the target before it queues a scan and
 * cancels, instead of queueing, a scan whose target is deleted.
 */
export async function deleteTarget(
  deps: CommandDeps,
  userId: string,
  targetId: string,
): Promise<{ cancelledScans: string[] }> {
  const now = deps.clock.now().toISOString();
  const deleted = await targets
    .handle(deps, targetId, {
      type: 'DeleteTarget',
      userId,
      now,
    })
    .catch(async (error: unknown) => {
      if (error instanceof DomainError && error.kind === 'not_found') {
        const { state } = await loadTarget(deps, targetId);
        if (state.status === 'deleted' && state.userId === userId) {
          await releaseSlot(deps, userId, targetId, now).catch(() => undefined);
          await cancelActiveScans(deps, userId, targetId, now).catch(() => undefined);
        }
      }
      throw error;
    });
  const released = await releaseSlot(deps, userId, targetId, now);
  // Every scan requested before the delete is in the read model once it has caught up with it.
  if (deleted.position !== undefined) await deps.readModelsAt(deleted.position);
  const cancelled = await cancelActiveScans(deps, userId, targetId, now);
  const position = Math.max(deleted.position ?? -1, released.position ?? -1, cancelled.position);
  if (position >= 0) await deps.readModelsAt(position);
  return { cancelledScans: cancelled.scanIds };
}

async function cancelActiveScans(
  deps: CommandDeps,
  userId: string,
  targetId: string,
  now: string,
): Promise<{ scanIds: string[]; position: number }> {
  const active = await deps.readModels
    .collection<ScanDocument>('scans')
    .find({ target_id: targetId, user_id: userId, status: { $in: [...ACTIVE] } });
  const scanIds: string[] = [];
  let position = -1;
  for (const scan of active) {
    try {
      const result = await scans.handle(deps, scan._id, { type: 'CancelScan', userId, now });
      scanIds.push(scan._id);
      position = Math.max(position, result.position ?? -1);
    } catch (error) {
      // It ended meanwhile (completed or failed): nothing to cancel.
      if (!(error instanceof DomainError && error.kind === 'conflict')) throw error;
    }
  }
  return { scanIds, position };
}
