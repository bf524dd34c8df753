/**
 * The real servers of the distributed mode (MongoDB-compatible, Kafka), started
 * outside vitest by `scripts/servers/servers.sh start` (CI: `.ci/run`), found
 * through the environment that `scripts/servers/servers.sh env` prints.
 */

const variables = { mongo: 'MONGODB_URL', kafka: 'KAFKA_BROKERS' } as const;

export const SKIP_MESSAGE = 'distributed tests skipped: start the servers with scripts/servers/servers.sh start';

/** True when a missing server must fail the tests instead of skipping them (`SECABLY_REQUIRE_DISTRIBUTED=1`). */
export function distributedRequired(): boolean {
  const value = process.env.SECABLY_REQUIRE_DISTRIBUTED?.trim().toLowerCase();
  return value === '1' || value === 'true';
}

/**
 * The address of the `kind` server from the environment (`MONGODB_URL`,
 * `KAFKA_BROKERS`), or undefined when it is not set: the caller then skips its
 * suites, and a warning says so. With `SECABLY_REQUIRE_DISTRIBUTED=1` a missing
 * address throws instead; called at the top of a test file (or in a describe
 * body), that fails the file.
 *
 * ```ts
 * const mongoUrl = requireServers('mongo');
 * describe.skipIf(mongoUrl === undefined)('…', () => { … });
 * ```
 */
export function requireServers(kind: 'mongo' | 'kafka'): string | undefined {
  const variable = variables[kind];
  const value = process.env[variable]?.trim();
  if (value) return value;
  if (distributedRequired()) {
    throw new Error(
      `${variable} is not set, and SECABLY_REQUIRE_DISTRIBUTED=1 requires the ${kind} server: ` +
        `bash scripts/servers/servers.sh start ${kind} && eval "$(bash scripts/servers/servers.sh env)"`,
    );
  }
  console.warn(`${SKIP_MESSAGE} (${variable} is not set; ${kind} suites skipped)`);
  return undefined;
}
