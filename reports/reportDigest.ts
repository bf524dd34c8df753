/**
 * The digest a report states it was built from: SHA-256 over the canonical JSON
 * (reports/canonicalJson.ts) of the scan stream's events, so an auditor can ask the
 * service whether the store still holds exactly those events
 * (`GET /scans/{id}/export/verify/?digest=`).
 *
 * The digested document is one JSON array with an element per event of the stream,
 * in revision order from revision 0 to the last revision covered:
 *
 *     [{"data":{…},"id":"<event uuid>","revision":0,"type":"ScanRequested"},…]
 *
 * each element holding exactly `data` (the event's data as the service reads it, in
 * its type's current schema version), `id`, `revision` and `type`; the canonical JSON
 * of that array is encoded in UTF-8 and hashed with SHA-256, written as 64 lowercase
 * hexadecimal digits. Any change to any finding, to the order or number of events, or
 * to any other field of their data changes the digest.
 */
import { createHash, type Hash } from 'node:crypto';
import type { RecordedEvent } from '../adapters/ports.js';
import { canonicalJson } from './canonicalJson.js';

export const DIGEST_ALGORITHM = 'sha256';
/** Names the construction above (bumped if it ever changes). */
export const DIGEST_CANONICALIZATION =
  'secably-events-v1: SHA-256 of the RFC 8785 canonical JSON array of {data,id,revision,type}';

export type DigestedEvent = Pick<RecordedEvent, 'id' | 'type' | 'revision' | 'data'>;

/** The canonical JSON of one event, as it appears in the digested array. */
export function canonicalEvent(event: DigestedEvent): string {
  return canonicalJson({ data: event.data, id: event.id, revision: event.revision, type: event.type });
}

export interface EventsDigest {
  /** Adds the next event (in revision order). */
  add(event: DigestedEvent): void;
  /** How many events were added. */
  readonly count: number;
  /** The digest of the events added so far (more may be added after). */
  current(): string;
}

/** An incremental digest: events are hashed as they are read, never held. */
export function eventsDigest(): EventsDigest {
  const hash: Hash = createHash(DIGEST_ALGORITHM);
  let count = 0;
  hash.update('[');
  return {
    add(event) {
      hash.update(count === 0 ? canonicalEvent(event) : `,${canonicalEvent(event)}`, 'utf8');
      count += 1;
    },
    get count() {
      return count;
    },
    current: () => hash.copy().update(']').digest('hex'),
  };
}

/** The digest of a whole list of events. */
export function digestOf(events: readonly DigestedEvent[]): string {
  const digest = eventsDigest();
  for (const event of events) digest.add(event);
  return digest.current();
}

/** A digest as a user may paste it: 64 hex digits, optionally prefixed "sha256:" (any case). */
export function normalizeDigest(text: string): string | null {
  const match = /^(?:sha-?256:)?([0-9a-f]{64})$/i.exec(text.trim());
  return match ? match[1]!.toLowerCase() : null;
}
