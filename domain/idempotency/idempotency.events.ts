import { z } from 'zod';

/**
 * Events of an `idempotency-<userId>-<sha256(key)>` stream: an `Idempotency-Key`
 * claimed by a request (with the scan id it will use, so a re-run after a crash
 * reuses it and cannot charge twice) and the answer that request gave.
 */
export const IdempotencyKeyClaimed = z.object({
  type: z.literal('IdempotencyKeyClaimed'),
  data: z.object({ userId: z.string(), requestHash: z.string(), resourceId: z.string(), claimedAt: z.string() }),
});

export const IdempotentResponseRecorded = z.object({
  type: z.literal('IdempotentResponseRecorded'),
  data: z.object({
    userId: z.string(),
    status: z.number().int(),
    body: z.record(z.string(), z.unknown()),
    recordedAt: z.string(),
  }),
});

export const IdempotencyEvent = z.discriminatedUnion('type', [IdempotencyKeyClaimed, IdempotentResponseRecorded]);
export type IdempotencyEvent = z.infer<typeof IdempotencyEvent>;
