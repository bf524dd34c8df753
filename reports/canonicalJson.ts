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
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError('canonical JSON has no NaN or Infinity');
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object': {
      if (value === null) return 'null';
      if (Array.isArray(value)) {
        let out = '[';
        for (let i = 0; i < value.length; i++) {
          if (i > 0) out += ',';
          const item: unknown = value[i];
          out += item === undefined ? 'null' : canonicalJson(item);
        }
        return `${out}]`;
      }
      const record = value as Record<string, unknown>;
      const keys = Object.keys(record).sort();
      let out = '{';
      let first = true;
      for (const key of keys) {
        const member = record[key];
        if (member === undefined) continue;
        out += `${first ? '' : ','}${JSON.stringify(key)}:${canonicalJson(member)}`;
        first = false;
      }
      return `${out}}`;
    }
    default:
      throw new TypeError(`canonical JSON has no ${typeof value}`);
  }
}
