import type { Checkpoints, EventFilter, EventStore, RecordedEvent, Subscription } from '../adapters/ports.js';

export interface PipelineLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/**
 * A subscription to the store that resumes after its durable checkpoint and
 * stores the position of every event it has handled. A failing handler is
 * retried with backoff (logged), never skipped: these handlers move money and
 * jobs, so an event must not be lost to a passing fault.
 */
export function checkpointedSubscription(deps: {
  name: string;
  store: EventStore;
  checkpoints: Checkpoints;
  logger: PipelineLogger;
  filter?: EventFilter;
  handle: (event: RecordedEvent) => Promise<void>;
}): { start(): Promise<void>; stop(): Promise<void> } {
  let subscription: Subscription | undefined;
  let stopping = false;
  let wake: (() => void) | undefined;

  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });

  async function handleWithRetry(event: RecordedEvent): Promise<void> {
    for (let attempt = 1; !stopping; attempt++) {
      try {
        await deps.handle(event);
        await deps.checkpoints.set(deps.name, event.position);
        return;
      } catch (error) {
        deps.logger.error(
          { err: error, subscriber: deps.name, position: event.position, attempt },
          'handler failed; retrying',
        );
        await pause(Math.min(30_000, 100 * 2 ** Math.min(attempt, 9)));
      }
    }
  }

  return {
    async start() {
      stopping = false;
      const after = (await deps.checkpoints.get(deps.name)) ?? -1;
      subscription = deps.store.subscribeToAll(
        { after, ...(deps.filter ? { filter: deps.filter } : {}) },
        handleWithRetry,
      );
      subscription.done.catch((error: unknown) =>
        deps.logger.error({ err: error, subscriber: deps.name }, 'subscription ended'),
      );
    },
    async stop() {
      stopping = true;
      wake?.();
      await subscription?.stop();
      subscription = undefined;
    },
  };
}
