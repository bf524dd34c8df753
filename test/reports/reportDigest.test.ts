import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { RecordedEvent } from '../../adapters/ports.js';
import { canonicalJson } from '../../reports/canonicalJson.js';
import { canonicalEvent, digestOf, eventsDigest, normalizeDigest } from '../../reports/reportDigest.js';
import { sampleFindings, scanStream } from './scanStream.js';

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

describe('canonical JSON', () => {
  it('sorts keys at every depth and writes no whitespace', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: true, y: null }], c: 'x' } })).toBe(
      '{"a":{"c":"x","d":[3,{"y":null,"z":true}]},"b":1}',
    );
  });

  it('writes strings and numbers as JSON.stringify does (RFC 8785 for our values)', () => {
    expect(canonicalJson({ text: 'é "q" \\ \n \u0001 <script>', n: 1e21, m: 0.1, k: -0, big: 100 })).toBe(
      '{"big":100,"k":0,"m":0.1,"n":1e+21,"text":"é \\"q\\" \\\\ \\n \\u0001 <script>"}',
    );
  });

  it('orders keys by UTF-16 code units', () => {
    expect(canonicalJson({ é: 1, z: 2, Z: 3, '€': 4, '\u{1F600}': 5 })).toBe('{"Z":3,"z":2,"é":1,"€":4,"😀":5}');
  });

  it('drops undefined members and refuses values JSON does not have', () => {
    expect(canonicalJson({ a: undefined, b: 1 })).toBe('{"b":1}');
    expect(() => canonicalJson({ a: Number.NaN })).toThrow();
    expect(() => canonicalJson(undefined)).toThrow();
  });
});

describe('the events digest', () => {
  const { events } = scanStream(sampleFindings());

  it('is SHA-256 of the canonical array of {data, id, revision, type}', () => {
    const document = `[${events
      .map((e) => canonicalJson({ type: e.type, revision: e.revision, id: e.id, data: e.data }))
      .join(',')}]`;
    expect(digestOf(events)).toBe(sha256(document));
    expect(digestOf(events)).toMatch(/^[0-9a-f]{64}$/);
    expect(canonicalEvent(events[0]!).startsWith('{"data":{')).toBe(true);
  });

  it('ignores what is not part of it (position, metadata, recording time, stream name)', () => {
    const moved = events.map((e) => ({
      ...e,
      position: e.position + 1000,
      metadata: { schemaVersion: 9 },
      recordedAt: '2030-01-01T00:00:00.000Z',
      streamName: 'elsewhere',
    }));
    expect(digestOf(moved)).toBe(digestOf(events));
  });

  it('changes when a finding is tampered with, however slightly', () => {
    const original = digestOf(events);
    const reportedAt = events.findIndex((e) => e.type === 'FindingsReported');
    const tamper = (change: (finding: Record<string, unknown>) => void): RecordedEvent[] =>
      events.map((e, i) => {
        if (i !== reportedAt) return e;
        const findings = structuredClone(e.data.findings) as Record<string, unknown>[];
        change(findings[0]!);
        return { ...e, data: { ...e.data, findings } };
      });
    const variants = [
      tamper((f) => (f.risk = 'low')),
      tamper((f) => (f.name = `${String(f.name)} `)),
      tamper((f) => (f.evidence = '')),
      tamper((f) => delete f.cwe),
      tamper((f) => (f.extra = true)),
    ];
    const digests = variants.map(digestOf);
    for (const digest of digests) expect(digest).not.toBe(original);
    expect(new Set(digests).size).toBe(variants.length);
  });

  it('changes when an event is removed, added or reordered, or an id or type changes', () => {
    const original = digestOf(events);
    expect(digestOf(events.slice(0, -1))).not.toBe(original);
    expect(digestOf([...events, { ...events[1]!, revision: events.length }])).not.toBe(original);
    const swapped = [...events];
    [swapped[1], swapped[2]] = [swapped[2]!, swapped[1]!];
    expect(digestOf(swapped)).not.toBe(original);
    expect(digestOf(events.map((e, i) => (i === 0 ? { ...e, id: `${e.id.slice(0, -1)}f` } : e)))).not.toBe(original);
    expect(digestOf(events.map((e, i) => (i === 1 ? { ...e, type: 'ScanStarted' } : e)))).not.toBe(original);
  });

  it('is computed incrementally: every prefix has its own digest', () => {
    const digest = eventsDigest();
    const prefixes: string[] = [];
    for (const event of events) {
      digest.add(event);
      prefixes.push(digest.current());
    }
    expect(digest.count).toBe(events.length);
    expect(prefixes.at(-1)).toBe(digestOf(events));
    expect(prefixes[2]).toBe(digestOf(events.slice(0, 3)));
    expect(eventsDigest().current()).toBe(sha256('[]'));
  });

  it('reads a pasted digest with or without its algorithm', () => {
    const hex = 'A'.repeat(64);
    expect(normalizeDigest(hex)).toBe('a'.repeat(64));
    expect(normalizeDigest(` sha256:${hex} `)).toBe('a'.repeat(64));
    expect(normalizeDigest('abc')).toBeNull();
    expect(normalizeDigest(`${hex}0`)).toBeNull();
  });
});
