import { assertNever, DomainError, type Decider } from '../shared/decider.js';
import type { IdempotencyEvent } from './idempotency.events.js';

/** A claim not answered within this time is taken to be from a crashed request and may be taken over. */
export const CLAIM_TAKEOVER_MS = 30_000;

export type IdempotencyCommand =
  | { type: 'ClaimKey'; userId: string; requestHash: string; resourceId: string; now: string }
  | { type: 'RecordResponse'; userId: string; status: number; body: Record<string, unknown>; now: string };

export type IdempotencyState =
  | { readonly status: 'free' }
  | {
      readonly status: 'claimed' | 'answered';
      readonly requestHash: string;
      readonly resourceId: string;
      readonly claimedAt: string;
      readonly response?: { readonly status: number; readonly body: Record<string, unknown> };
    };

function decide(command: IdempotencyCommand, state: IdempotencyState): IdempotencyEvent[] {
  switch (command.type) {
    case 'ClaimKey': {
      if (state.status !== 'free') {
        if (state.requestHash !== command.requestHash) {
          throw new DomainError(
            'This Idempotency-Key was already used with a different request.',
            'idempotency_key_reused',
            'conflict',
          );
        }
        if (state.status === 'answered') return [];
        if (Date.parse(command.now) - Date.parse(state.claimedAt) < CLAIM_TAKEOVER_MS) {
          throw new DomainError(
            'A request with this Idempotency-Key is still in progress; retry shortly.',
            'idempotency_in_progress',
            'conflict',
          );
        }
        // A crashed request: take over its claim, keeping its resource id (the work it did is idempotent).
        return [
          {
            type: 'IdempotencyKeyClaimed',
            data: {
              userId: command.userId,
              requestHash: command.requestHash,
              resourceId: state.resourceId,
              claimedAt: command.now,
            },
          },
        ];
      }
      const { userId, requestHash, resourceId, now } = command;
      return [{ type: 'IdempotencyKeyClaimed', data: { userId, requestHash, resourceId, claimedAt: now } }];
    }
    case 'RecordResponse':
      if (state.status !== 'claimed') return [];
      return [
        {
          type: 'IdempotentResponseRecorded',
          data: { userId: command.userId, status: command.status, body: command.body, recordedAt: command.now },
        },
      ];
    default:
      return assertNever(command);
  }
}

function evolve(state: IdempotencyState, event: IdempotencyEvent): IdempotencyState {
  switch (event.type) {
    case 'IdempotencyKeyClaimed':
      return {
        status: 'claimed',
        requestHash: event.data.requestHash,
        resourceId: event.data.resourceId,
        claimedAt: event.data.claimedAt,
      };
    case 'IdempotentResponseRecorded':
      return state.status === 'free'
        ? state
        : { ...state, status: 'answered', response: { status: event.data.status, body: event.data.body } };
    default:
      return assertNever(event);
  }
}

export const idempotencyDecider: Decider<IdempotencyCommand, IdempotencyEvent, IdempotencyState> = {
  decide,
  evolve,
  initialState: () => ({ status: 'free' }),
};
