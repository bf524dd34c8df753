/**
 * A decider (Jérémie Chassaing's pattern, as used by Emmett): pure functions
 * from a command and the current state to new events, and from state and an
 * event to the next state. No I/O, no clock: time arrives inside the command.
 */
export interface DomainEvent<Type extends string = string, Data extends object = object> {
  readonly type: Type;
  readonly data: Data;
}

export interface Decider<Command, Event extends DomainEvent, State> {
  decide(command: Command, state: State): Event[];
  evolve(state: State, event: Event): State;
  initialState(): State;
}

/** Raised by `decide` when a command is refused by a business rule. */
export class DomainError extends Error {
  constructor(
    message: string,
    /** Stable machine code, e.g. 'email_taken', 'insufficient_credits'. */
    readonly code: string,
    /** HTTP-agnostic kind; the HTTP layer maps it to a status. */
    readonly kind:
      | 'invalid'
      | 'conflict'
      | 'not_found'
      | 'forbidden'
      | 'unauthorized'
      | 'payment_required'
      /** The capability exists in the API but cannot serve now (a scanner not available yet). */
      | 'unavailable',
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'DomainError';
  }
}

export function assertNever(value: never): never {
  throw new Error(`unhandled case: ${JSON.stringify(value)}`);
}

/** Calendar month (UTC) of an ISO timestamp: "2026-11". */
export function periodOf(isoTime: string): string {
  return isoTime.slice(0, 7);
}
