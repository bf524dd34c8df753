import { describe, expect, it } from 'vitest';
import { canonicalJson, requestHash } from '../../commands/idempotency.js';

/** `depth` arrays inside each other, built without recursion. */
function nested(depth: number): unknown {
  let value: unknown = 1;
  for (let i = 0; i < depth; i++) value = [value];
  return value;
}

describe('requestHash', () => {
  it('is the hash it always was (a retry after an upgrade still matches its key)', () => {
    const parts = {
      path: '/api/v1/nmap/scan/',
      targetId: 't',
      scannerType: 'nmap',
      scanConfig: { b: [1, 'x', null, { z: true, a: [] }], a: undefined, 'é"': 2.5 },
    };
    expect(requestHash(parts)).toBe('e6d13a9568e4cc7f4111266363c160a26c2f2507e57931a8aacf8c003509c723');
  });

  it('sorts object keys at every level, keeps array order', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, 2], c: null } })).toBe('{"a":{"c":null,"d":[3,2]},"b":1}');
    expect(canonicalJson([])).toBe('[]');
    expect(canonicalJson({})).toBe('{}');
    expect(canonicalJson([undefined, 'x'])).toBe('[null,"x"]');
    expect(requestHash({ a: 1, b: 2 })).toBe(requestHash({ b: 2, a: 1 }));
  });

  it('hashes input nested 100,000 levels deep without recursion (no RangeError)', () => {
    const deep = { path: '/x', scanConfig: { a: nested(100_000) } };
    expect(() => requestHash(deep)).not.toThrow();
    expect(canonicalJson(nested(3))).toBe('[[[1]]]');
  });
});
