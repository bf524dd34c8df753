import { z } from 'zod';

/**
 * Events of a `template-<id>` stream: a user's own nuclei template, uploaded once
 * (its YAML never changes: a new version is a new upload) and removed.
 */
export const NucleiTemplateUploaded = z.object({
  type: z.literal('NucleiTemplateUploaded'),
  data: z.object({
    templateId: z.string(),
    userId: z.string(),
    /** The template's own `id:` (the rule id of its findings is `nuclei.user.<it>`). */
    nucleiTemplateId: z.string(),
    name: z.string(),
    severity: z.string(),
    tags: z.array(z.string()),
    /** The YAML as uploaded (validated by the engine before the event is written). */
    yaml: z.string(),
    sha256: z.string(),
    sizeBytes: z.number().int().min(0),
    /** Requests the template sends at most. */
    requestCount: z.number().int().min(0),
    uploadedAt: z.string(),
  }),
});

export const NucleiTemplateRemoved = z.object({
  type: z.literal('NucleiTemplateRemoved'),
  data: z.object({ templateId: z.string(), userId: z.string(), removedAt: z.string() }),
});

export const NucleiTemplateEvent = z.discriminatedUnion('type', [NucleiTemplateUploaded, NucleiTemplateRemoved]);
export type NucleiTemplateEvent = z.infer<typeof NucleiTemplateEvent>;
export const NUCLEI_TEMPLATE_EVENT_TYPES = NucleiTemplateEvent.options.map((o) => o.shape.type.value);

/**
 * Events of a `templatelibrary-<userId>` stream: which templates an account holds.
 * Taking a slot is appended with the stream's expected revision, so concurrent
 * uploads can never exceed the plan's count nor reuse a template id.
 */
export const NucleiTemplateSlotTaken = z.object({
  type: z.literal('NucleiTemplateSlotTaken'),
  data: z.object({ userId: z.string(), templateId: z.string(), nucleiTemplateId: z.string(), takenAt: z.string() }),
});

export const NucleiTemplateSlotReleased = z.object({
  type: z.literal('NucleiTemplateSlotReleased'),
  data: z.object({ userId: z.string(), templateId: z.string(), releasedAt: z.string() }),
});

export const TemplateLibraryEvent = z.discriminatedUnion('type', [NucleiTemplateSlotTaken, NucleiTemplateSlotReleased]);
export type TemplateLibraryEvent = z.infer<typeof TemplateLibraryEvent>;
