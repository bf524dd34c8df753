import { serve } from '@hono/node-server';
import { createApp } from '../http/app.js';
import { allProjections } from '../projections/index.js';
import { checkpointsReached } from '../projections/readYourWrites.js';
import { appDeps } from './composition.js';
import { connect } from './distributed.js';
import { runProcess } from './runProcess.js';

/** Distributed mode: the HTTP API (any number of copies behind a load balancer). */
runProcess('api', async (config, logger, exit) => {
  if (!config.SECABLY_JWT_SECRET) {
    throw new Error(
      'Invalid configuration:\n  SECABLY_JWT_SECRET: required in the distributed mode (every API copy shares it)',
    );
  }
  const store = connect.store(config, logger, exit);
  const readModels = await connect.readModels(config);
  const counters = await connect.counters(config);
  const names = allProjections.map((p) => p.name);
  const deps = appDeps({
    config,
    logger,
    store,
    readModels,
    counters,
    jwtSecret: config.SECABLY_JWT_SECRET,
    readModelsAt: (position) => checkpointsReached(readModels, names, position),
    ready: () => true,
    overrides: {},
  });
  const app = createApp(deps);
  const server = serve({ fetch: app.fetch, port: config.PORT, hostname: config.HOST }, (info) =>
    logger.info({ address: info.address, port: info.port }, 'listening'),
  );
  return {
    async stop() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        (server as { closeIdleConnections?: () => void }).closeIdleConnections?.();
      });
      await Promise.all([deps.pdfRenderer.close(), counters.close(), readModels.close(), store.close()]);
    },
  };
});
