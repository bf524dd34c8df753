import { serve } from '@hono/node-server';
import { pino } from 'pino';
import { loadConfig, type Config } from './config.js';
import { startEmbedded } from './processes/embedded.js';

/** `npm start`: the whole service on the embedded default (no external server). */
async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
    process.exit(2);
  }
  const logger = pino({ level: config.LOG_LEVEL, base: { service: 'secably' } });
  if (config.SECABLY_MODE !== 'embedded') {
    logger.fatal('SECABLY_MODE=distributed runs as separate processes; see the README');
    process.exit(2);
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
    void runtime.stop().finally(() => process.exit(1));
  });

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const force = setTimeout(() => {
      logger.error('shutdown took too long; exiting');
      process.exit(1);
    }, 15_000);
    force.unref();
    server.close(() => {
      runtime
        .stop()
        .then(() => {
          logger.info('stopped');
          logger.flush();
          process.exit(0);
        })
        .catch((error: unknown) => {
          logger.error({ err: error }, 'error while stopping');
          process.exit(1);
        });
    });
    // Idle keep-alive connections would hold server.close() open.
    (server as { closeIdleConnections?: () => void }).closeIdleConnections?.();
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

main().catch((error: unknown) => {
  process.stderr.write(`fatal: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
