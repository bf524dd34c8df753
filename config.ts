import { z } from 'zod';
import { parseAllowList } from './domain/targets/targetPolicy.js';
import { parseIpAddress } from './domain/targets/ipAddress.js';
import type { ScannerType } from './domain/scans/scan.events.js';
import { SCANNERS } from './scanners/registry.js';

/** Every setting comes from the environment, parsed once at start; a bad value stops the process. */
const boolean = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const BaseConfigSchema = z.object({
  SECABLY_MODE: z.enum(['embedded', 'distributed']).default('embedded'),
  PORT: z.coerce.number().int().min(0).max(65535).default(8000),
  HOST: z.string().min(1).default('127.0.0.1'),
  SECABLY_DATA_DIR: z.string().min(1).default('./data'),
  SECABLY_RATE_LIMIT_MULTIPLIER: z.coerce.number().positive().max(1_000_000).default(1),
  SECABLY_ADMIN_TOKEN: z
    .string()
    .min(16, 'SECABLY_ADMIN_TOKEN must have at least 16 characters')
    .optional()
    .or(z.literal('').transform(() => undefined)),
  /** HS256 key for our JWTs; in embedded mode one is generated and kept in the data dir when unset. */
  SECABLY_JWT_SECRET: z.string().min(32, 'SECABLY_JWT_SECRET must have at least 32 characters').optional(),
  SECABLY_ACCESS_TOKEN_TTL: z.coerce.number().int().min(30).max(86_400).default(900),
  SECABLY_REFRESH_TOKEN_TTL: z.coerce
    .number()
    .int()
    .min(300)
    .max(90 * 86_400)
    .default(7 * 86_400),
  SECABLY_TRUST_PROXY: boolean.default(false),
  /** log2 of scrypt's N (cost); 15 = 32 MiB per hash. Lower only for tests. */
  SECABLY_SCRYPT_LOG2N: z.coerce.number().int().min(10).max(20).default(15),
  /** Non-public ranges that may be scanned anyway (comma-separated CIDRs), e.g. 127.0.0.0/8 for local tests. */
  SECABLY_ALLOWED_TARGETS: z
    .string()
    .default('')
    .transform((csv, ctx) => {
      const parsed = parseAllowList(csv);
      if (!parsed.ok) {
        ctx.addIssue({ code: 'custom', message: parsed.error });
        return z.NEVER;
      }
      return parsed.cidrs;
    }),
  /**
   * Fixed name → addresses answers consulted before DNS, like /etc/hosts:
   * "db.internal=10.0.0.5|10.0.0.6,scanme.lan=192.168.1.20". Every answer still goes
   * through the target safety policy.
   */
  SECABLY_HOSTS: z
    .string()
    .default('')
    .transform((text, ctx) => {
      const table: Record<string, string[]> = {};
      for (const entry of text
        .split(',')
        .map((e) => e.trim())
        .filter(Boolean)) {
        const [name, addresses] = entry.split('=');
        const list = (addresses ?? '')
          .split('|')
          .map((a) => a.trim())
          .filter(Boolean);
        if (!name || list.length === 0 || list.some((a) => parseIpAddress(a) === null)) {
          ctx.addIssue({ code: 'custom', message: `bad entry "${entry}": use name=ip|ip,…` });
          return z.NEVER;
        }
        table[name.trim().toLowerCase()] = list;
      }
      return table;
    }),
  /** A running scan reports at least this often (ms), progress or not. */
  SECABLY_WORKER_HEARTBEAT_MS: z.coerce.number().int().min(100).max(600_000).default(10_000),
  /** A running scan silent for this long (ms) is taken as lost and retried. Keep it well above the heartbeat. */
  SECABLY_WATCHDOG_SILENCE_MS: z.coerce.number().int().min(500).max(3_600_000).default(60_000),
  /** A reservation whose scan was not written within this (ms) is refunded by the credits policy. */
  SECABLY_RESERVATION_GRACE_MS: z.coerce.number().int().min(500).max(86_400_000).default(120_000),
  /** How often the watchdog looks for lost and stuck scans (ms). */
  SECABLY_WATCHDOG_INTERVAL_MS: z.coerce.number().int().min(100).max(600_000).default(15_000),
  /** Scans of one scanner run at once by the embedded worker. */
  SECABLY_WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(2),
  /** The Chromium that renders PDF reports (Debian: apt-get install chromium); never downloaded. */
  SECABLY_CHROMIUM_PATH: z.string().min(1).default('/usr/bin/chromium'),
  /** PDF reports rendered at once (more wait in a queue). */
  SECABLY_PDF_CONCURRENCY: z.coerce.number().int().min(1).max(16).default(2),
  /** Longest render of one PDF report (ms). */
  SECABLY_PDF_TIMEOUT_MS: z.coerce.number().int().min(1_000).max(600_000).default(60_000),
  // ---- distributed mode (processes/api.ts, projector.ts, dispatcher.ts, worker.ts)
  /** EventStoreDB / KurrentDB connection string, e.g. esdb://eventstore:2113?tls=false */
  EVENTSTORE_URL: z.string().min(1).optional(),
  /** MongoDB connection string (a replica set), e.g. mongodb://mongo:27017/?replicaSet=rs0 */
  MONGODB_URL: z.string().min(1).optional(),
  MONGODB_DATABASE: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,63}$/, 'letters, digits, _ and - only')
    .default('secably'),
  /** Kafka bootstrap brokers, comma-separated host:port. */
  KAFKA_BROKERS: z
    .string()
    .optional()
    .transform((csv) =>
      csv
        ?.split(',')
        .map((b) => b.trim())
        .filter(Boolean),
    ),
  /** Prepended to every topic and consumer group name (several deployments on one cluster). */
  SECABLY_TOPIC_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9._-]{0,100}$/, 'letters, digits, ., _ and - only')
    .default(''),
  /** The scanners a worker process runs (comma-separated); default: every available one. */
  SECABLY_SCANNERS: z
    .string()
    .optional()
    .transform((csv, ctx) => {
      if (csv === undefined) return undefined;
      const list = csv
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      const unknown = list.filter((s) => !SCANNERS.types.includes(s));
      if (unknown.length) {
        ctx.addIssue({
          code: 'custom',
          message: `unknown scanner(s) ${unknown.join(', ')}; known: ${SCANNERS.types.join(', ')}`,
        });
        return z.NEVER;
      }
      return list as ScannerType[];
    }),
  /** A stable name for this worker process (logs, control topic group); default: host and pid. */
  SECABLY_WORKER_ID: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,100}$/)
    .optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

