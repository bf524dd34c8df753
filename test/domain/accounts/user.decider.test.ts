import { describe, expect, it } from 'vitest';
import { MAX_ACTIVE_API_KEYS, userDecider } from '../../../domain/accounts/user.decider.js';
import type { UserEvent } from '../../../domain/accounts/user.events.js';
import { emailDecider } from '../../../domain/accounts/email.decider.js';
import { deciderSpec } from '../../support/deciderSpec.js';

const spec = deciderSpec(userDecider);
const U = 'user-1';
const T0 = '2026-11-10T12:00:00.000Z';
const T1 = '2026-11-10T12:05:00.000Z';
const LATER = '2026-11-17T12:00:00.000Z';

const registered: UserEvent = {
  type: 'UserRegistered',
  data: {
    userId: U,
    email: 'ada@example.com',
    firstName: 'Ada',
    lastName: 'Lovelace',
    passwordHash: 'h1',
    registeredAt: T0,
  },
};
const session = (familyId: string, tokenId: string): UserEvent => ({
  type: 'SessionStarted',
  data: { userId: U, familyId, tokenId, startedAt: T0, expiresAt: LATER },
});

describe('user decider', () => {
  it('registers once', () => {
    spec
      .given([])
      .when({
        type: 'RegisterUser',
        userId: U,
        email: 'ada@example.com',
        firstName: 'Ada',
        lastName: 'Lovelace',
        passwordHash: 'h1',
        now: T0,
      })
      .then([registered]);
    spec
      .given([registered])
      .when({
        type: 'RegisterUser',
        userId: U,
        email: 'x@example.com',
        firstName: 'X',
        lastName: 'Y',
        passwordHash: 'h',
        now: T0,
      })
      .thenThrows('user_exists');
  });

  it('updates only what changed, and nothing when nothing changed', () => {
    spec
      .given([registered])
      .when({ type: 'UpdateProfile', firstName: 'Augusta', now: T1 })
      .then([{ type: 'ProfileUpdated', data: { userId: U, firstName: 'Augusta', updatedAt: T1 } }]);
    spec.given([registered]).when({ type: 'UpdateProfile', firstName: 'Ada', lastName: 'Lovelace', now: T1 }).then([]);
  });

  it('rotates the current refresh token of a family', () => {
    spec
      .given([registered, session('f1', 't1')])
      .when({
        type: 'RotateRefreshToken',
        familyId: 'f1',
        presentedTokenId: 't1',
        newTokenId: 't2',
        expiresAt: LATER,
        now: T1,
      })
      .then([
        {
          type: 'RefreshTokenRotated',
          data: { userId: U, familyId: 'f1', previousTokenId: 't1', tokenId: 't2', rotatedAt: T1, expiresAt: LATER },
        },
      ]);
  });

  it('a reused (older) refresh token revokes its whole family', () => {
    const rotated: UserEvent = {
      type: 'RefreshTokenRotated',
      data: { userId: U, familyId: 'f1', previousTokenId: 't1', tokenId: 't2', rotatedAt: T1, expiresAt: LATER },
    };
    const revoked: UserEvent = {
      type: 'RefreshTokenFamilyRevoked',
      data: { userId: U, familyId: 'f1', reason: 'reuse_detected', revokedAt: T1 },
    };
    spec
      .given([registered, session('f1', 't1'), rotated])
      .when({
        type: 'RotateRefreshToken',
        familyId: 'f1',
        presentedTokenId: 't1',
        newTokenId: 't3',
        expiresAt: LATER,
        now: T1,
      })
      .then([revoked]);
    // …after which even the newest token of that family is refused.
    spec
      .given([registered, session('f1', 't1'), rotated, revoked])
      .when({
        type: 'RotateRefreshToken',
        familyId: 'f1',
        presentedTokenId: 't2',
        newTokenId: 't3',
        expiresAt: LATER,
        now: T1,
      })
      .thenThrows('token_invalid');
  });

  it('a password change revokes every family and bumps the session version', () => {
    const changed: UserEvent = { type: 'PasswordChanged', data: { userId: U, passwordHash: 'h2', changedAt: T1 } };
    const state = spec.given([registered, session('f1', 't1'), session('f2', 'u1'), changed]).state;
    expect(state).toMatchObject({ sessionVersion: 1, passwordHash: 'h2', families: {} });
    spec
      .given([registered, session('f1', 't1'), changed])
      .when({
        type: 'RotateRefreshToken',
        familyId: 'f1',
        presentedTokenId: 't1',
        newTokenId: 't2',
        expiresAt: LATER,
        now: T1,
      })
      .thenThrows('token_invalid');
  });

  it('a password change revokes every active API key with it', () => {
    const key = (keyId: string): UserEvent => ({
      type: 'ApiKeyCreated',
      data: { userId: U, keyId, name: keyId, prefix: 'sk_x', keyHash: `hash-${keyId}`, createdAt: T0 },
    });
    const revoked: UserEvent = { type: 'ApiKeyRevoked', data: { userId: U, keyId: 'k2', revokedAt: T0 } };
    spec
      .given([registered, key('k1'), key('k2'), revoked, key('k3')])
      .when({ type: 'ChangePassword', passwordHash: 'h2', now: T1 })
      .then([
        { type: 'PasswordChanged', data: { userId: U, passwordHash: 'h2', changedAt: T1 } },
        { type: 'ApiKeyRevoked', data: { userId: U, keyId: 'k1', revokedAt: T1 } },
        { type: 'ApiKeyRevoked', data: { userId: U, keyId: 'k3', revokedAt: T1 } },
      ]);
  });

  it('an expired family cannot be refreshed', () => {
    spec
      .given([registered, session('f1', 't1')])
      .when({
        type: 'RotateRefreshToken',
        familyId: 'f1',
        presentedTokenId: 't1',
        newTokenId: 't2',
        expiresAt: LATER,
        now: LATER,
      })
      .thenThrows('token_invalid');
  });

  it('creates and revokes API keys, with a cap on active keys', () => {
    const created = (i: number): UserEvent => ({
      type: 'ApiKeyCreated',
      data: { userId: U, keyId: `k${i}`, name: `key ${i}`, prefix: 'sk_abc', keyHash: `hash${i}`, createdAt: T0 },
    });
    spec.given([registered]).when({ type: 'RevokeApiKey', keyId: 'k1', now: T1 }).thenThrows('not_found');
    spec
      .given([registered, created(1)])
      .when({ type: 'RevokeApiKey', keyId: 'k1', now: T1 })
      .then([{ type: 'ApiKeyRevoked', data: { userId: U, keyId: 'k1', revokedAt: T1 } }]);
    const full = [registered, ...Array.from({ length: MAX_ACTIVE_API_KEYS }, (_, i) => created(i))];
    spec
      .given(full)
      .when({ type: 'CreateApiKey', keyId: 'kx', name: 'x', prefix: 'p', keyHash: 'h', now: T1 })
      .thenThrows('api_key_limit');
  });

  it('commands for an unknown user are refused', () => {
    spec.given([]).when({ type: 'ChangePassword', passwordHash: 'h', now: T0 }).thenThrows('user_not_found');
  });
});

describe('email decider', () => {
  const claim = (userId: string, holderExists: boolean) =>
    ({ type: 'ClaimEmail', email: 'ada@example.com', userId, holderExists, now: T0 }) as const;
  const claimed = { type: 'EmailClaimed', data: { email: 'ada@example.com', userId: 'u1', claimedAt: T0 } } as const;
  const emailSpec = deciderSpec(emailDecider);

  it('a free address is claimed', () => {
    emailSpec.given([]).when(claim('u1', false)).then([claimed]);
  });
  it('a held address is refused', () => {
    emailSpec.given([claimed]).when(claim('u2', true)).thenThrows('email_taken');
  });
  it('a claim whose user was never written can be taken over once it is abandoned', () => {
    const later = '2026-11-10T12:01:00.000Z';
    emailSpec
      .given([claimed])
      .when({ ...claim('u2', false), now: later })
      .then([{ type: 'EmailClaimed', data: { email: 'ada@example.com', userId: 'u2', claimedAt: later } }]);
  });
  it('a fresh claim whose user is still being written is not taken over (a racing registration)', () => {
    emailSpec
      .given([claimed])
      .when({ ...claim('u2', false), now: '2026-11-10T12:00:59.999Z' })
      .thenThrows('email_taken');
  });
});
