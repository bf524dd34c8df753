import {
  MessageTooLargeError,
  type Bus,
  type Checkpoints,
  type EventStore,
  type RecordedEvent,
} from '../adapters/ports.js';
import { SCHEMA_VERSION } from '../domain/shared/upcasting.js';
import { checkpointedSubscription, type PipelineLogger } from './checkpointedSubscription.js';

/** The public topic of our domain events, for downstream consumers (`docs/events.md`). */
export const DOMAIN_EVENTS_TOPIC = 'secably.events.v1';

/**
 * Fields never published, whatever the event: credential material (password
 * hashes, API key hashes) stays in the store. `docs/events.md` lists the events
 * without them.
 */
export const UNPUBLISHED_FIELDS: readonly string[] = ['passwordHash', 'keyHash'];

/**
 * The value of a message on `secably.events.v1` (its key is `stream`). `id` is the
 * event's id in the store: at-least-once delivery may repeat a message, so
 * consumers drop the ids (or `stream` + `revision`) they have already seen.
 */
export interface PublishedDomainEvent {
  readonly [field: string]: unknown;
  /** The event's id (a UUID), unique in the store. */
  readonly id: string;
  /** The event type, e.g. `ScanCompleted`. */
  readonly type: string;
  /** The stream it belongs to, e.g. `scan-<id>`: also the message key. */
  readonly stream: string;
  /** Its 0-based index in the stream: per stream, messages arrive in this order. */
  readonly revision: number;
  /** Its global position in the store (increasing; not contiguous). */
  readonly position: number;
  /** When the store recorded it (ISO 8601); domain time is in `data` (`…At`). */
  readonly recordedAt: string;
  readonly data: Record<string, unknown>;
  readonly metadata: Record<string, unknown>;
}

/** EventStoreDB's own events ($metadata, $streamDeleted, links, …) and streams (`$…`). */
export function isSystemEvent(event: RecordedEvent): boolean {
  return event.type.startsWith('$') || event.streamName.startsWith('$');
}

/**
 * The public type of an event: its store type, with `.v<N>` when its schema has
 * changed incompatibly (N > 1) — as docs/events.md promises, a breaking change is a
 * new type, so a consumer of the old shape ignores it instead of misreading it.
 */
export function publicType(event: Pick<RecordedEvent, 'type' | 'metadata'>): string {
  const version = event.metadata[SCHEMA_VERSION];
  return typeof version === 'number' && version > 1 ? `${event.type}.v${version}` : event.type;
}

export function toPublishedDomainEvent(event: RecordedEvent): PublishedDomainEvent {
  const data = Object.fromEntries(Object.entries(event.data).filter(([field]) => !UNPUBLISHED_FIELDS.includes(field)));
  return {
    id: event.id,
    type: publicType(event),
    stream: event.streamName,
    revision: event.revision,
    position: event.position,
    recordedAt: event.recordedAt,
    data,
    metadata: event.metadata,
  };
}

/**
 * Publishes every event of the store (but the system's) to `secably.events.v1`,
 * keyed by stream name, so each stream's events stay in order on one partition.
 * A checkpointed subscription: it resumes after the last event it published, and
 * a failed publish is retried, never skipped; a crash between a publish and its
 * checkpoint publishes that event again (at-least-once).
 */
export function domainEventsRelay(deps: {
  store: EventStore;
  bus: Bus;
  checkpoints: Checkpoints;
  logger: PipelineLogger;
}): { start(): Promise<void>; stop(): Promise<void> } {
  return checkpointedSubscription({
    name: 'domain-events-relay',
    store: deps.store,
    checkpoints: deps.checkpoints,
    logger: deps.logger,
    async handle(event) {
      if (isSystemEvent(event)) return;
      const published = toPublishedDomainEvent(event);
      try {
        await deps.bus.publish(DOMAIN_EVENTS_TOPIC, [{ key: event.streamName, value: { ...published } }]);
      } catch (error) {
        if (!(error instanceof MessageTooLargeError)) throw error; // retried, never skipped
        // Too large for the topic (permanent): publish the envelope without its data, so the
        // stream's order and revisions stay whole and a consumer knows to read the event elsewhere.
        deps.logger.warn({ stream: event.streamName, revision: event.revision }, 'event too large for the topic');
        await deps.bus.publish(DOMAIN_EVENTS_TOPIC, [
          { key: event.streamName, value: { ...published, data: {}, dataOmitted: 'too_large' } },
        ]);
      }
    },
  });
}
