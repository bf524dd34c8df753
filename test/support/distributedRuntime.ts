import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { pino } from 'pino';
import { eventStoreDbEventStore } from '../../adapters/eventStoreDbEventStore.js';
import { memoryCounterStore } from '../../adapters/memoryCounterStore.js';
import { mongoReadModels } from '../../adapters/mongoReadModels.js';
import type { Resolver } from '../../adapters/ports.js';
import { loadConfig } from '../../config.js';
import type { AppDeps } from '../../http/deps.js';
import { appDeps } from '../../processes/composition.js';
import { startEventStoreDbEmulator, type EventStoreDbEmulator } from './eventStoreDbEmulator.js';
import { requireServers } from './distributedServers.js';

/**
 * The distributed mode for end-to-end tests: the four processes (api, projector,
 * dispatcher, worker) as separate OS processes that talk only through the servers —
 * the EventStoreDB emulator (started here), the MongoDB-compatible server and the
 * real Kafka broker (started by scripts/servers/servers.sh). Each runtime gets its
 * own database and topic prefix, so test files do not see each other.
 */
export const ROLES = ['api', 'projector', 'dispatcher', 'worker'] as const;
export type Role = (typeof ROLES)[number];

export interface DistributedRuntime {
  readonly deps: AppDeps;
  readonly base: string;
  readonly env: Record<string, string>;
  readonly emulator: EventStoreDbEmulator;
  /** The running process of a role. */
  process(role: Role): ChildProcess;
  /** Stops a role (SIGTERM, or SIGKILL to simulate a crash) and waits for it to exit. */
  stopRole(role: Role, signal?: 'SIGTERM' | 'SIGKILL'): Promise<void>;
  /** Starts a role again with the same configuration. */
  startRole(role: Role): Promise<void>;
  logs(role: Role): string[];
  cleanup(): Promise<void>;
}

export function distributedMode(): boolean {
  return process.env.SECABLY_TEST_MODE === 'distributed';
}

const ROOT = join(import.meta.dirname, '..', '..');

/** Every role process started here, killed when this test process exits however it ends. */
const started = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of started) child.kill('SIGKILL');
});

export async function distributedRuntime(
  env: Record<string, string>,
  overrides: { resolver?: Resolver } = {},
): Promise<DistributedRuntime> {
  const mongoUrl = requireServers('mongo');
  const kafka = requireServers('kafka');
  if (!mongoUrl || !kafka) throw new Error('distributed runtime: MONGODB_URL and KAFKA_BROKERS are needed');
  const emulator = await startEventStoreDbEmulator();
  const id = randomBytes(4).toString('hex');
  const table = (overrides.resolver as { table?: Record<string, string[]> } | undefined)?.table;
  const fullEnv: Record<string, string> = {
    SECABLY_MODE: 'distributed',
    EVENTSTORE_URL: emulator.connectionString,
    MONGODB_URL: mongoUrl,
    MONGODB_DATABASE: `secably_e2e_${id}`,
    KAFKA_BROKERS: kafka,
    SECABLY_TOPIC_PREFIX: `e2e-${id}.`,
    SECABLY_JWT_SECRET: randomBytes(32).toString('base64url'),
    SECABLY_TRUST_PROXY: 'true',
    SECABLY_SCRYPT_LOG2N: '10',
    LOG_LEVEL: 'info',
    PORT: '0',
    ...(table ? { SECABLY_HOSTS: hostsEntry(table) } : {}),
    ...env,
  };
  const children = new Map<Role, { child: ChildProcess; logs: string[]; exited: Promise<void> }>();
  let base = '';

  async function startRole(role: Role): Promise<void> {
    const logs: string[] = [];
    const child = spawn(process.execPath, ['--import', 'tsx', join('processes', `${role}.ts`)], {
      cwd: ROOT,
      env: { ...process.env, ...fullEnv },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    started.add(child);
    const exited = new Promise<void>((resolve) =>
      child.on('exit', () => {
        started.delete(child);
        resolve();
      }),
    );
    children.set(role, { child, logs, exited });
    const ready = { api: 'listening', projector: 'projecting', dispatcher: 'dispatching', worker: 'worker ready' }[
      role
    ];
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${role} did not start:\n${logs.join('\n')}`)), 60_000);
      child.stderr!.on('data', (chunk: Buffer) => logs.push(chunk.toString()));
      child.stdout!.on('data', (chunk: Buffer) => {
        for (const line of chunk.toString().split('\n').filter(Boolean)) {
          logs.push(line);
          if (logs.length > 2000) logs.shift();
          try {
            const entry = JSON.parse(line) as { msg?: string; port?: number };
            if (entry.msg === ready) {
              if (role === 'api') base = `http://127.0.0.1:${entry.port}`;
              clearTimeout(timer);
              resolve();
            }
          } catch {
            /* not a log line */
          }
        }
      });
      void exited.then(() => {
        clearTimeout(timer);
        reject(new Error(`${role} exited:\n${logs.join('\n')}`));
      });
    });
  }

  async function stopRole(role: Role, signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM'): Promise<void> {
    const running = children.get(role);
    if (!running) return;
    running.child.kill(signal);
    await running.exited;
    children.delete(role);
  }

  try {
    // The store side first, so the API's first writes are projected and dispatched.
    await Promise.all([startRole('projector'), startRole('dispatcher'), startRole('worker')]);
    await startRole('api');
  } catch (error) {
    for (const { child } of children.values()) child.kill('SIGKILL');
    await emulator.stop();
    throw error;
  }

  const config = loadConfig(fullEnv);
  const store = eventStoreDbEventStore({ connectionString: emulator.connectionString });
  const readModels = await mongoReadModels({ url: mongoUrl, database: fullEnv.MONGODB_DATABASE! });
  const deps = appDeps({
    config,
    logger: pino({ level: 'silent' }),
    store,
    readModels,
    counters: memoryCounterStore(),
    jwtSecret: fullEnv.SECABLY_JWT_SECRET!,
    readModelsAt: async () => {},
    ready: () => true,
    overrides: {},
  });

  return {
    deps,
    get base() {
      return base;
    },
    env: fullEnv,
    emulator,
    process: (role) => {
      const running = children.get(role);
      if (!running) throw new Error(`${role} is not running`);
      return running.child;
    },
    stopRole,
    startRole,
    logs: (role) => children.get(role)?.logs ?? [],
    async cleanup() {
      await Promise.all(ROLES.map((role) => stopRole(role)));
      await readModels.close();
      await store.close();
      await emulator.stop();
    },
  };
}

function hostsEntry(table: Record<string, string[]>): string {
  return Object.entries(table)
    .map(([name, addresses]) => `${name}=${addresses.join('|')}`)
    .join(',');
}
