import { assertNever, DomainError, type Decider } from '../shared/decider.js';
import type { UserEvent } from './user.events.js';

export const MAX_ACTIVE_API_KEYS = 20;

export type UserCommand =
  | {
      type: 'RegisterUser';
      userId: string;
      email: string;
      firstName: string;
      lastName: string;
      passwordHash: string;
      now: string;
    }
  | { type: 'UpdateProfile'; firstName?: string; lastName?: string; now: string }
  /** The handler has checked the current password before sending this. */
  | { type: 'ChangePassword'; passwordHash: string; now: string }
  | { type: 'StartSession'; familyId: string; tokenId: string; expiresAt: string; now: string }
  | {
      type: 'RotateRefreshToken';
      familyId: string;
      presentedTokenId: string;
      newTokenId: string;
      expiresAt: string;
      now: string;
    }
  | { type: 'CreateApiKey'; keyId: string; name: string; prefix: string; keyHash: string; now: string }
  | { type: 'RevokeApiKey'; keyId: string; now: string };

export interface RefreshFamily {
  readonly currentTokenId: string;
  readonly expiresAt: string;
  readonly revoked: boolean;
}

export interface ApiKeySummary {
  readonly keyId: string;
  readonly name: string;
  readonly prefix: string;
  readonly createdAt: string;
  readonly revokedAt: string | null;
}

export type UserState =
  | { readonly status: 'none' }
  | {
      readonly status: 'registered';
      readonly userId: string;
      readonly email: string;
      readonly firstName: string;
      readonly lastName: string;
      readonly passwordHash: string;
      readonly registeredAt: string;
      /** Bumped by every password change; access tokens carry the value they were issued under. */
      readonly sessionVersion: number;
      readonly families: Readonly<Record<string, RefreshFamily>>;
      readonly apiKeys: Readonly<Record<string, ApiKeySummary>>;
    };

type Registered = Extract<UserState, { status: 'registered' }>;

function registered(state: UserState): Registered {
  if (state.status !== 'registered') throw new DomainError('user not found', 'user_not_found', 'not_found');
  return state;
}

function decide(command: UserCommand, state: UserState): UserEvent[] {
  switch (command.type) {
    case 'RegisterUser': {
      if (state.status !== 'none') throw new DomainError('user already exists', 'user_exists', 'conflict');
      const { userId, email, firstName, lastName, passwordHash, now } = command;
      return [
        { type: 'UserRegistered', data: { userId, email, firstName, lastName, passwordHash, registeredAt: now } },
      ];
    }
    case 'UpdateProfile': {
      const user = registered(state);
      const changes: { firstName?: string; lastName?: string } = {};
      if (command.firstName !== undefined && command.firstName !== user.firstName)
        changes.firstName = command.firstName;
      if (command.lastName !== undefined && command.lastName !== user.lastName) changes.lastName = command.lastName;
      if (Object.keys(changes).length === 0) return [];
      return [{ type: 'ProfileUpdated', data: { userId: user.userId, ...changes, updatedAt: command.now } }];
    }
    case 'ChangePassword': {
      // A password change is what a user does when they fear someone else has it: every
      // session ends (the session version) and every API key is revoked, so a key minted
      // by whoever had the password does not outlive it.
      const user = registered(state);
      const activeKeys = Object.values(user.apiKeys).filter((key) => key.revokedAt === null);
      return [
        {
          type: 'PasswordChanged',
          data: { userId: user.userId, passwordHash: command.passwordHash, changedAt: command.now },
        },
        ...activeKeys.map((key): UserEvent => ({
          type: 'ApiKeyRevoked',
          data: { userId: user.userId, keyId: key.keyId, revokedAt: command.now },
        })),
      ];
    }
    case 'StartSession': {
      const user = registered(state);
      const { familyId, tokenId, expiresAt, now } = command;
      return [{ type: 'SessionStarted', data: { userId: user.userId, familyId, tokenId, startedAt: now, expiresAt } }];
    }
    case 'RotateRefreshToken': {
      const user = registered(state);
      const family = user.families[command.familyId];
      if (!family || family.revoked || family.expiresAt <= command.now) {
        throw new DomainError('refresh token is not valid', 'token_invalid', 'unauthorized');
      }
      if (family.currentTokenId !== command.presentedTokenId) {
        // An older token of the family came back: it was stolen or replayed. Revoke all of it.
        return [
          {
            type: 'RefreshTokenFamilyRevoked',
            data: { userId: user.userId, familyId: command.familyId, reason: 'reuse_detected', revokedAt: command.now },
          },
        ];
      }
      return [
        {
          type: 'RefreshTokenRotated',
          data: {
            userId: user.userId,
            familyId: command.familyId,
            previousTokenId: command.presentedTokenId,
            tokenId: command.newTokenId,
            rotatedAt: command.now,
            expiresAt: command.expiresAt,
          },
        },
      ];
    }
    case 'CreateApiKey': {
      const user = registered(state);
      const active = Object.values(user.apiKeys).filter((k) => k.revokedAt === null).length;
      if (active >= MAX_ACTIVE_API_KEYS) {
        throw new DomainError(`at most ${MAX_ACTIVE_API_KEYS} active API keys`, 'api_key_limit', 'forbidden', {
          limit: MAX_ACTIVE_API_KEYS,
        });
      }
      const { keyId, name, prefix, keyHash, now } = command;
      return [{ type: 'ApiKeyCreated', data: { userId: user.userId, keyId, name, prefix, keyHash, createdAt: now } }];
    }
    case 'RevokeApiKey': {
      const user = registered(state);
      const key = user.apiKeys[command.keyId];
      if (!key || key.revokedAt !== null) throw new DomainError('API key not found', 'not_found', 'not_found');
      return [{ type: 'ApiKeyRevoked', data: { userId: user.userId, keyId: command.keyId, revokedAt: command.now } }];
    }
    default:
      return assertNever(command);
  }
}

