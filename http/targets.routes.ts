import { Hono, type Context } from 'hono';
import { z } from 'zod';
import { addTarget, type NewTarget } from '../commands/addTarget.js';
import { deleteTarget } from '../commands/deleteTarget.js';
import { updateTarget } from '../commands/updateTarget.js';
import { DomainError } from '../domain/shared/decider.js';
import { targetTypeSchema } from '../domain/targets/targetValue.js';
import type { TargetDocument } from '../projections/targets.projection.js';
import { requireUser } from './authenticate.js';
import type { AppDeps, AppEnv } from './deps.js';
import { ApiError, notFound } from './errors.js';
import { jsonBody, pathId, queryParams } from './validation.js';
import { displayName } from './validators.js';

/** Control characters but the line breaks and tabs a description may hold. */
const CONTROL_BUT_WHITESPACE = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;

export const TARGET_NAME_MAX = 200;
export const TARGET_DESCRIPTION_MAX = 2000;
export const TARGET_VALUE_MAX = 2048;

const targetName = displayName(TARGET_NAME_MAX);

/** null is taken as "no description" (clients send it for an empty optional field). */
const description = z
  .string()
  .trim()
  .max(TARGET_DESCRIPTION_MAX, `At most ${TARGET_DESCRIPTION_MAX} characters.`)
  .refine((s) => !CONTROL_BUT_WHITESPACE.test(s), 'Control characters are not allowed.')
  .nullable()
  .transform((s) => s ?? '');

const targetValue = z.string().max(TARGET_VALUE_MAX, `At most ${TARGET_VALUE_MAX} characters.`);
const targetType = z.enum(targetTypeSchema.options, {
  error: `target_type must be one of ${targetTypeSchema.options.join(', ')}.`,
});

export const NewTargetBody = z
  .object({
    name: targetName,
    target_value: targetValue,
    target_type: targetType.optional(),
    description: description.optional(),
  })
  .strict();

/**
 * The older resource name: `{url, name}` as in the reference's client example.
 * `url` is a URL target (target_type url); `target_value` (with an optional
 * target_type) is accepted too, exactly as on /targets/. One of the two.
 */
export const NewWebsiteBody = z
  .object({
    name: targetName,
    url: targetValue.optional(),
    target_value: targetValue.optional(),
    target_type: targetType.optional(),
    description: description.optional(),
  })
  .strict()
  .superRefine((body, ctx) => {
    if (body.url === undefined && body.target_value === undefined) {
      ctx.addIssue({ code: 'custom', path: ['url'], message: 'This field is required (or send target_value).' });
    }
    if (body.url !== undefined && body.target_value !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['url'], message: 'Send url or target_value, not both.' });
    }
    if (body.url !== undefined && body.target_type !== undefined && body.target_type !== 'url') {
      ctx.addIssue({ code: 'custom', path: ['target_type'], message: "A url is of target_type 'url'." });
    }
  });

const IMMUTABLE = 'The target value cannot change (scan history would describe another host); create a new target.';

const immutable = z
  .unknown()
  .refine(() => false, IMMUTABLE)
  .optional();

export const TargetPatch = z
  .object({
    name: targetName.optional(),
    description: description.optional(),
    active: z.boolean({ error: 'Must be true or false.' }).optional(),
    // Present at all (whatever the value) → refused with the reason.
    target_value: immutable,
    target_type: immutable,
    url: immutable,
  })
  .strict()
  .refine((b) => b.name !== undefined || b.description !== undefined || b.active !== undefined, {
    message: 'Send name, description and/or active.',
  });

/** Digits only (no signs, spaces, exponents or decimals), then a range. */
const positiveInt = (max: number | undefined, message: string) =>
  z
    .string()
    .regex(/^\d{1,9}$/, message)
    .transform(Number)
    .pipe(max === undefined ? z.number().int().min(1, message) : z.number().int().min(1, message).max(max, message));

export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;

export const ListQuery = z
  .object({
    page: positiveInt(undefined, 'A page number from 1.').default(1),
    page_size: positiveInt(MAX_PAGE_SIZE, `A page size from 1 to ${MAX_PAGE_SIZE}.`).default(DEFAULT_PAGE_SIZE),
    active: z.enum(['true', 'false'], { error: 'true or false.' }).optional(),
    target_type: targetType.optional(),
  })
  .strict();

/** The reference's target shape (the 201 body, GET, PATCH). */
export function targetView(doc: TargetDocument) {
  return {
    id: doc._id,
    url: doc.url,
    name: doc.name,
    scan_frequency: doc.scan_frequency,
    active: doc.active,
    created_at: doc.created_at,
    latest_scan: doc.latest_scan,
    risk_level: doc.risk_level,
    can_scan: doc.can_scan,
    target_value: doc.target_value,
    target_type: doc.target_type,
    description: doc.description,
    updated_at: doc.updated_at,
  };
}

/** A PATCH that tries to change the value says so in its message, not only in a field error. */
function immutableFirst(error: unknown): unknown {
  if (!(error instanceof ApiError)) return error;
  const fields = (error.details?.fields ?? {}) as Record<string, string[]>;
  const tried = Object.values(fields).some((messages) => messages.includes(IMMUTABLE));
  return tried ? new ApiError(400, IMMUTABLE, error.code, error.details) : error;
}

