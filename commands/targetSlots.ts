import { accounts, targets } from './aggregates.js';
import { streams, type CommandDeps } from './deps.js';

/**
 * A slot taken (TargetSlotTaken) whose target was never added: the process died
 * between the two appends. Such a slot is reclaimed when the user hits the limit
 * and the slot is older than this (younger ones may belong to an add in flight).
 */
export const ORPHAN_SLOT_AGE_MS = 5 * 60_000;

export const loadTarget = (deps: Pick<CommandDeps, 'store'>, targetId: string) => targets.state(deps, targetId);

export const takeSlot = (deps: CommandDeps, userId: string, targetId: string, now: string) =>
  accounts.handle(deps, userId, { type: 'TakeTargetSlot', targetId, now });

export const releaseSlot = (deps: CommandDeps, userId: string, targetId: string, now: string) =>
  accounts.handle(deps, userId, {
    type: 'ReleaseTargetSlot',
    targetId,
    now,
  });

/**
 * Releases slots no target holds any more: the target was deleted (the release
 * after the delete did not happen) or never added (the add died after taking the
 * slot, and the slot is older than ORPHAN_SLOT_AGE_MS). Returns how many it freed.
 */
export async function reclaimOrphanSlots(deps: CommandDeps, userId: string, now: Date): Promise<number> {
  const recorded = await deps.store.readStream(streams.account(userId));
  const takenAt = new Map<string, number>();
  for (const event of recorded) {
    if (event.type === 'TargetSlotTaken') {
      takenAt.set(String(event.data.targetId), Date.parse(String(event.data.takenAt)));
    }
    if (event.type === 'TargetSlotReleased') takenAt.delete(String(event.data.targetId));
  }
  let freed = 0;
  for (const [targetId, at] of takenAt) {
    const { state } = await loadTarget(deps, targetId);
    const orphan = state.status === 'deleted' || (state.status === 'none' && now.getTime() - at > ORPHAN_SLOT_AGE_MS);
    if (!orphan) continue;
    const released = await releaseSlot(deps, userId, targetId, now.toISOString());
    if (released.newEvents.length > 0) freed += 1;
  }
  return freed;
}
