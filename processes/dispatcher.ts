import { creditsPolicy } from '../pipeline/creditsPolicy.js';
import { scanDispatcher } from '../pipeline/dispatcher.js';
import { domainEventsRelay } from '../pipeline/domainEventsRelay.js';
import { resultsConsumer } from '../pipeline/resultsConsumer.js';
import { scanWatchdog } from '../pipeline/watchdog.js';
import { cryptoIds } from '../adapters/cryptoIds.js';
import { systemClock } from '../adapters/systemClock.js';
import { connect } from './distributed.js';
import { runProcess } from './runProcess.js';

/**
 * Distributed mode: the store side of the scan pipeline — the dispatcher (jobs and
 * cancels to Kafka), the results consumer (worker reports into the store), the
 * credits policy, the watchdog, and the relay of our domain events to
 * `secably.events.v1`. Checkpoints live in MongoDB, so a restart resumes.
 */
runProcess('dispatcher', async (config, logger) => {
  const store = connect.store(config);
  const readModels = await connect.readModels(config);
  const checkpoints = await connect.checkpoints(config);
  const bus = await connect.bus(config, `secably-dispatcher-${process.pid}`, logger);
  const deps = { store, bus, checkpoints, readModels, clock: systemClock, ids: cryptoIds, logger };
  const results = resultsConsumer(deps);
  const dispatcher = scanDispatcher(deps);
  const credits = creditsPolicy(deps);
  const relay = domainEventsRelay(deps);
  const watchdog = scanWatchdog(
    { ...deps, dispatcher },
    {
      silenceMs: config.SECABLY_WATCHDOG_SILENCE_MS,
      checkEveryMs: config.SECABLY_WATCHDOG_INTERVAL_MS,
      requeueAfterMs: config.SECABLY_WATCHDOG_SILENCE_MS,
    },
  );
  await results.start();
  await credits.start();
  await dispatcher.start();
  await relay.start();
  watchdog.start();
  logger.info('dispatching');
  return {
    async stop() {
      await watchdog.stop();
      await relay.stop();
      await dispatcher.stop();
      await credits.stop();
      await results.stop();
      await bus.close();
      await Promise.all([checkpoints.close(), readModels.close(), store.close()]);
    },
  };
});
