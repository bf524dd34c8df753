/**
 * What a user may ask of the nmap scanner (`scan_config`), and the nmap argv it becomes.
 *
 * Choices (spec part 2, item 4, and where the spec is silent):
 * - `quick` and `fast` are the same free profile: nmap's 1000 most common TCP ports
 *   (`--top-ports 1000`). `full` is every TCP port (`-p 1-65535`).
 * - An explicit `port_range` REPLACES the profile's port set (spec part 2 item 4): a
 *   user who names ports wants those ports. `full` scans exactly the range; `quick`/
 *   `fast` scan exactly the range when it has at most 1,000 ports, and a larger range
 *   is refused (400, pointing to `full`). So a free scan never covers more than 1,000
 *   ports, and the price still depends on `scan_type` alone.
 * - Only TCP port numbers: no `T:`/`U:` prefixes, no service names, no option-like
 *   text, so a `port_range` can never smuggle an nmap option into the argv.
 * - Booleans may arrive as the strings "true"/"false" (clients do that); anything
 *   else is rejected. `port_range` may be absent, null or "" (all mean "no range").
 * - Unknown keys are rejected (`.strict()` semantics), with the allowed keys named.
 */
import { z } from 'zod';

export const NMAP_SCAN_TYPES = ['quick', 'fast', 'full'] as const;
export type NmapScanType = (typeof NMAP_SCAN_TYPES)[number];

export const MAX_PORT_RANGE_ITEMS = 100;
const MAX_PORT_RANGE_LENGTH = 2000;

/**
 * The longest an nmap run of each profile may take. Used for nmap's own
 * `--host-timeout` (nmap then gives up on the host and still prints valid XML);
 * a worker should kill the process a little after this (see `runNmap`'s `timeoutMs`).
 */
export const NMAP_PROFILE_TIMEOUT_MS: Readonly<Record<NmapScanType, number>> = {
  quick: 10 * 60_000,
  fast: 10 * 60_000,
  full: 60 * 60_000,
};

const PORT_RANGE_HINT = 'a comma-separated list of TCP ports or ranges, e.g. "22,80,443" or "1-1000,8080"';

/** One port (`80`) or range (`1-1000`); numbers without sign or leading zero. */
const ITEM = /^(\d{1,5})(?:-(\d{1,5}))?$/;
/** The whole list: items separated by commas, spaces allowed only around commas. */
const LIST = /^[0-9-]+(?: *, *[0-9-]+)*$/;

export type PortRangeCheck = { ok: true; value: string } | { ok: false; error: string };

/** Ports a quick/fast scan may cover (nmap's top 1000, or a range of at most this many). */
export const FREE_SCAN_MAX_PORTS = 1000;

/** How many distinct ports a checked `port_range` names (overlaps counted once). */
export function portCount(range: string): number {
  const intervals = range
    .split(',')
    .map((item) => item.trim().split('-').map(Number))
    .map(([low, high]) => [low!, high ?? low!] as const)
    .sort((a, b) => a[0] - b[0]);
  let count = 0;
  let end = 0;
  for (const [low, high] of intervals) {
    const from = Math.max(low, end + 1);
    if (high >= from) count += high - from + 1;
    end = Math.max(end, high);
  }
  return count;
}

function quoteShort(text: string): string {
  return JSON.stringify(text.length > 24 ? `${text.slice(0, 24)}…` : text);
}

/**
 * Checks a `port_range` and returns it normalized (no spaces), or the reason it
 * is refused. Pure; exported for other validators (e.g. the HTTP layer).
 */
export function checkPortRange(input: string): PortRangeCheck {
  if (input.length > MAX_PORT_RANGE_LENGTH) {
    return { ok: false, error: `port_range is too long (at most ${MAX_PORT_RANGE_LENGTH} characters)` };
  }
  if (!LIST.test(input)) {
    return { ok: false, error: `port_range must be ${PORT_RANGE_HINT}` };
  }
  const items = input.split(',').map((item) => item.trim());
  if (items.length > MAX_PORT_RANGE_ITEMS) {
    return { ok: false, error: `port_range may list at most ${MAX_PORT_RANGE_ITEMS} ports or ranges` };
  }
  for (const item of items) {
    const match = ITEM.exec(item);
    if (!match) {
      return {
        ok: false,
        error: `port_range item ${quoteShort(item)} is not a port or a range; use ${PORT_RANGE_HINT}`,
      };
    }
    const bounds = [match[1], match[2]].filter((n): n is string => n !== undefined);
    for (const n of bounds) {
      if (n.length > 1 && n.startsWith('0')) {
        return { ok: false, error: `port_range item ${quoteShort(item)}: port numbers have no leading zeros` };
      }
      const port = Number(n);
      if (port < 1 || port > 65535) {
        return { ok: false, error: `port_range item ${quoteShort(item)}: ports are 1-65535` };
      }
    }
    if (bounds.length === 2 && Number(bounds[0]) > Number(bounds[1])) {
      return {
        ok: false,
        error: `port_range item ${quoteShort(item)}: a range goes from low to high (a-b with a ≤ b)`,
      };
    }
  }
  return { ok: true, value: items.join(',') };
}

/** true/false, or the strings "true"/"false" that form-minded clients send. */
const LenientBoolean = z.union([z.boolean(), z.enum(['true', 'false']).transform((value) => value === 'true')], {
  error: 'must be true or false',
});

