/**
 * The two nmap runs of a vulnerability scan, their argv (pure, tested) and how they
 * are run (scanners/shared/childProcess.ts `runTool`: no shell, dies with the worker,
 * abort and timeout kill it).
 *
 * discovery: `-sT -sV [--version-all] <ports> -Pn -n -T4 --max-retries 2
 *             --host-timeout <s>s --script banner --script-args banner.timeout=1s
 *             --script-timeout <s>s --stats-every 2s -oX - [-6] -- <address>`
 * services:  `-sT -sV [--version-all] -p <open ports> -Pn -n -T4 --max-retries 2
 *             --host-timeout <s>s --script <name,name,...> --script-args <args>
 *             --script-timeout <s>s --stats-every 2s -oX - [-6] -- <address>`
 *
 * - Connect scan (-sT): no raw sockets needed. `-Pn`: hosts that drop pings are still
 *   scanned (reachability is judged from the ports' answers). `-n`: no DNS at all.
 * - Banners: nmap's `banner` script records what a service says first. -sV's NULL probe
 *   has already waited up to 6 s for such a greeting, so a short `banner.timeout` (1 s)
 *   only costs time on services that never greet (HTTP, TLS); one that greets later is
 *   still identified by -sV, just without a banner line.
 * - The services run repeats -sV on the open ports only: NSE port rules go by the
 *   service nmap identified, and a separate run keeps the inventory even when the
 *   scripts run out of time.
 * - `--script` gets explicit script names only (nseScripts.ts), never a category.
 * - `--` ends the options, so the address can never be read as one.
 */
import { runTool, tailOf } from '../shared/childProcess.js';
import { ToolFailedError } from '../shared/errors.js';
import { parseNmapXml, type NmapResult } from '../nmap/nmapParser.js';
import { NSE_SCRIPT_NAME } from './nseScripts.js';
import { portArguments, type PortSelection } from './vulnPlan.js';

export class VulnNmapFailedError extends ToolFailedError {
  override name = 'VulnNmapFailedError';
}

export interface DiscoveryArgumentOptions {
  readonly address: string;
  readonly ports: PortSelection;
  readonly versionAll: boolean;
  readonly hostTimeoutMs: number;
}

export interface ServicesArgumentOptions {
  readonly address: string;
  readonly openPorts: readonly number[];
  readonly versionAll: boolean;
  readonly scripts: readonly string[];
  readonly scriptArgs: string;
  readonly hostTimeoutMs: number;
  readonly scriptTimeoutMs: number;
}

function checkedAddress(address: string): string {
  if (address.length === 0 || address.startsWith('-') || /[\s,]/.test(address) || address.includes('/')) {
    throw new Error(`refusing nmap target ${JSON.stringify(address.slice(0, 40))}: one address only`);
  }
  return address;
}

const seconds = (ms: number) => `${Math.max(1, Math.ceil(ms / 1000))}s`;

function common(hostTimeoutMs: number): string[] {
  return ['-Pn', '-n', '-T4', '--max-retries', '2', '--host-timeout', seconds(hostTimeoutMs)];
}

function tail(address: string): string[] {
  return ['--stats-every', '2s', '-oX', '-', ...(address.includes(':') ? ['-6'] : []), '--', address];
}

export function discoveryArguments(options: DiscoveryArgumentOptions): string[] {
  const address = checkedAddress(options.address);
  return [
    '-sT',
    '-sV',
    ...(options.versionAll ? ['--version-all'] : []),
    ...portArguments(options.ports),
    ...common(options.hostTimeoutMs),
    '--script',
    'banner',
    '--script-args',
    'banner.timeout=1s',
    '--script-timeout',
    '30s',
    ...tail(address),
  ];
}

