import { DomainError } from '../domain/shared/decider.js';
import { nucleiTemplateDecider } from '../domain/templates/nucleiTemplate.decider.js';
import { NucleiTemplateEvent } from '../domain/templates/nucleiTemplate.events.js';
import { streams, type CommandDeps } from './deps.js';
import { handleCommand } from './handleCommand.js';
import { loadNucleiTemplate, releaseTemplateSlot } from './nucleiTemplateSlots.js';

/**
 * Removes one of the user's own templates, then gives its library slot back.
 * Another user's template, or one already removed, is not found; a repeated
 * remove still gives back a slot an earlier failed attempt kept. Scans already
 * requested keep their snapshot and still run it.
 */
export async function removeNucleiTemplate(deps: CommandDeps, userId: string, templateId: string): Promise<string> {
  const now = deps.clock.now().toISOString();
  const removed = await handleCommand(deps, streams.template(templateId), nucleiTemplateDecider, NucleiTemplateEvent, {
    type: 'RemoveNucleiTemplate',
    userId,
    now,
  }).catch(async (error: unknown) => {
    if (error instanceof DomainError && error.kind === 'not_found') {
      const { state } = await loadNucleiTemplate(deps, templateId);
      if (state.status === 'removed' && state.userId === userId) {
        await releaseTemplateSlot(deps, userId, templateId, now).catch(() => undefined);
      }
    }
    throw error;
  });
  const released = await releaseTemplateSlot(deps, userId, templateId, now);
  const position = Math.max(removed.position ?? -1, released.position ?? -1);
  if (position >= 0) await deps.readModelsAt(position);
  return now;
}
