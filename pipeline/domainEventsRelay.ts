import type { Bus, Checkpoints, EventStore, RecordedEvent } from '../adapters/ports.js';
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

export function toPublishedDomainEvent(event: RecordedEvent): PublishedDomainEvent {
  const data = Object.fromEntries(Object.entries(event.data).filter(([field]) => !UNPUBLISHED_FIELDS.includes(field)));
  return {
    id: event.id,
    type: event.type,
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
      await deps.bus.publish(DOMAIN_EVENTS_TOPIC, [
        { key: event.streamName, value: { ...toPublishedDomainEvent(event) } },
      ]);
    },
  });
}
