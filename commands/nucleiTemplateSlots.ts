import { nucleiTemplateDecider } from '../domain/templates/nucleiTemplate.decider.js';
import { NucleiTemplateEvent, TemplateLibraryEvent } from '../domain/templates/nucleiTemplate.events.js';
import { templateLibraryDecider } from '../domain/templates/templateLibrary.decider.js';
import { streams, type CommandDeps } from './deps.js';
import { aggregateState, handleCommand } from './handleCommand.js';

/**
 * The slots of an account's template library (shared by the upload and remove
 * use cases). A slot whose template was never written (the upload died between
 * the two appends) is reclaimed once it is older than this; younger ones may
 * belong to an upload in flight.
 */
export const ORPHAN_TEMPLATE_SLOT_AGE_MS = 5 * 60_000;

export const loadNucleiTemplate = (deps: Pick<CommandDeps, 'store'>, templateId: string) =>
  aggregateState(deps.store, streams.template(templateId), nucleiTemplateDecider, NucleiTemplateEvent);

export const loadTemplateLibrary = (deps: Pick<CommandDeps, 'store'>, userId: string) =>
  aggregateState(deps.store, streams.templateLibrary(userId), templateLibraryDecider, TemplateLibraryEvent);

export const takeTemplateSlot = (
  deps: CommandDeps,
  slot: { userId: string; templateId: string; nucleiTemplateId: string; limit: number | null; now: string },
) =>
  handleCommand(deps, streams.templateLibrary(slot.userId), templateLibraryDecider, TemplateLibraryEvent, {
    type: 'TakeTemplateSlot',
    ...slot,
  });

export const releaseTemplateSlot = (deps: CommandDeps, userId: string, templateId: string, now: string) =>
  handleCommand(deps, streams.templateLibrary(userId), templateLibraryDecider, TemplateLibraryEvent, {
    type: 'ReleaseTemplateSlot',
    userId,
    templateId,
    now,
  });

/** Releases slots no template holds any more (removed, or never written and old). Returns how many. */
export async function reclaimOrphanTemplateSlots(deps: CommandDeps, userId: string, now: Date): Promise<number> {
  const { state } = await loadTemplateLibrary(deps, userId);
  let freed = 0;
  for (const [templateId, slot] of state.slots) {
    const { state: template } = await loadNucleiTemplate(deps, templateId);
    const orphan =
      template.status === 'removed' ||
      (template.status === 'none' && now.getTime() - Date.parse(slot.takenAt) > ORPHAN_TEMPLATE_SLOT_AGE_MS);
    if (!orphan) continue;
    const released = await releaseTemplateSlot(deps, userId, templateId, now.toISOString());
    if (released.newEvents.length > 0) freed += 1;
  }
  return freed;
}
