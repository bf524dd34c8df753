import type { EventVersions } from '../domain/shared/upcasting.js';
import type { EventStore, RecordedEvent } from './ports.js';

/**
 * An event store that writes every event with its type's current schema version
 * (metadata `schemaVersion`) and reads every event in its current version (the
 * upcasters turn older versions into it). Wraps any adapter, in both modes, so
 * aggregates, projections, process managers and the public relay all see one shape.
 */
export function upcastingEventStore(store: EventStore, versions: EventVersions): EventStore {
  const read = (event: RecordedEvent): RecordedEvent => versions.upcast(event);
  return {
    appendToStream: (streamName, events, options) =>
      store.appendToStream(
        streamName,
        events.map((event) => ({ ...event, metadata: versions.stamp(event.type, event.metadata) })),
        options,
      ),
    readStream: async (streamName, options) => (await store.readStream(streamName, options)).map(read),
    readAll: async (options) => (await store.readAll(options)).map(read),
    headPosition: () => store.headPosition(),
    subscribeToAll: (options, handler) => store.subscribeToAll(options, (event) => handler(read(event))),
    close: () => store.close(),
  };
}
