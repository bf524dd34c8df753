import { describe, expect, it } from 'vitest';
import { targetDecider } from '../../../domain/targets/target.decider.js';
import type { TargetEvent } from '../../../domain/targets/target.events.js';
import { deciderSpec } from '../../support/deciderSpec.js';

const spec = deciderSpec(targetDecider);
const T = 'target-1';
const OWNER = 'user-1';
const OTHER = 'user-2';
const ADDED_AT = '2026-11-10T12:00:00.000Z';
const LATER = '2026-11-11T08:30:00.000Z';

const added: TargetEvent = {
  type: 'TargetAdded',
  data: {
    targetId: T,
    userId: OWNER,
    name: 'Web',
    targetValue: 'https://example.com/',
    targetType: 'url',
    description: '',
    addedAt: ADDED_AT,
  },
};
const deleted: TargetEvent = { type: 'TargetDeleted', data: { targetId: T, userId: OWNER, deletedAt: LATER } };

describe('target decider', () => {
  describe('AddTarget', () => {
    it('adds a new target', () => {
      spec
        .given([])
        .when({
          type: 'AddTarget',
          targetId: T,
          userId: OWNER,
          name: 'Web',
          targetValue: 'https://example.com/',
          targetType: 'url',
          description: '',
          now: ADDED_AT,
        })
        .then([added]);
    });

    it('refuses to add the same target twice, even once deleted (ids are never reused)', () => {
      const command = {
        type: 'AddTarget' as const,
        targetId: T,
        userId: OWNER,
        name: 'Again',
        targetValue: '8.8.8.8',
        targetType: 'ip' as const,
        description: '',
        now: LATER,
      };
      spec.given([added]).when(command).thenThrows('target_exists');
      spec.given([added, deleted]).when(command).thenThrows('target_exists');
    });
  });

  describe('UpdateTarget', () => {
    it('records only what changes', () => {
      spec
        .given([added])
        .when({ type: 'UpdateTarget', userId: OWNER, name: 'Web', description: 'prod', active: false, now: LATER })
        .then([
          {
            type: 'TargetUpdated',
            data: { targetId: T, userId: OWNER, description: 'prod', active: false, updatedAt: LATER },
          },
        ]);
    });

    it('is a no-op when nothing changes', () => {
      spec.given([added]).when({ type: 'UpdateTarget', userId: OWNER, name: 'Web', active: true, now: LATER }).then([]);
    });

    it('changes the state: name, description and active', () => {
      const state = spec
        .given([added])
        .when({ type: 'UpdateTarget', userId: OWNER, name: 'Renamed', active: false, now: LATER })
        .stateAfter();
      expect(state).toMatchObject({
        status: 'active',
        name: 'Renamed',
        active: false,
        targetValue: added.data.targetValue,
      });
    });

    it('another user’s, a missing or a deleted target is not found (never "forbidden")', () => {
      spec
        .given([added])
        .when({ type: 'UpdateTarget', userId: OTHER, name: 'Mine', now: LATER })
        .thenThrows('not_found');
      spec.given([]).when({ type: 'UpdateTarget', userId: OWNER, name: 'x', now: LATER }).thenThrows('not_found');
      spec
        .given([added, deleted])
        .when({ type: 'UpdateTarget', userId: OWNER, name: 'x', now: LATER })
        .thenThrows('not_found');
    });
  });

  describe('DeleteTarget', () => {
    it('deletes the owner’s target', () => {
      spec.given([added]).when({ type: 'DeleteTarget', userId: OWNER, now: LATER }).then([deleted]);
    });

    it('a second delete, another user’s delete or a missing target: not found', () => {
      spec.given([added, deleted]).when({ type: 'DeleteTarget', userId: OWNER, now: LATER }).thenThrows('not_found');
      spec.given([added]).when({ type: 'DeleteTarget', userId: OTHER, now: LATER }).thenThrows('not_found');
      spec.given([]).when({ type: 'DeleteTarget', userId: OWNER, now: LATER }).thenThrows('not_found');
    });

    it('leaves a deleted state that still knows its owner', () => {
      const state = spec.given([added]).when({ type: 'DeleteTarget', userId: OWNER, now: LATER }).stateAfter();
      expect(state).toMatchObject({ status: 'deleted', userId: OWNER, targetId: T });
    });
  });
});
