import { assertNever, DomainError, type Decider } from '../shared/decider.js';
import type { TemplateLibraryEvent } from './nucleiTemplate.events.js';

/**
 * The templates an account holds, as slots: the plan's count limit and the
 * uniqueness of template ids (`id:` of the YAML) per account are decided here, on
 * one stream per account, so concurrent uploads cannot get around them.
 */
export type TemplateLibraryCommand =
  | {
      type: 'TakeTemplateSlot';
      userId: string;
      templateId: string;
      nucleiTemplateId: string;
      /** The plan's limit (null: unlimited). */
      limit: number | null;
      now: string;
    }
  | { type: 'ReleaseTemplateSlot'; userId: string; templateId: string; now: string };

export interface TemplateSlot {
  readonly nucleiTemplateId: string;
  readonly takenAt: string;
}

export interface TemplateLibraryState {
  readonly slots: ReadonlyMap<string, TemplateSlot>;
}

function decide(command: TemplateLibraryCommand, state: TemplateLibraryState): TemplateLibraryEvent[] {
  switch (command.type) {
    case 'TakeTemplateSlot': {
      if (state.slots.has(command.templateId)) return [];
      for (const [templateId, slot] of state.slots) {
        if (slot.nucleiTemplateId === command.nucleiTemplateId) {
          throw new DomainError(
            `You already have a template with id "${command.nucleiTemplateId}"; delete it first or change the id.`,
            'template_id_taken',
            'conflict',
            { template_id: command.nucleiTemplateId, existing: templateId },
          );
        }
      }
      if (command.limit !== null && state.slots.size >= command.limit) {
        throw new DomainError(
          `Your plan allows ${command.limit} nuclei templates; delete one or upgrade your plan.`,
          'template_limit_reached',
          'forbidden',
          { limit: command.limit, count: state.slots.size, upgrade_url: '/pricing/' },
        );
      }
      return [
        {
          type: 'NucleiTemplateSlotTaken',
          data: {
            userId: command.userId,
            templateId: command.templateId,
            nucleiTemplateId: command.nucleiTemplateId,
            takenAt: command.now,
          },
        },
      ];
    }
    case 'ReleaseTemplateSlot':
      if (!state.slots.has(command.templateId)) return [];
      return [
        {
          type: 'NucleiTemplateSlotReleased',
          data: { userId: command.userId, templateId: command.templateId, releasedAt: command.now },
        },
      ];
    default:
      return assertNever(command);
  }
}

function evolve(state: TemplateLibraryState, event: TemplateLibraryEvent): TemplateLibraryState {
  const slots = new Map(state.slots);
  switch (event.type) {
    case 'NucleiTemplateSlotTaken':
      slots.set(event.data.templateId, { nucleiTemplateId: event.data.nucleiTemplateId, takenAt: event.data.takenAt });
      return { slots };
    case 'NucleiTemplateSlotReleased':
      slots.delete(event.data.templateId);
      return { slots };
    default:
      return assertNever(event);
  }
}

export const templateLibraryDecider: Decider<TemplateLibraryCommand, TemplateLibraryEvent, TemplateLibraryState> = {
  decide,
  evolve,
  initialState: () => ({ slots: new Map() }),
};
