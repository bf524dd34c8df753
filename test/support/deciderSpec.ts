import { expect } from 'vitest';
import { DomainError, type Decider, type DomainEvent } from '../../domain/shared/decider.js';

/** given(events).when(command).then(events) | .thenThrows(code) for pure deciders. */
export function deciderSpec<Command, Event extends DomainEvent, State>(decider: Decider<Command, Event, State>) {
  return {
    given(events: Event[]) {
      const state = events.reduce(decider.evolve, decider.initialState());
      return {
        state,
        when(command: Command) {
          const run = () => decider.decide(command, state);
          return {
            then(expected: Event[]) {
              expect(run()).toEqual(expected);
            },
            thenThrows(code: string, details?: Record<string, unknown>) {
              let caught: unknown;
              try {
                run();
              } catch (error) {
                caught = error;
              }
              expect(caught).toBeInstanceOf(DomainError);
              expect((caught as DomainError).code).toBe(code);
              if (details) expect((caught as DomainError).details).toEqual(details);
            },
            /** The state after applying the decided events. */
            stateAfter(): State {
              return run().reduce(decider.evolve, state);
            },
          };
        },
      };
    },
  };
}
