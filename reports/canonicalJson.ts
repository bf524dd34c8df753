/**
 * Canonical JSON: the one serialization of a JSON value that the report digest
 * hashes, so anyone can recompute it with any language.
 *
 * - no whitespace at all;
 * - object members sorted by key, comparing keys as sequences of UTF-16 code units
 *   (JavaScript's default string order), each key once;
 * - strings, numbers, `true`, `false` and `null` exactly as ECMAScript's
 *   `JSON.stringify` writes them (numbers in their shortest round-trip form, strings
 *   with only `"`, `\` and control characters escaped, lone surrogates as `\uXXXX`);
 * - arrays keep their order.
 *
 * For the values events hold (objects, arrays, strings, finite numbers, booleans,
 * null) this is the JSON Canonicalization Scheme of RFC 8785. Members whose value is
 * `undefined` are left out (JSON has no such value; stored events never hold one).
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'number' && !Number.isFinite(value)) throw new TypeError('canonical JSON has no NaN or Infinity');
    if (value === undefined || typeof value === 'function' || typeof value === 'symbol' || typeof value === 'bigint') {
      throw new TypeError(`canonical JSON has no ${typeof value}`);
    }
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) {
    return `[${value.map((item) => (item === undefined ? 'null' : canonicalJson(item))).join(',')}]`;
  }
  const members: string[] = [];
  for (const key of Object.keys(value).sort()) {
    const member = (value as Record<string, unknown>)[key];
    if (member === undefined) continue;
    members.push(`${JSON.stringify(key)}:${canonicalJson(member)}`);
  }
  return `{${members.join(',')}}`;
}
