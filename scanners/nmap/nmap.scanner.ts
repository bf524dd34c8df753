/**
 * Runs nmap as a child process (never through a shell) and turns its XML into our
 * result, `scan_result` and findings.
 *
 * - argv: `nmapArguments` (see nmapConfig.ts). Connect scan (-sT) unless the caller
 *   says raw sockets are available (`rawSockets: true`, see `detectRawSockets`).
 * - Progress: with `-oX -` and `--stats-every 1s`, nmap 7.93 writes its progress into
 *   the XML on stdout as `<taskprogress task="Connect Scan" percent="47.10" .../>`
 *   elements (checked by hand: nothing goes to stderr). We read those as they arrive, and
 *   also accept the plain-text form ("Connect Scan Timing: About 47.10% done") on either
 *   stream. nmap reports per task, so we map tasks onto one overall percent that never
 *   goes back: port scan 0-95 % (0-60 % when -sV follows), service scan 60-95 %,
 *   100 % once the XML is parsed. nmap only prints a line once a task has run for a
 *   while: a scan over in a second reports just 0 and 100.
 * - The process is run by `runTool` (scanners/shared/childProcess.ts): no shell, killed
 *   with its worker, abort (signal) and timeout as SIGTERM then SIGKILL 2 s later; the
 *   promise rejects (ScanAbortedError / ScanTimeoutError) once the process has exited.
 *   nmap 7.93 exits on SIGTERM at once. `timeoutMs` is this hard limit; nmap's own
 *   `--host-timeout` is the profile's (`nmapProfileTimeoutMs`), so give `timeoutMs` a
 *   little more than that and nmap can end cleanly first.
 * - Missing binary: ScannerUnavailableError. Non-zero exit, nmap's own error exit,
 *   or no host scanned (target skipped or unresolvable): NmapFailedError with the end
 *   of stderr. Every host given up on by --host-timeout: ScanTimeoutError (nmap
 *   drops the ports of such a host, so there is no result).
 * - Memory: stdout is capped at 50 MB (exceeding kills nmap: NmapOutputError), stderr
 *   keeps its last 1 MB.
 */
import { readFile } from 'node:fs/promises';
import type { ScannerFinding } from '../../domain/shared/finding.js';
import { runTool, tailOf } from '../shared/childProcess.js';
import type { ScannerRunner, ScannerSettings } from '../shared/scanner.js';
import { ScanTimeoutError, ToolFailedError } from '../shared/errors.js';
import { nmapArguments, nmapProfileTimeoutMs, type NmapScanConfig } from './nmapConfig.js';
import { nmapFindings, type NmapFindingsOptions } from './nmapFindings.js';
import { parseNmapXml, toScanResult, type NmapResult, type NmapScanResult } from './nmapParser.js';

export { NmapOutputError } from './nmapParser.js';
export { ScanAbortedError, ScannerUnavailableError, ScanTimeoutError } from '../shared/errors.js';

/** nmap ran but failed (non-zero exit, error exit in its XML, nothing scanned). */
export class NmapFailedError extends ToolFailedError {
  override name = 'NmapFailedError';
}

export interface NmapProgress {
  /** 0-100, never decreasing. */
  percent: number;
  /** 'starting', nmap's task name ('Connect Scan', 'SYN Stealth Scan', 'Service scan', ...), 'done'. */
  phase: string;
}

export interface RunNmapOptions {
  /** Already validated elsewhere (an IP, hostname or range); must not start with '-'. */
  target: string;
  config: NmapScanConfig;
  /** Hard wall-clock limit for the process. Use a little more than `nmapProfileTimeoutMs`. */
  timeoutMs: number;
  signal?: AbortSignal;
  onProgress?: (progress: NmapProgress) => void;
  /** Defaults to 'nmap' on PATH. */
  nmapPath?: string;
  /** Use a SYN scan (-sS). Defaults to false (-sT, works without privileges). */
  rawSockets?: boolean;
  /** Called with the child's pid once it is spawned (logging, tests). */
  onSpawn?: (pid: number) => void;
  /** How scanned addresses are named in findings (the target's name for single hosts). */
  hostLabel?: NmapFindingsOptions['hostLabel'];
}

export interface NmapRun {
  result: NmapResult;
  scanResult: NmapScanResult;
  findings: ScannerFinding[];
  args: string[];
  durationMs: number;
}

export const MAX_STDOUT_BYTES = 50 * 1024 * 1024;
export const MAX_STDERR_BYTES = 1024 * 1024;

const TASK_PROGRESS = /<taskprogress\b[^>]*?\btask="([^"]*)"[^>]*?\bpercent="([0-9.]+)"[^>]*\/>/g;
const TEXT_PROGRESS = /([A-Za-z][A-Za-z ]*?) Timing: About ([0-9.]+)% done/g;

/**
 * Whether nmap can use raw sockets (SYN scan) when we start it: Linux, running as
 * root, and the effective capabilities include CAP_NET_RAW and CAP_NET_ADMIN (a root
 * process in a container may lack them). A non-root process with capabilities is
 * not counted (nmap would also need --privileged): when unsure, false, i.e. -sT.
 */
export async function detectRawSockets(): Promise<boolean> {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return false;
  try {
    const status = await readFile('/proc/self/status', 'utf8');
    const match = /^CapEff:\s*([0-9a-fA-F]+)\s*$/m.exec(status);
    if (!match?.[1]) return false;
    const caps = BigInt(`0x${match[1]}`);
    const CAP_NET_ADMIN = 12n;
    const CAP_NET_RAW = 13n;
    return ((caps >> CAP_NET_RAW) & 1n) === 1n && ((caps >> CAP_NET_ADMIN) & 1n) === 1n;
  } catch {
    return false;
  }
}

