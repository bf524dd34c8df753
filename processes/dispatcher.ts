import { cryptoIds } from '../adapters/cryptoIds.js';
import { systemClock } from '../adapters/systemClock.js';
import { connect } from './distributed.js';
import { storeSidePipeline, watchdogOptions } from './pipeline.js';
import { runProcess } from './runProcess.js';

/**
 * Distributed mode: the store side of the scan pipeline — the dispatcher (jobs and
 * cancels to Kafka), the results consumer (worker reports into the store), the
 * credits policy, the watchdog, and the relay of our domain events to
 * `secably.events.v1`. Checkpoints live in MongoDB, so a restart resumes.
 */
runProcess('dispatcher', async (config, logger, exit) => {
  const store = connect.store(config, logger, exit);
  const readModels = await connect.readModels(config);
  const checkpoints = await connect.checkpoints(config);
  const bus = await connect.bus(config, `secably-dispatcher-${process.pid}`, logger);
  const pipeline = storeSidePipeline(
    { store, bus, checkpoints, readModels, clock: systemClock, ids: cryptoIds, logger },
    { watchdog: watchdogOptions(config), relay: true, reservationGraceMs: config.SECABLY_RESERVATION_GRACE_MS },
  );
  await pipeline.start();
  logger.info('dispatching');
  return {
    async stop() {
      await pipeline.stop();
      await bus.close();
      await Promise.all([checkpoints.close(), readModels.close(), store.close()]);
    },
  };
});
