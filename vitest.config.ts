import { defineConfig } from 'vitest/config';

/**
 * Two projects:
 * - `embedded`: every test, in process (the adapters' suites against the real
 *   servers skip themselves with a message when the servers are not running);
 * - `distributed`: the HTTP end-to-end suites once more, with the api, projector,
 *   dispatcher and worker as separate processes on EventStoreDB (emulator), MongoDB
 *   (mongo-java-server) and Kafka, plus the fault tests. It runs when the servers are
 *   there (`scripts/servers/servers.sh start` + `env`), and must run when
 *   SECABLY_REQUIRE_DISTRIBUTED=1 (CI).
 */
const E2E = [
  'test/http/accounts.test.ts',
  'test/http/targets.test.ts',
  'test/http/scans.test.ts',
  'test/http/findings.test.ts',
  'test/http/nucleiScans.test.ts',
  'test/pipeline/orphanedReservations.test.ts',
  'test/http/zapScans.test.ts',
  'test/http/sslyzeScans.test.ts',
];
const serversUp = Boolean(process.env.MONGODB_URL && process.env.KAFKA_BROKERS);
const required = ['1', 'true'].includes(process.env.SECABLY_REQUIRE_DISTRIBUTED ?? '');
if (!serversUp && !required) {
  console.warn(
    'distributed end-to-end tests skipped: start the servers with scripts/servers/servers.sh start and export their env',
  );
}

const common = { testTimeout: 30_000, hookTimeout: 120_000, pool: 'forks' as const };

export default defineConfig({
  test: {
    maxWorkers: 2,
    projects: [
      { test: { ...common, name: 'embedded', include: ['test/**/*.test.ts'], exclude: ['test/distributed/**'] } },
      {
        test: {
          ...common,
          name: 'distributed',
          include: serversUp || required ? [...E2E, 'test/distributed/**/*.test.ts'] : [],
          env: { SECABLY_TEST_MODE: 'distributed' },
          testTimeout: 60_000,
        },
      },
    ],
  },
});
