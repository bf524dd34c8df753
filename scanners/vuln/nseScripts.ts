/**
 * Which nmap NSE scripts a vulnerability scan runs, chosen from nmap's own script
 * index (`script.db`, Debian: /usr/share/nmap/scripts/script.db) and always passed to
 * `--script` as explicit names: never a category name (a category would also pull in
 * scripts of an excluded category that share it) and never a `+` (which would force a
 * script to run whatever its rule says).
 *
 * The rule (issue 12):
 * - full_and_fast: scripts of the categories `vuln`, `safe` or `default`;
 * - deep: those, plus `discovery`;
 * - in both, a script that is ALSO in `intrusive`, `dos`, `exploit`, `brute`, `fuzzer`,
 *   `external` or `broadcast` is never run (`external` and `broadcast` talk to hosts other
 *   than the target), and neither is any script of the deny list below: scripts whose
 *   categories do not say so but which can make something leave the target.
 *
 * Pure: the caller reads the file.
 */

export interface NseScriptEntry {
  /** The script's name without `.nse` ("ftp-anon"). */
  readonly name: string;
  readonly categories: readonly string[];
}

export const NSE_EXCLUDED_CATEGORIES = [
  'intrusive',
  'dos',
  'exploit',
  'brute',
  'fuzzer',
  'external',
  'broadcast',
] as const;

export type NseScriptProfile = 'full_and_fast' | 'deep';

export const NSE_INCLUDED_CATEGORIES: Readonly<Record<NseScriptProfile, readonly string[]>> = {
  full_and_fast: ['vuln', 'safe', 'default'],
  deep: ['vuln', 'safe', 'default', 'discovery'],
};

/**
 * Scripts never run although their categories would allow them, and why. Checked by
 * reading each script of the selection (nmap 7.93) for anything that reaches past
 * the target (another host, a DNS resolver, a sniffer, the local disk) or that poses as
 * another client. (Two vulnerability checks keep a product-specific User-Agent because
 * the product answers only to it: http-sap-netweaver-leak, mcafee-epo-agent.)
 */
export const NSE_DENIED_SCRIPTS: Readonly<Record<string, string>> = {
  'ftp-bounce':
    'asks the FTP server to open a connection to a third host (ftp-bounce.checkhost, scanme.nmap.org by ' +
    'default, which it also resolves through DNS)',
  'bittorrent-discovery': 'contacts BitTorrent trackers and DHT nodes named in a torrent file',
  'dns-srv-enum': "queries the scanner's own DNS resolver for a domain's SRV records",
  fcrdns: "resolves the target's address and names through the scanner's own DNS resolver",
  resolveall: "resolves names through the scanner's own DNS resolver and adds every address as a target",
  'url-snarf': "sniffs the scanner's own network interface",
  firewalk: 'sends packets with expiring TTLs to map the firewalls and routers on the path to the target',
  'ip-forwarding': 'asks the target to forward a packet to another host',
  'http-fetch': "writes the target's files to the scanner's local disk",
  'http-useragent-tester':
    'sends requests posing as some twenty other clients (crawlers, libraries); our requests name us',
  'http-mobileversion-checker': 'sends requests posing as an Android browser; our requests name us',
  'ip-geolocation-map-kml': "writes a map to the scanner's local disk",
  'ip-geolocation-map-google': "writes a map to the scanner's local disk",
  'ip-geolocation-map-bing': "writes a map to the scanner's local disk",
};

/** Script name prefixes never run: `targets-*` scripts exist to add hosts other than the target. */
export const NSE_DENIED_PREFIXES: readonly string[] = ['targets-'];

/** What a script name may look like (it lands in nmap's argv). */
export const NSE_SCRIPT_NAME = /^[a-z0-9][a-z0-9._-]{0,99}$/;

export class ScriptDbError extends Error {
  override name = 'ScriptDbError';
}

const ENTRY = /^Entry\s*\{\s*filename\s*=\s*"([^"]+)"\s*,\s*categories\s*=\s*\{([^}]*)\}\s*,?\s*\}\s*$/;
const QUOTED = /"([^"]*)"/g;

/**
 * Parses nmap's `script.db`: one `Entry { filename = "x.nse", categories = { "a", "b", } }`
 * per line. Blank lines and `--` comments are skipped; any other line is an error (a
 * file we do not understand must not silently select nothing, or everything).
 */
