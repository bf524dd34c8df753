import { allProjections } from '../projections/index.js';
import { projectionRunner } from '../projections/projectionRunner.js';
import { connect } from './distributed.js';
import { runProcess } from './runProcess.js';

/**
 * Distributed mode: builds the MongoDB read models from the event store. Safe to
 * run several copies (every write is guarded by the event's position), though one
 * is enough; a rebuild is `SECABLY_REBUILD=1` (reset and replay).
 */
runProcess('projector', async (config, logger, exit) => {
  const store = connect.store(config, logger, exit);
  const readModels = await connect.readModels(config);
  // Checkpoints are flushed within 10 ms: API calls wait on them for read-your-writes.
  const runner = projectionRunner({ store, readModels, projections: allProjections, logger, checkpointEveryMs: 10 });
  if (process.env.SECABLY_REBUILD === '1') {
    logger.info('rebuilding the read models from the first event');
    await runner.rebuild();
  } else {
    await runner.start();
  }
  logger.info({ projections: allProjections.map((p) => p.name) }, 'projecting');
  return {
    async stop() {
      await runner.stop();
      await Promise.all([readModels.close(), store.close()]);
    },
  };
});