/** Families whose refresh token has expired are forgotten to keep the state small. */
function liveFamilies(families: Readonly<Record<string, RefreshFamily>>, now: string): Record<string, RefreshFamily> {
  return Object.fromEntries(Object.entries(families).filter(([, f]) => f.expiresAt > now));
}

function evolve(state: UserState, event: UserEvent): UserState {
  if (event.type === 'UserRegistered') {
    const d = event.data;
    return {
      status: 'registered',
      userId: d.userId,
      email: d.email,
      firstName: d.firstName,
      lastName: d.lastName,
      passwordHash: d.passwordHash,
      registeredAt: d.registeredAt,
      sessionVersion: 0,
      families: {},
      apiKeys: {},
    };
  }
  if (state.status !== 'registered') return state;
  switch (event.type) {
    case 'ProfileUpdated':
      return {
        ...state,
        firstName: event.data.firstName ?? state.firstName,
        lastName: event.data.lastName ?? state.lastName,
      };
    case 'PasswordChanged':
      return {
        ...state,
        passwordHash: event.data.passwordHash,
        sessionVersion: state.sessionVersion + 1,
        families: {},
      };
    case 'SessionStarted': {
      const families = liveFamilies(state.families, event.data.startedAt);
      families[event.data.familyId] = {
        currentTokenId: event.data.tokenId,
        expiresAt: event.data.expiresAt,
        revoked: false,
      };
      return { ...state, families };
    }
    case 'RefreshTokenRotated': {
      const family = state.families[event.data.familyId];
      if (!family) return state;
      return {
        ...state,
        families: {
          ...state.families,
          [event.data.familyId]: { ...family, currentTokenId: event.data.tokenId, expiresAt: event.data.expiresAt },
        },
      };
    }
    case 'RefreshTokenFamilyRevoked': {
      const family = state.families[event.data.familyId];
      if (!family) return state;
      return { ...state, families: { ...state.families, [event.data.familyId]: { ...family, revoked: true } } };
    }
    case 'ApiKeyCreated': {
      const { keyId, name, prefix, createdAt } = event.data;
      return { ...state, apiKeys: { ...state.apiKeys, [keyId]: { keyId, name, prefix, createdAt, revokedAt: null } } };
    }
    case 'ApiKeyRevoked': {
      const key = state.apiKeys[event.data.keyId];
      if (!key) return state;
      return {
        ...state,
        apiKeys: { ...state.apiKeys, [event.data.keyId]: { ...key, revokedAt: event.data.revokedAt } },
      };
    }
    default:
      return assertNever(event);
  }
}

export const userDecider: Decider<UserCommand, UserEvent, UserState> = {
  decide,
  evolve,
  initialState: () => ({ status: 'none' }),
};