export function parseScriptDb(text: string): NseScriptEntry[] {
  const entries: NseScriptEntry[] = [];
  const lines = text.split(/\r?\n/);
  for (const [index, raw] of lines.entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('--')) continue;
    const match = ENTRY.exec(line);
    if (!match) throw new ScriptDbError(`script.db line ${index + 1} is not an Entry: ${line.slice(0, 120)}`);
    const filename = match[1] ?? '';
    if (!filename.endsWith('.nse')) throw new ScriptDbError(`script.db line ${index + 1}: ${filename} is not a .nse`);
    const name = filename.slice(0, -4);
    const categories = [...(match[2] ?? '').matchAll(QUOTED)].map((m) => (m[1] ?? '').toLowerCase());
    entries.push({ name, categories });
  }
  if (entries.length === 0) throw new ScriptDbError('script.db lists no script');
  return entries;
}

/** Why a script is not run (an excluded category or the deny list), or null when it may run. */
export function scriptRefusal(entry: NseScriptEntry): string | null {
  const excluded = entry.categories.filter((c) => (NSE_EXCLUDED_CATEGORIES as readonly string[]).includes(c));
  if (excluded.length > 0) return `category ${excluded.join(', ')}`;
  const denied = NSE_DENIED_SCRIPTS[entry.name];
  if (denied !== undefined) return denied;
  if (NSE_DENIED_PREFIXES.some((prefix) => entry.name.startsWith(prefix))) return 'adds hosts other than the target';
  if (!NSE_SCRIPT_NAME.test(entry.name)) return 'unexpected characters in its name';
  return null;
}

export interface NseSelectionOptions {
  /** Scripts already run elsewhere (e.g. `banner` during discovery). */
  readonly skip?: readonly string[];
}

/**
 * The scripts a profile runs: in one of its categories, in none of the excluded ones,
 * not denied; sorted by name, each once.
 */
export function selectNseScripts(
  entries: readonly NseScriptEntry[],
  profile: NseScriptProfile,
  options: NseSelectionOptions = {},
): string[] {
  const wanted = NSE_INCLUDED_CATEGORIES[profile];
  const skip = new Set(options.skip ?? []);
  const names = new Set<string>();
  for (const entry of entries) {
    if (skip.has(entry.name)) continue;
    if (!entry.categories.some((c) => wanted.includes(c))) continue;
    if (scriptRefusal(entry) !== null) continue;
    names.add(entry.name);
  }
  return [...names].sort();
}

export interface NseScriptArgOptions {
  /** The target's name (Host header, TLS SNI); an IP literal is not passed on. */
  readonly hostname: string;
  readonly userAgent: string;
  /** Pages an NSE spider may fetch per port. */
  readonly maxPages: number;
}

const HOSTNAME =
  /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
const IPV4 = /^\d{1,3}(?:\.\d{1,3}){3}$/;

/**
 * `--script-args` that keep the scripts on the target and name us:
 * - `httpspider.withinhost=true`, `httpspider.withindomain=false` (the spider stays on the
 *   target's scheme, host and port), bounded by `httpspider.maxpagecount`/`maxdepth`;
 * - `http.useragent`: our User-Agent; `http.host` and `tls.servername`: the target's name
 *   for a hostname target (nmap connects to the checked address only; the name goes in
 *   the Host header and the SNI, never to a resolver);
 * - `newtargets` is never set, so no script can add a host to the scan.
 * Values never contain a comma, an equals sign or a quote (refused), so the list parses
 * the way it reads.
 */
export function nseScriptArgs(options: NseScriptArgOptions): string {
  if (/[",='{}]/.test(options.userAgent) || options.userAgent.length > 200) {
    throw new Error('the User-Agent for NSE may not contain , = " \' { } and is at most 200 characters');
  }
  const maxPages = Math.max(1, Math.min(1000, Math.floor(options.maxPages)));
  const args = [
    `http.useragent="${options.userAgent}"`,
    'httpspider.withinhost=true',
    'httpspider.withindomain=false',
    `httpspider.maxpagecount=${maxPages}`,
    'httpspider.maxdepth=3',
  ];
  const name = options.hostname.replace(/\.$/, '');
  if (HOSTNAME.test(name) && !IPV4.test(name)) args.push(`http.host=${name}`, `tls.servername=${name}`);
  return args.join(',');
}