/** The service's settings plus every scanner plug-in's own (`settingsSchema`: binaries' paths, external engines). */
export const ConfigSchema = SCANNERS.plugins.reduce<typeof BaseConfigSchema>(
  (schema, plugin) => (plugin.settingsSchema ? (schema.extend(plugin.settingsSchema.shape) as typeof schema) : schema),
  BaseConfigSchema,
);

export type Config = z.infer<typeof BaseConfigSchema> & Readonly<Record<string, unknown>>;

/** The servers a distributed process needs, or a clear error naming what is missing. */
export function requireServers<K extends 'EVENTSTORE_URL' | 'MONGODB_URL' | 'KAFKA_BROKERS'>(
  config: Config,
  ...names: K[]
): { [P in K]-?: NonNullable<Config[P]> } {
  const missing = names.filter((n) => config[n] === undefined || (Array.isArray(config[n]) && config[n].length === 0));
  if (missing.length)
    throw new Error(`Invalid configuration:\n  ${missing.join(', ')}: required in the distributed mode`);
  return Object.fromEntries(names.map((n) => [n, config[n]])) as { [P in K]-?: NonNullable<Config[P]> };
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = ConfigSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new Error(`Invalid configuration:\n${lines.join('\n')}`);
  }
  return parsed.data;
}
