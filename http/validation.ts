import type { Context } from 'hono';
import type { z } from 'zod';
import { ApiError, validationError } from './errors.js';

const MAX_BODY_BYTES = 64 * 1024;
/** Objects and arrays inside each other: our bodies need a handful; a scan_config a few more. */
export const MAX_JSON_DEPTH = 32;

/**
 * Whether a JSON text nests arrays and objects deeper than `limit`: one linear
 * pass over the characters (strings skipped), before anything parses or walks it,
 * so a body nested thousands of levels deep is refused without recursion.
 */
export function nestedDeeperThan(text: string, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > limit) return true;
    } else if (c === 0x5d || c === 0x7d) {
      depth--;
    }
  }
  return false;
}

/** Reads a JSON object body and validates it; anything else is a 400 with field errors. */
export async function jsonBody<Schema extends z.ZodType>(c: Context, schema: Schema): Promise<z.infer<Schema>> {
  const type = c.req.header('content-type') ?? '';
  if (!/^application\/(.+\+)?json\b/i.test(type)) {
    throw new ApiError(415, 'Send a JSON body with Content-Type: application/json.', 'unsupported_media_type');
  }
  const text = await c.req.text();
  if (Buffer.byteLength(text) > MAX_BODY_BYTES)
    throw new ApiError(413, 'Request body is too large.', 'payload_too_large');
  if (nestedDeeperThan(text, MAX_JSON_DEPTH)) {
    throw new ApiError(
      400,
      `The JSON body nests objects and arrays more than ${MAX_JSON_DEPTH} levels deep.`,
      'json_too_deep',
      {
        max_depth: MAX_JSON_DEPTH,
      },
    );
  }
  let value: unknown;
  try {
    value = text.length === 0 ? {} : JSON.parse(text);
  } catch {
    throw new ApiError(400, 'Malformed JSON body.', 'malformed_json');
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ApiError(400, 'The JSON body must be an object.', 'validation_error');
  }
  const parsed = schema.safeParse(value, { reportInput: true });
  if (!parsed.success) throw validationError(parsed.error);
  return parsed.data;
}

/** Validates query parameters (strings) with a schema. */
export function queryParams<Schema extends z.ZodType>(c: Context, schema: Schema): z.infer<Schema> {
  const parsed = schema.safeParse(c.req.query(), { reportInput: true });
  if (!parsed.success) throw validationError(parsed.error, 'Invalid query parameters.');
  return parsed.data;
}

/** A path id: our ids are UUIDs; anything else cannot exist, so it is a 404. */
export function pathId(c: Context, name = 'id'): string {
  const id = c.req.param(name) ?? '';
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id)) {
    throw new ApiError(404, 'Not found.', 'not_found');
  }
  return id.toLowerCase();
}
