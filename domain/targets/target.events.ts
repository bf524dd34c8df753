import { z } from 'zod';
import { TARGET_TYPES } from './targetValue.js';

/** Events of a `target-<id>` stream. */
export const TargetAdded = z.object({
  type: z.literal('TargetAdded'),
  data: z.object({
    targetId: z.string(),
    userId: z.string(),
    name: z.string(),
    /** The normalized value (what we scan). */
    targetValue: z.string(),
    targetType: z.enum(TARGET_TYPES),
    description: z.string(),
    addedAt: z.string(),
  }),
});

export const TargetUpdated = z.object({
  type: z.literal('TargetUpdated'),
  data: z.object({
    targetId: z.string(),
    userId: z.string(),
    name: z.string().optional(),
    description: z.string().optional(),
    active: z.boolean().optional(),
    updatedAt: z.string(),
  }),
});

export const TargetDeleted = z.object({
  type: z.literal('TargetDeleted'),
  data: z.object({ targetId: z.string(), userId: z.string(), deletedAt: z.string() }),
});

export const TargetEvent = z.discriminatedUnion('type', [TargetAdded, TargetUpdated, TargetDeleted]);
export type TargetEvent = z.infer<typeof TargetEvent>;
export const TARGET_EVENT_TYPES = TargetEvent.options.map((o) => o.shape.type.value);
