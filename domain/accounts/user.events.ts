import { z } from 'zod';

/** Events of a `user-<id>` stream: identity, credentials, sessions and API keys. */
export const UserRegistered = z.object({
  type: z.literal('UserRegistered'),
  data: z.object({
    userId: z.string(),
    email: z.string(),
    firstName: z.string(),
    lastName: z.string(),
    passwordHash: z.string(),
    registeredAt: z.string(),
  }),
});

export const ProfileUpdated = z.object({
  type: z.literal('ProfileUpdated'),
  data: z.object({
    userId: z.string(),
    firstName: z.string().optional(),
    lastName: z.string().optional(),
    updatedAt: z.string(),
  }),
});

/** Revokes every refresh-token family and every access token issued before it. */
export const PasswordChanged = z.object({
  type: z.literal('PasswordChanged'),
  data: z.object({ userId: z.string(), passwordHash: z.string(), changedAt: z.string() }),
});

/** A login: a new refresh-token family with its first token. */
export const SessionStarted = z.object({
  type: z.literal('SessionStarted'),
  data: z.object({
    userId: z.string(),
    familyId: z.string(),
    tokenId: z.string(),
    startedAt: z.string(),
    expiresAt: z.string(),
  }),
});

export const RefreshTokenRotated = z.object({
  type: z.literal('RefreshTokenRotated'),
  data: z.object({
    userId: z.string(),
    familyId: z.string(),
    previousTokenId: z.string(),
    tokenId: z.string(),
    rotatedAt: z.string(),
    expiresAt: z.string(),
  }),
});

/** A refresh token was presented twice: the whole family is revoked. */
export const RefreshTokenFamilyRevoked = z.object({
  type: z.literal('RefreshTokenFamilyRevoked'),
  data: z.object({
    userId: z.string(),
    familyId: z.string(),
    reason: z.enum(['reuse_detected']),
    revokedAt: z.string(),
  }),
});

export const ApiKeyCreated = z.object({
  type: z.literal('ApiKeyCreated'),
  data: z.object({
    userId: z.string(),
    keyId: z.string(),
    name: z.string(),
    /** First characters of the key, shown in lists so users can tell keys apart. */
    prefix: z.string(),
    /** SHA-256 (hex) of the whole key; the key itself is never stored. */
    keyHash: z.string(),
    createdAt: z.string(),
  }),
});

export const ApiKeyRevoked = z.object({
  type: z.literal('ApiKeyRevoked'),
  data: z.object({ userId: z.string(), keyId: z.string(), revokedAt: z.string() }),
});

export const UserEvent = z.discriminatedUnion('type', [
  UserRegistered,
  ProfileUpdated,
  PasswordChanged,
  SessionStarted,
  RefreshTokenRotated,
  RefreshTokenFamilyRevoked,
  ApiKeyCreated,
  ApiKeyRevoked,
]);
export type UserEvent = z.infer<typeof UserEvent>;
export const USER_EVENT_TYPES = UserEvent.options.map((o) => o.shape.type.value);

/** Events of an `email-<sha256(lowercased email)>` stream: who holds an address. */
export const EmailClaimed = z.object({
  type: z.literal('EmailClaimed'),
  data: z.object({ email: z.string(), userId: z.string(), claimedAt: z.string() }),
});
export const EmailEvent = z.discriminatedUnion('type', [EmailClaimed]);
export type EmailEvent = z.infer<typeof EmailEvent>;
