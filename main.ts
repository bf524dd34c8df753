import { serve } from '@hono/node-server';
import { startEmbedded } from './processes/embedded.js';
import { runProcess } from './processes/runProcess.js';

/** `npm start`: the whole service on the embedded default (no external server). */
runProcess('embedded', async (config, logger, exit) => {
  if (config.SECABLY_MODE !== 'embedded') {
    throw new Error(
      'Invalid configuration:\n  SECABLY_MODE: the distributed mode runs as separate processes (dist/processes/*.js); see the README',
    );
  }
  const runtime = await startEmbedded(config, logger);
  const server = serve({ fetch: runtime.app.fetch, port: config.PORT, hostname: config.HOST }, (info) => {
    logger.info({ address: info.address, port: info.port, dataDir: config.SECABLY_DATA_DIR }, 'listening');
  });
  server.on('error', (error: NodeJS.ErrnoException) => {
    logger.fatal(
      { err: error },
      error.code === 'EADDRINUSE' ? `port ${config.PORT} is already in use` : 'server error',
    );
    void runtime.stop().finally(() => exit(1));
  });
  return {
    async stop() {
      // Stop accepting, let running requests finish (idle keep-alive connections would hold close() open).
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        (server as { closeIdleConnections?: () => void }).closeIdleConnections?.();
      });
      await runtime.stop();
    },
  };
});
