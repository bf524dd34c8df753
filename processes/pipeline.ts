import type { Bus, Checkpoints, Clock, EventStore, Ids, ReadModels } from '../adapters/ports.js';
import type { PipelineLogger } from '../pipeline/checkpointedSubscription.js';
import { creditsPolicy } from '../pipeline/creditsPolicy.js';
import { scanDispatcher } from '../pipeline/dispatcher.js';
import { domainEventsRelay } from '../pipeline/domainEventsRelay.js';
import { resultsConsumer } from '../pipeline/resultsConsumer.js';
import { scanWatchdog, type WatchdogOptions } from '../pipeline/watchdog.js';

export interface PipelineDeps {
  readonly store: EventStore;
  readonly bus: Bus;
  readonly checkpoints: Checkpoints;
  readonly readModels: ReadModels;
  readonly clock: Clock;
  readonly ids: Ids;
  readonly logger: PipelineLogger;
}

export interface StoreSidePipeline {
  /** Starts every part; `recover`: this process restarted with its workers (embedded), take back what they held. */
  start(options?: { recover?: boolean }): Promise<void>;
  /** Stops in the reverse order. */
  stop(): Promise<void>;
  readonly dispatcher: ReturnType<typeof scanDispatcher>;
}

/**
 * The store side of the scan pipeline, the same in both modes: the results
 * consumer (worker reports into the store), the credits policy, the dispatcher
 * (jobs and cancels to the bus), the watchdog, and (distributed mode) the relay of
 * domain events to `secably.events.v1`. Only the workers and the bus differ.
 */
export function storeSidePipeline(
  deps: PipelineDeps,
  options: { readonly watchdog: WatchdogOptions; readonly relay: boolean; readonly reservationGraceMs?: number },
): StoreSidePipeline {
  const results = resultsConsumer(deps);
  const credits = creditsPolicy(
    deps,
    options.reservationGraceMs !== undefined ? { orphanAfterMs: options.reservationGraceMs } : {},
  );
  const dispatcher = scanDispatcher(deps);
  const relay = options.relay ? domainEventsRelay(deps) : undefined;
  const watchdog = scanWatchdog({ ...deps, dispatcher }, options.watchdog);
  return {
    dispatcher,
    async start(startOptions = {}) {
      await results.start();
      await credits.start();
      await dispatcher.start();
      await relay?.start();
      if (startOptions.recover) await watchdog.recoverAfterRestart();
      watchdog.start();
    },
    async stop() {
      await watchdog.stop();
      await relay?.stop();
      await dispatcher.stop();
      await credits.stop();
      await results.stop();
    },
  };
}

/** The watchdog's settings from the environment. */
export function watchdogOptions(config: {
  readonly SECABLY_WATCHDOG_SILENCE_MS: number;
  readonly SECABLY_WATCHDOG_INTERVAL_MS: number;
}): WatchdogOptions {
  return {
    silenceMs: config.SECABLY_WATCHDOG_SILENCE_MS,
    checkEveryMs: config.SECABLY_WATCHDOG_INTERVAL_MS,
    requeueAfterMs: config.SECABLY_WATCHDOG_SILENCE_MS,
  };
}
