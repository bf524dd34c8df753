import { assertNever, DomainError, type Decider } from '../shared/decider.js';
import type { NucleiTemplateEvent } from './nucleiTemplate.events.js';

/** A user's own nuclei template: uploaded (validated YAML), then possibly removed. */
export type NucleiTemplateCommand =
  | {
      type: 'UploadNucleiTemplate';
      templateId: string;
      userId: string;
      nucleiTemplateId: string;
      name: string;
      severity: string;
      tags: readonly string[];
      yaml: string;
      sha256: string;
      sizeBytes: number;
      requestCount: number;
      now: string;
    }
  | { type: 'RemoveNucleiTemplate'; userId: string; now: string };

export type NucleiTemplateState =
  | { readonly status: 'none' }
  | {
      readonly status: 'active' | 'removed';
      readonly templateId: string;
      readonly userId: string;
      readonly nucleiTemplateId: string;
    };

type Existing = Exclude<NucleiTemplateState, { status: 'none' }>;

/** The template if it exists, is not removed and belongs to `userId`; otherwise not found (never "forbidden"). */
export function ownedTemplate(state: NucleiTemplateState, userId: string): Existing {
  if (state.status !== 'active' || state.userId !== userId) {
    throw new DomainError('Template not found.', 'not_found', 'not_found');
  }
  return state;
}

function decide(command: NucleiTemplateCommand, state: NucleiTemplateState): NucleiTemplateEvent[] {
  switch (command.type) {
    case 'UploadNucleiTemplate': {
      if (state.status !== 'none') throw new DomainError('template already exists', 'template_exists', 'conflict');
      const { type: _type, now, tags, ...data } = command;
      return [{ type: 'NucleiTemplateUploaded', data: { ...data, tags: [...tags], uploadedAt: now } }];
    }
    case 'RemoveNucleiTemplate': {
      const template = ownedTemplate(state, command.userId);
      return [
        {
          type: 'NucleiTemplateRemoved',
          data: { templateId: template.templateId, userId: template.userId, removedAt: command.now },
        },
      ];
    }
    default:
      return assertNever(command);
  }
}

function evolve(state: NucleiTemplateState, event: NucleiTemplateEvent): NucleiTemplateState {
  switch (event.type) {
    case 'NucleiTemplateUploaded':
      return {
        status: 'active',
        templateId: event.data.templateId,
        userId: event.data.userId,
        nucleiTemplateId: event.data.nucleiTemplateId,
      };
    case 'NucleiTemplateRemoved':
      return state.status === 'none' ? state : { ...state, status: 'removed' };
    default:
      return assertNever(event);
  }
}

export const nucleiTemplateDecider: Decider<NucleiTemplateCommand, NucleiTemplateEvent, NucleiTemplateState> = {
  decide,
  evolve,
  initialState: () => ({ status: 'none' }),
};