/** Maps nmap's per-task percent onto one overall percent. */
function overallPercent(task: string, percent: number, aggressive: boolean): number | null {
  const p = Math.min(Math.max(percent, 0), 100) / 100;
  if (/service scan/i.test(task)) return 60 + p * 35;
  if (/scan$/i.test(task)) return p * (aggressive ? 60 : 95);
  return null;
}

export async function runNmap(options: RunNmapOptions): Promise<NmapRun> {
  const { target, config, timeoutMs, onProgress } = options;
  const nmapPath = options.nmapPath ?? 'nmap';
  const args = nmapArguments(config, target, {
    rawSockets: options.rawSockets ?? false,
    hostTimeoutMs: nmapProfileTimeoutMs(config),
  });
  let lastPercent = -1;
  let progressBuffer = '';

  const report = (phase: string, percent: number): void => {
    if (!onProgress) return;
    const rounded = Math.round(Math.max(percent, lastPercent) * 100) / 100;
    lastPercent = rounded;
    onProgress({ percent: rounded, phase });
  };

  const textProgress = (text: string): void => {
    TEXT_PROGRESS.lastIndex = 0;
    for (let m = TEXT_PROGRESS.exec(text); m; m = TEXT_PROGRESS.exec(text)) {
      const task = (m[1] ?? '').trim();
      const percent = overallPercent(task, Number(m[2]), config.aggressive);
      if (percent !== null) report(task, percent);
    }
  };

  const run = await runTool({
    command: nmapPath,
    args,
    toolName: 'nmap',
    installHint: 'install nmap (e.g. apt-get install nmap) or set SECABLY_NMAP_PATH',
    timeoutMs,
    signal: options.signal,
    maxStdoutBytes: MAX_STDOUT_BYTES,
    maxStderrBytes: MAX_STDERR_BYTES,
    onSpawn: (pid) => {
      options.onSpawn?.(pid);
      report('starting', 0);
    },
    onStdout: onProgress
      ? (text) => {
          progressBuffer += text;
          let consumed = 0;
          TASK_PROGRESS.lastIndex = 0;
          for (let m = TASK_PROGRESS.exec(progressBuffer); m; m = TASK_PROGRESS.exec(progressBuffer)) {
            const percent = overallPercent(m[1] ?? '', Number(m[2]), config.aggressive);
            if (percent !== null) report(m[1] ?? '', percent);
            consumed = TASK_PROGRESS.lastIndex;
          }
          // Keep only what may still be the start of an element split across chunks.
          progressBuffer = progressBuffer.slice(consumed).slice(-1024);
          textProgress(text);
        }
      : undefined,
    onStderr: onProgress ? textProgress : undefined,
  });

  const stderrTail = tailOf(run.stderr);
  if (run.exitCode !== 0) {
    const how =
      run.exitCode === null ? `was killed by ${run.signal ?? 'a signal'}` : `exited with code ${run.exitCode}`;
    throw new NmapFailedError(`nmap ${how}${stderrTail ? `: ${stderrTail}` : ''}`, run.exitCode, stderrTail);
  }
  const result = parseNmapXml(run.stdout.toString('utf8'));
  if (result.runstats.exit !== 'success') {
    const why = result.runstats.errormsg ?? stderrTail;
    throw new NmapFailedError(`nmap reported an error${why ? `: ${why}` : ''}`, run.exitCode, stderrTail);
  }
  if (result.runstats.hosts.total === 0) {
    const skipped = result.skipped_targets.map((t) => `${t.specification} (${t.reason ?? t.status})`).join(', ');
    throw new NmapFailedError(
      `nmap scanned no host${skipped ? `; skipped: ${skipped}` : ''}${stderrTail ? `: ${stderrTail}` : ''}`,
      run.exitCode,
      stderrTail,
    );
  }
  if (result.hosts.length > 0 && result.hosts.every((h) => h.timed_out)) {
    throw new ScanTimeoutError('nmap gave up on every host (--host-timeout reached); no port results');
  }
  report('done', 100);
  return {
    result,
    scanResult: toScanResult(result),
    findings: nmapFindings(result, options.hostLabel ? { hostLabel: options.hostLabel } : {}),
    args,
    durationMs: run.durationMs,
  };
}

/** Open ports listed in `scan_result` at most (every one is still a finding). */
export const MAX_RESULT_PORTS = 2_000;

/** The worker's runner: the checked address, the target's name in findings. */
export function createRunner(settings: ScannerSettings): ScannerRunner {
  const nmapPath = typeof settings.SECABLY_NMAP_PATH === 'string' ? settings.SECABLY_NMAP_PATH : undefined;
  return async ({ host, target, config, timeoutMs, signal, onProgress }) => {
    const single = target.type !== 'range';
    const run = await runNmap({
      target: host,
      config: config as NmapScanConfig,
      timeoutMs,
      signal,
      onProgress,
      ...(nmapPath ? { nmapPath } : {}),
      // One host: name it as the user did, never by the address DNS gave (identity across scans).
      ...(single ? { hostLabel: () => target.hostname } : {}),
    });
    const scanResult = run.scanResult;
    if (scanResult.open_ports.length > MAX_RESULT_PORTS || scanResult.hosts.length > MAX_RESULT_PORTS) {
      return {
        findings: run.findings,
        scanResult: {
          ...scanResult,
          open_ports: scanResult.open_ports.slice(0, MAX_RESULT_PORTS),
          hosts: scanResult.hosts.slice(0, MAX_RESULT_PORTS),
          truncated: true,
        },
      };
    }
    return { findings: run.findings, scanResult: { ...scanResult } };
  };
}