/**
 * For a /websites/ body that sent `url`: errors about the value (or its type,
 * which `url` fixes) reported under `url`, the field the client sent.
 */
function asUrlField(error: unknown): unknown {
  if (!(error instanceof DomainError) || error.kind !== 'invalid') return error;
  const fields = error.details?.fields as Record<string, string[]> | undefined;
  if (!fields?.target_value && !fields?.target_type) return error;
  const rename = (s: string) => s.replace(/^target_value\b/, 'url');
  const { target_value: valueMessages = [], target_type: typeMessages = [], ...others } = fields;
  return new DomainError(rename(error.message), error.code, error.kind, {
    ...error.details,
    fields: { ...others, url: [...valueMessages, ...typeMessages].map(rename) },
  });
}

/**
 * Targets (IPs, hostnames, URLs, CIDR ranges) under `/targets/` and under their
 * older name `/websites/`. Another user's target is a 404, never a 403.
 */
export function targetsRoutes(deps: AppDeps) {
  const app = new Hono<AppEnv>();
  const targets = deps.readModels.collection<TargetDocument>('targets');

  async function ownTarget(c: Context<AppEnv>, userId: string): Promise<TargetDocument> {
    const doc = await targets.get(pathId(c));
    if (!doc || doc.user_id !== userId) throw notFound('Target not found.');
    return doc;
  }

  async function created(c: Context<AppEnv>, userId: string, input: NewTarget) {
    const { targetId } = await addTarget(deps, userId, input);
    const doc = await targets.get(targetId);
    if (!doc) throw notFound('Target not found (it was deleted meanwhile).');
    return c.json(targetView(doc), 201);
  }

  for (const resource of ['targets', 'websites'] as const) {
    const base = `/${resource}`;

    app.get(base, async (c) => {
      const { userId } = requireUser(c);
      const query = queryParams(c, ListQuery);
      const filter = {
        user_id: userId,
        ...(query.active !== undefined ? { active: query.active === 'true' } : {}),
        ...(query.target_type !== undefined ? { target_type: query.target_type } : {}),
      };
      const { page, page_size: pageSize } = query;
      const [count, docs] = await Promise.all([
        targets.count(filter),
        targets.find(filter, {
          sort: { created_at: -1, added_position: -1 },
          skip: (page - 1) * pageSize,
          limit: pageSize,
        }),
      ]);
      const lastPage = Math.max(1, Math.ceil(count / pageSize));
      // Relative links to this very collection (`/api/v1/targets/`), wherever the app is mounted.
      const collectionPath = c.req.path.endsWith('/') ? c.req.path : `${c.req.path}/`;
      const link = (to: number) => {
        const params = new URLSearchParams({ page: String(to), page_size: String(pageSize) });
        if (query.active !== undefined) params.set('active', query.active);
        if (query.target_type !== undefined) params.set('target_type', query.target_type);
        return `${collectionPath}?${params.toString()}`;
      };
      return c.json({
        count,
        page,
        page_size: pageSize,
        next: page < lastPage ? link(page + 1) : null,
        previous: page > 1 ? link(Math.min(page - 1, lastPage)) : null,
        results: docs.map(targetView),
      });
    });

    app.get(`${base}/:id`, async (c) => {
      const { userId } = requireUser(c);
      return c.json(targetView(await ownTarget(c, userId)));
    });

    app.patch(`${base}/:id`, async (c) => {
      const { userId } = requireUser(c);
      const targetId = pathId(c);
      const body = await jsonBody(c, TargetPatch).catch((error: unknown) => {
        throw immutableFirst(error);
      });
      await updateTarget(deps, userId, targetId, {
        ...(body.name !== undefined ? { name: body.name } : {}),
        ...(body.description !== undefined ? { description: body.description } : {}),
        ...(body.active !== undefined ? { active: body.active } : {}),
      });
      return c.json(targetView(await ownTarget(c, userId)));
    });

    app.delete(`${base}/:id`, async (c) => {
      const { userId } = requireUser(c);
      const targetId = pathId(c);
      const { cancelledScans } = await deleteTarget(deps, userId, targetId);
      return c.json({ id: targetId, deleted: true, cancelled_scans: cancelledScans });
    });
  }

  app.post('/targets', async (c) => {
    const { userId } = requireUser(c);
    const body = await jsonBody(c, NewTargetBody);
    return created(c, userId, {
      name: body.name,
      targetValue: body.target_value,
      ...(body.target_type !== undefined ? { targetType: body.target_type } : {}),
      ...(body.description !== undefined ? { description: body.description } : {}),
    });
  });

  app.post('/websites', async (c) => {
    const { userId } = requireUser(c);
    const body = await jsonBody(c, NewWebsiteBody);
    const input: NewTarget = {
      name: body.name,
      ...(body.url !== undefined
        ? { targetValue: body.url, targetType: 'url' as const }
        : {
            targetValue: body.target_value ?? '',
            ...(body.target_type !== undefined ? { targetType: body.target_type } : {}),
          }),
      ...(body.description !== undefined ? { description: body.description } : {}),
    };
    try {
      return await created(c, userId, input);
    } catch (error) {
      throw body.url !== undefined ? asUrlField(error) : error;
    }
  });

  return app;
}
