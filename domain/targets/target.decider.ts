import { assertNever, DomainError, type Decider } from '../shared/decider.js';
import type { TargetEvent } from './target.events.js';
import type { TargetType } from './targetValue.js';

/**
 * A target: what a user scans. Its value is fixed once added (scan history would
 * otherwise describe another host); name, description and `active` can change.
 * The plan's target limit is kept by the account (slots), not here.
 */
export type TargetCommand =
  | {
      type: 'AddTarget';
      targetId: string;
      userId: string;
      name: string;
      targetValue: string;
      targetType: TargetType;
      description: string;
      now: string;
    }
  | { type: 'UpdateTarget'; userId: string; name?: string; description?: string; active?: boolean; now: string }
  | { type: 'DeleteTarget'; userId: string; now: string };

export type TargetState =
  | { readonly status: 'none' }
  | {
      readonly status: 'active' | 'deleted';
      readonly targetId: string;
      readonly userId: string;
      readonly name: string;
      readonly targetValue: string;
      readonly targetType: TargetType;
      readonly description: string;
      readonly active: boolean;
      readonly addedAt: string;
    };

type Existing = Exclude<TargetState, { status: 'none' }>;

/** The target if it exists, is not deleted and belongs to `userId`; otherwise not found (never "forbidden"). */
export function ownedTarget(state: TargetState, userId: string): Existing {
  if (state.status !== 'active' || state.userId !== userId) {
    throw new DomainError('Target not found.', 'not_found', 'not_found');
  }
  return state;
}

function decide(command: TargetCommand, state: TargetState): TargetEvent[] {
  switch (command.type) {
    case 'AddTarget': {
      if (state.status !== 'none') throw new DomainError('target already exists', 'target_exists', 'conflict');
      const { targetId, userId, name, targetValue, targetType, description, now } = command;
      return [
        { type: 'TargetAdded', data: { targetId, userId, name, targetValue, targetType, description, addedAt: now } },
      ];
    }
    case 'UpdateTarget': {
      const target = ownedTarget(state, command.userId);
      const changes: { name?: string; description?: string; active?: boolean } = {};
      if (command.name !== undefined && command.name !== target.name) changes.name = command.name;
      if (command.description !== undefined && command.description !== target.description) {
        changes.description = command.description;
      }
      if (command.active !== undefined && command.active !== target.active) changes.active = command.active;
      if (Object.keys(changes).length === 0) return [];
      return [
        {
          type: 'TargetUpdated',
          data: { targetId: target.targetId, userId: target.userId, ...changes, updatedAt: command.now },
        },
      ];
    }
    case 'DeleteTarget': {
      const target = ownedTarget(state, command.userId);
      return [
        { type: 'TargetDeleted', data: { targetId: target.targetId, userId: target.userId, deletedAt: command.now } },
      ];
    }
    default:
      return assertNever(command);
  }
}

function evolve(state: TargetState, event: TargetEvent): TargetState {
  switch (event.type) {
    case 'TargetAdded': {
      const d = event.data;
      return {
        status: 'active',
        targetId: d.targetId,
        userId: d.userId,
        name: d.name,
        targetValue: d.targetValue,
        targetType: d.targetType,
        description: d.description,
        active: true,
        addedAt: d.addedAt,
      };
    }
    case 'TargetUpdated':
      if (state.status === 'none') return state;
      return {
        ...state,
        name: event.data.name ?? state.name,
        description: event.data.description ?? state.description,
        active: event.data.active ?? state.active,
      };
    case 'TargetDeleted':
      return state.status === 'none' ? state : { ...state, status: 'deleted' };
    default:
      return assertNever(event);
  }
}

export const targetDecider: Decider<TargetCommand, TargetEvent, TargetState> = {
  decide,
  evolve,
  initialState: () => ({ status: 'none' }),
};