export function servicesArguments(options: ServicesArgumentOptions): string[] {
  const address = checkedAddress(options.address);
  if (options.scripts.length === 0) throw new Error('no NSE script to run');
  for (const name of options.scripts) {
    if (!NSE_SCRIPT_NAME.test(name)) throw new Error(`refusing NSE script name ${JSON.stringify(name.slice(0, 40))}`);
  }
  return [
    '-sT',
    '-sV',
    ...(options.versionAll ? ['--version-all'] : []),
    ...portArguments({ kind: 'list', ports: options.openPorts }),
    ...common(options.hostTimeoutMs),
    '--script',
    options.scripts.join(','),
    '--script-args',
    options.scriptArgs,
    '--script-timeout',
    seconds(options.scriptTimeoutMs),
    ...tail(address),
  ];
}

/** nmap's progress: the task it runs ("Connect Scan", "Service scan", "NSE") and its percent. */
export interface NmapTaskProgress {
  readonly task: string;
  readonly percent: number;
}

const TASK_PROGRESS = /<taskprogress\b[^>]*?\btask="([^"]*)"[^>]*?\bpercent="([0-9.]+)"[^>]*\/>/g;

export interface RunVulnNmapOptions {
  readonly nmapPath: string;
  readonly args: readonly string[];
  readonly timeoutMs: number;
  readonly signal: AbortSignal;
  readonly onTask?: (progress: NmapTaskProgress) => void;
  readonly onSpawn?: (pid: number) => void;
}

export interface VulnNmapRun {
  readonly result: NmapResult;
  readonly argv: readonly string[];
  readonly durationMs: number;
}

export const MAX_NMAP_STDOUT_BYTES = 64 * 1024 * 1024;

/**
 * Runs nmap and parses its XML. A non-zero exit, nmap's own error report or no host
 * scanned is VulnNmapFailedError; abort and timeout reject as runTool does
 * (ScanAbortedError / ScanTimeoutError) once nmap is gone.
 */
export async function runVulnNmap(options: RunVulnNmapOptions): Promise<VulnNmapRun> {
  let buffer = '';
  const run = await runTool({
    command: options.nmapPath,
    args: options.args,
    toolName: 'nmap',
    installHint: 'install nmap (e.g. apt-get install nmap) or set SECABLY_NMAP_PATH',
    timeoutMs: options.timeoutMs,
    signal: options.signal,
    maxStdoutBytes: MAX_NMAP_STDOUT_BYTES,
    ...(options.onSpawn ? { onSpawn: options.onSpawn } : {}),
    ...(options.onTask
      ? {
          onStdout: (text: string) => {
            buffer += text;
            let consumed = 0;
            TASK_PROGRESS.lastIndex = 0;
            for (let m = TASK_PROGRESS.exec(buffer); m; m = TASK_PROGRESS.exec(buffer)) {
              options.onTask?.({ task: m[1] ?? '', percent: Math.min(100, Math.max(0, Number(m[2]))) });
              consumed = TASK_PROGRESS.lastIndex;
            }
            buffer = buffer.slice(consumed).slice(-1024);
          },
        }
      : {}),
  });
  const stderrTail = tailOf(run.stderr);
  if (run.exitCode !== 0) {
    const how =
      run.exitCode === null ? `was killed by ${run.signal ?? 'a signal'}` : `exited with code ${run.exitCode}`;
    throw new VulnNmapFailedError(`nmap ${how}${stderrTail ? `: ${stderrTail}` : ''}`, run.exitCode, stderrTail);
  }
  const result = parseNmapXml(run.stdout.toString('utf8'));
  if (result.runstats.exit !== 'success') {
    const why = result.runstats.errormsg ?? stderrTail;
    throw new VulnNmapFailedError(`nmap reported an error${why ? `: ${why}` : ''}`, run.exitCode, stderrTail);
  }
  if (result.runstats.hosts.total === 0) {
    throw new VulnNmapFailedError(
      `nmap scanned no host${stderrTail ? `: ${stderrTail}` : ''}`,
      run.exitCode,
      stderrTail,
    );
  }
  return { result, argv: run.argv, durationMs: run.durationMs };
}
