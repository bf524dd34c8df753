import { DomainError } from '../domain/shared/decider.js';
import { targets } from './aggregates.js';
import type { CommandDeps } from './deps.js';
import { loadTarget, releaseSlot } from './targetSlots.js';

/**
 * Deletes one of the user's targets, then gives its slot back. Another user's
 * target, or one already deleted, is not found; a repeated delete still gives
 * back a slot a failed earlier attempt kept.
 */
export async function deleteTarget(deps: CommandDeps, userId: string, targetId: string): Promise<void> {
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
        }
      }
      throw error;
    });
  const released = await releaseSlot(deps, userId, targetId, now);
  const position = Math.max(deleted.position ?? -1, released.position ?? -1);
  if (position >= 0) await deps.readModelsAt(position);
}
