/**
 * Each aggregate's decider, event schema and stream name, bound once (the style
 * of Emmett's CommandHandler): `accounts.handle(deps, userId, command)` instead of
 * repeating `handleCommand(deps, streams.account(userId), accountDecider,
 * AccountEvent, command)` at every call.
 */
import { accountDecider } from '../domain/accounts/account.decider.js';
import { AccountEvent } from '../domain/accounts/account.events.js';
import { emailDecider } from '../domain/accounts/email.decider.js';
import { userDecider } from '../domain/accounts/user.decider.js';
import { EmailEvent, UserEvent } from '../domain/accounts/user.events.js';
import { idempotencyDecider } from '../domain/idempotency/idempotency.decider.js';
import { IdempotencyEvent } from '../domain/idempotency/idempotency.events.js';
import { scanDecider } from '../domain/scans/scan.decider.js';
import { ScanEvent } from '../domain/scans/scan.events.js';
import type { Decider, DomainEvent } from '../domain/shared/decider.js';
import { targetDecider } from '../domain/targets/target.decider.js';
import { TargetEvent } from '../domain/targets/target.events.js';
import type { EventStore, Ids } from '../adapters/ports.js';
import { streams } from './deps.js';
import {
  aggregateState,
  handleCommand,
  type CommandResult,
  type EventSchema,
  type HandleOptions,
} from './handleCommand.js';

export interface Aggregate<Command, Event extends DomainEvent, State> {
  readonly decider: Decider<Command, Event, State>;
  readonly schema: EventSchema<Event>;
  /** The stream of the aggregate with this id. */
  stream(id: string): string;
  /** The current state (and revision) of one aggregate. */
  state(deps: { readonly store: EventStore }, id: string): Promise<{ state: State; revision: number }>;
  /** Reads, decides, appends with the expected revision (retrying on conflicts). */
  handle(
    deps: { readonly store: EventStore; readonly ids: Ids },
    id: string,
    command: Command | ((state: State) => Command | Promise<Command>),
    options?: HandleOptions,
  ): Promise<CommandResult<Event, State>>;
}

export function aggregate<Command, Event extends DomainEvent, State>(binding: {
  readonly decider: Decider<Command, Event, State>;
  readonly schema: EventSchema<Event>;
  readonly stream: (id: string) => string;
}): Aggregate<Command, Event, State> {
  return {
    decider: binding.decider,
    schema: binding.schema,
    stream: binding.stream,
    state: (deps, id) => aggregateState(deps.store, binding.stream(id), binding.decider, binding.schema),
    handle: (deps, id, command, options) =>
      handleCommand(deps, binding.stream(id), binding.decider, binding.schema, command, options),
  };
}

export const users = aggregate({ decider: userDecider, schema: UserEvent, stream: streams.user });
export const accounts = aggregate({ decider: accountDecider, schema: AccountEvent, stream: streams.account });
/** Keyed by the SHA-256 of the lower-cased address (see `emailKey`). */
export const emailClaims = aggregate({ decider: emailDecider, schema: EmailEvent, stream: streams.email });
export const targets = aggregate({ decider: targetDecider, schema: TargetEvent, stream: streams.target });
export const scans = aggregate({ decider: scanDecider, schema: ScanEvent, stream: streams.scan });
/** Keyed by `<user id (a UUID)>-<sha256(key)>`. */
export const idempotencyKeys = aggregate({
  decider: idempotencyDecider,
  schema: IdempotencyEvent,
  stream: (id) => {
    const dash = id.indexOf('-', 36);
    return streams.idempotency(id.slice(0, dash), id.slice(dash + 1));
  },
});
