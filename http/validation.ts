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
  const bytes = new Uint8Array(await c.req.arrayBuffer());
  if (bytes.byteLength > MAX_BODY_BYTES) throw new ApiError(413, 'Request body is too large.', 'payload_too_large');
  let text: string;
  try {
    text = strictUtf8.decode(bytes);
  } catch {
    throw new ApiError(400, 'The body is not valid UTF-8.', 'malformed_json');
  }
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
  const withNul = fieldsWithNul(value);
  if (withNul.length > 0) {
    throw new ApiError(400, 'Text may not contain the NUL character (\\u0000).', 'validation_error', {
      fields: Object.fromEntries(withNul.map((field) => [field, ['The NUL character (\\u0000) is not allowed.']])),
    });
  }
  const parsed = schema.safeParse(value, { reportInput: true });
  if (!parsed.success) throw validationError(parsed.error);
  return parsed.data;
}

/** Refuses invalid UTF-8 instead of replacing it with U+FFFD. */
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The fields (dotted paths) of a parsed body whose text, value or key, holds a
 * NUL: refused in every text field, whatever the schema. Iterative; the depth is
 * already bounded.
 */
function fieldsWithNul(body: unknown): string[] {
  const found: string[] = [];
  const stack: Array<{ value: unknown; path: string }> = [{ value: body, path: '' }];
  while (stack.length > 0 && found.length < 20) {
    const { value, path } = stack.pop()!;
    if (typeof value === 'string') {
      if (value.includes('\0')) found.push(path || '_');
    } else if (value !== null && typeof value === 'object') {
      for (const [key, child] of Object.entries(value)) {
        const childPath = path ? `${path}.${key}` : key;
        if (key.includes('\0')) found.push(childPath);
        else stack.push({ value: child, path: childPath });
      }
    }
  }
  return found;
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
