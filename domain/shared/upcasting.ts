/**
 * Event evolution. Every stored event carries its schema version in its metadata
 * (`schemaVersion`; absent = 1). When an event type's shape changes incompatibly,
 * its version goes up and an upcaster turns the previous version into the next:
 * reading (aggregates, projections, the relay) always sees the current shape, and
 * stored events are never rewritten. Pure: no I/O.
 */
export const SCHEMA_VERSION = 'schemaVersion';

export interface VersionedEvent {
  readonly type: string;
  readonly data: Record<string, unknown>;
  readonly metadata: Record<string, unknown>;
}

export interface Upcaster {
  readonly type: string;
  /** The version it reads; it returns the data of version `from + 1`. */
  readonly from: number;
  upcast(data: Record<string, unknown>, metadata: Record<string, unknown>): Record<string, unknown>;
}

export interface EventVersions {
  /** The current version of a type (1 for types never changed). */
  current(type: string): number;
  /** The event in its type's current version (the same object when it already is). */
  upcast<E extends VersionedEvent>(event: E): E;
  /** The metadata to store with a new event of this type. */
  stamp(type: string, metadata: Record<string, unknown> | undefined): Record<string, unknown>;
}

export function eventVersions(upcasters: readonly Upcaster[]): EventVersions {
  const byType = new Map<string, Map<number, Upcaster>>();
  for (const upcaster of upcasters) {
    const steps = byType.get(upcaster.type) ?? new Map<number, Upcaster>();
    if (steps.has(upcaster.from)) throw new Error(`two upcasters of ${upcaster.type} from version ${upcaster.from}`);
    steps.set(upcaster.from, upcaster);
    byType.set(upcaster.type, steps);
  }
  const current = (type: string) => 1 + (byType.get(type)?.size ?? 0);
  return {
    current,
    upcast(event) {
      const steps = byType.get(event.type);
      if (!steps) return event;
      const stored = event.metadata[SCHEMA_VERSION];
      let version = typeof stored === 'number' && Number.isInteger(stored) ? stored : 1;
      const target = current(event.type);
      if (version >= target) return event;
      let data = event.data;
      while (version < target) {
        const step = steps.get(version);
        if (!step) throw new Error(`no upcaster for ${event.type} version ${version}`);
        data = step.upcast(data, event.metadata);
        version += 1;
      }
      return { ...event, data, metadata: { ...event.metadata, [SCHEMA_VERSION]: version } };
    },
    stamp: (type, metadata) => ({ ...metadata, [SCHEMA_VERSION]: current(type) }),
  };
}
