import type { z } from 'zod';
import type { Decider, DomainEvent } from '../domain/shared/decider.js';
import {
  WrongExpectedRevisionError,
  type EventStore,
  type EventToAppend,
  type Ids,
  type RecordedEvent,
} from '../adapters/ports.js';

/** How to read a stream's stored events back into domain events. */
export type EventSchema<Event extends DomainEvent> = z.ZodType<Event>;

export interface CommandResult<Event extends DomainEvent, State> {
  readonly state: State;
  readonly newEvents: Event[];
  /** Revision of the stream's last event after the command (-1: no stream). */
  readonly revision: number;
  /** Global position of the last event appended; undefined when nothing was appended. */
  readonly position: number | undefined;
}

export interface HandleOptions {
  /** Attempts on a version conflict before giving up (default 20). */
  readonly maxAttempts?: number;
  readonly metadata?: Record<string, unknown>;
}

export function toDomainEvent<Event extends DomainEvent>(schema: EventSchema<Event>, recorded: RecordedEvent): Event {
  return schema.parse({ type: recorded.type, data: recorded.data });
}

interface CachedState {
  readonly state: unknown;
  readonly revision: number;
}

/** Streams whose folded state is kept, per store and decider (states are immutable, so sharing is safe). */
const CACHE_LIMIT = 10_000;
const stateCache = new WeakMap<EventStore, WeakMap<object, Map<string, CachedState>>>();

function cacheFor(store: EventStore, decider: object): Map<string, CachedState> {
  let byDecider = stateCache.get(store);
  if (!byDecider) stateCache.set(store, (byDecider = new WeakMap()));
  let streams = byDecider.get(decider);
  if (!streams) byDecider.set(decider, (streams = new Map()));
  return streams;
}

/**
 * The state of a stream: the last state this process folded (if any) plus only
 * the events appended since — so a long stream (an account with thousands of
 * scans) is not replayed from its start on every command. Always up to date:
 * the store is read from the cached revision on, every time.
 */
export async function aggregateState<Command, Event extends DomainEvent, State>(
  store: EventStore,
  streamName: string,
  decider: Decider<Command, Event, State>,
  schema: EventSchema<Event>,
): Promise<{ state: State; revision: number }> {
  const cache = cacheFor(store, decider);
  const cached = cache.get(streamName);
  const recorded = await store.readStream(streamName, cached ? { fromRevision: cached.revision + 1 } : {});
  let state = cached ? (cached.state as State) : decider.initialState();
  let revision = cached ? cached.revision : -1;
  for (const event of recorded) {
    if (cached && event.revision !== revision + 1) {
      // Not the continuation we expected (e.g. a store reset under us): fold from the start.
      cache.delete(streamName);
      return aggregateState(store, streamName, decider, schema);
    }
    state = decider.evolve(state, toDomainEvent(schema, event));
    revision = event.revision;
  }
  if (revision >= 0) {
    cache.delete(streamName); // re-insert: the Map's order is the LRU order
    cache.set(streamName, { state, revision });
    if (cache.size > CACHE_LIMIT) cache.delete(cache.keys().next().value as string);
  }
  return { state, revision };
}

/**
 * Reads the stream, decides, and appends the new events with the revision it
 * read as the expected one; on a conflict (someone wrote in between) it reads
 * and decides again. `command` may be a function of the state, for commands
 * whose content depends on it.
 */
export async function handleCommand<Command, Event extends DomainEvent, State>(
  deps: { store: EventStore; ids: Ids },
  streamName: string,
  decider: Decider<Command, Event, State>,
  schema: EventSchema<Event>,
  command: Command | ((state: State) => Command | Promise<Command>),
  options: HandleOptions = {},
): Promise<CommandResult<Event, State>> {
  const maxAttempts = options.maxAttempts ?? 20;
  for (let attempt = 1; ; attempt++) {
    const { state, revision } = await aggregateState(deps.store, streamName, decider, schema);
    const concrete =
      typeof command === 'function' ? await (command as (s: State) => Command | Promise<Command>)(state) : command;
    const newEvents = decider.decide(concrete, state);
    if (newEvents.length === 0) return { state, newEvents, revision, position: undefined };
    const toAppend: EventToAppend[] = newEvents.map((event) => ({
      id: deps.ids.uuid(),
      type: event.type,
      data: event.data as Record<string, unknown>,
      ...(options.metadata ? { metadata: options.metadata } : {}),
    }));
    try {
      const result = await deps.store.appendToStream(streamName, toAppend, {
        expectedRevision: revision === -1 ? 'no_stream' : revision,
      });
      return {
        state: newEvents.reduce(decider.evolve, state),
        newEvents,
        revision: result.nextExpectedRevision,
        position: result.position,
      };
    } catch (error) {
      if (!(error instanceof WrongExpectedRevisionError) || attempt >= maxAttempts) throw error;
      // Someone else appended first: back off a little (jittered) and decide again on fresh state.
      await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(50, 2 ** attempt)));
    }
  }
}