const PortRange = z
  .string({ error: `port_range must be a string: ${PORT_RANGE_HINT}` })
  .nullable()
  .optional()
  .transform((value, ctx) => {
    if (value === null || value === undefined || value === '') return undefined;
    const checked = checkPortRange(value);
    if (!checked.ok) {
      ctx.addIssue({ code: 'custom', message: checked.error });
      return z.NEVER;
    }
    return checked.value;
  });

const ALLOWED_KEYS = ['scan_type', 'port_range', 'aggressive'] as const;

const NmapScanConfigObject = z.strictObject(
  {
    scan_type: z
      .enum(NMAP_SCAN_TYPES, { error: `scan_type must be one of ${NMAP_SCAN_TYPES.join(', ')}` })
      .default('quick'),
    port_range: PortRange,
    aggressive: LenientBoolean.default(false),
  },
  {
    error: (issue) => {
      if (issue.code === 'unrecognized_keys') {
        const keys = issue.keys.slice(0, 5).map((key) => quoteShort(key));
        const more = issue.keys.length > 5 ? ` and ${issue.keys.length - 5} more` : '';
        return `unknown scan_config field(s) ${keys.join(', ')}${more}; nmap accepts ${ALLOWED_KEYS.join(', ')}`;
      }
      if (issue.code === 'invalid_type') return 'scan_config must be an object';
      return undefined;
    },
  },
);

export const NmapScanConfig = NmapScanConfigObject.superRefine((config, ctx) => {
  if (config.scan_type !== 'full' && config.port_range !== undefined) {
    const count = portCount(config.port_range);
    if (count > FREE_SCAN_MAX_PORTS) {
      ctx.addIssue({
        code: 'custom',
        path: ['port_range'],
        message:
          `a ${config.scan_type} scan covers at most ${FREE_SCAN_MAX_PORTS} ports and this port_range has ${count}; ` +
          'use scan_type "full" (1 credit) to scan it',
      });
    }
  }
});
/** A validated, normalized scan_config (defaults applied, port_range without spaces). */
export type NmapScanConfig = z.output<typeof NmapScanConfig>;
/** What a client may send. */
export type NmapScanConfigInput = z.input<typeof NmapScanConfig>;

export function nmapProfileTimeoutMs(config: Pick<NmapScanConfig, 'scan_type'>): number {
  return NMAP_PROFILE_TIMEOUT_MS[config.scan_type];
}

export interface NmapArgumentOptions {
  /** Raw sockets available (root with CAP_NET_RAW): SYN scan `-sS`, else connect scan `-sT`. */
  readonly rawSockets: boolean;
  /** nmap's `--host-timeout`; defaults to the profile's timeout. Rounded up to whole seconds. */
  readonly hostTimeoutMs?: number;
}

/**
 * The nmap argv for one scan (never passed through a shell). Order:
 * `-sT|-sS [-sV] (--top-ports 1000 | -p <ports>) -Pn -n --max-retries 2
 *  --host-timeout <s>s --stats-every 1s -oX - [-6] -- <target>`
 * - `-sV` (aggressive): service/version detection only; no `-A`, no NSE scripts, no OS detection.
 * - `-Pn`: no host discovery, so hosts that drop pings are scanned anyway.
 * - `-n`: no reverse DNS. `-oX -`: XML on stdout. `--stats-every 1s`: progress as
 *   `<taskprogress>` elements in that XML.
 * - `-6` when the target is an IPv6 literal (nmap 7.93 skips `::1` without it).
 * - `--` ends the options: the target can never be read as one.
 */
export function nmapArguments(config: NmapScanConfig, target: string, opts: NmapArgumentOptions): string[] {
  if (target.length === 0 || target.startsWith('-') || /\s/.test(target)) {
    throw new Error(`refusing nmap target ${quoteShort(target)}: empty, option-like or containing spaces`);
  }
  const hostTimeoutMs = opts.hostTimeoutMs ?? nmapProfileTimeoutMs(config);
  if (!Number.isFinite(hostTimeoutMs) || hostTimeoutMs <= 0) {
    throw new Error(`hostTimeoutMs must be a positive number, got ${hostTimeoutMs}`);
  }
  let ports: string[];
  if (config.port_range !== undefined) {
    const checked = checkPortRange(config.port_range);
    if (!checked.ok) throw new Error(checked.error);
    if (config.scan_type !== 'full' && portCount(checked.value) > FREE_SCAN_MAX_PORTS) {
      throw new Error(`a ${config.scan_type} scan covers at most ${FREE_SCAN_MAX_PORTS} ports`);
    }
    ports = ['-p', checked.value];
  } else if (config.scan_type === 'full') {
    ports = ['-p', '1-65535'];
  } else {
    ports = ['--top-ports', '1000'];
  }
  return [
    opts.rawSockets ? '-sS' : '-sT',
    ...(config.aggressive ? ['-sV'] : []),
    ...ports,
    '-Pn',
    '-n',
    '--max-retries',
    '2',
    '--host-timeout',
    `${Math.ceil(hostTimeoutMs / 1000)}s`,
    '--stats-every',
    '1s',
    '-oX',
    '-',
    ...(target.includes(':') ? ['-6'] : []),
    '--',
    target,
  ];
}
