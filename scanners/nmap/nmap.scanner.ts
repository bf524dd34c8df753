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
 * - Abort (signal) and timeout: SIGTERM, then SIGKILL 2 s later; the promise rejects
 *   (ScanAbortedError / ScanTimeoutError) once the process has exited (at the latest
 *   5 s after the abort, should it somehow survive SIGKILL). nmap 7.93 exits on SIGTERM
 *   at once. `timeoutMs` is this hard limit; nmap's own `--host-timeout` is the
 *   profile's (`nmapProfileTimeoutMs`), so give `timeoutMs` a little more than that
 *   and nmap can end cleanly first.
 * - Missing binary: ScannerUnavailableError. Non-zero exit, nmap's own error exit,
 *   or no host scanned (target skipped or unresolvable): NmapFailedError with the end
 *   of stderr. Every host given up on by --host-timeout: ScanTimeoutError (nmap
 *   drops the ports of such a host, so there is no result).
 * - Memory: stdout is capped at 50 MB (exceeding kills nmap: NmapOutputError), stderr
 *   keeps its last 1 MB.
 */
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { StringDecoder } from 'node:string_decoder';
import type { Finding } from '../../domain/shared/finding.js';
import { nmapArguments, nmapProfileTimeoutMs, type NmapScanConfig } from './nmapConfig.js';
import { nmapFindings } from './nmapFindings.js';
import { NmapOutputError, parseNmapXml, toScanResult, type NmapResult, type NmapScanResult } from './nmapParser.js';

export { NmapOutputError } from './nmapParser.js';

export class ScanAbortedError extends Error {
  override name = 'ScanAbortedError';
}
export class ScanTimeoutError extends Error {
  override name = 'ScanTimeoutError';
}
export class ScannerUnavailableError extends Error {
  override name = 'ScannerUnavailableError';
}
/** nmap ran but failed (non-zero exit, error exit in its XML, nothing scanned). */
export class NmapFailedError extends Error {
  override name = 'NmapFailedError';
  constructor(
    message: string,
    readonly exitCode: number | null,
    readonly stderrTail: string,
  ) {
    super(message);
  }
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
}

export interface NmapRun {
  result: NmapResult;
  scanResult: NmapScanResult;
  findings: Finding[];
  args: string[];
  durationMs: number;
}

export const MAX_STDOUT_BYTES = 50 * 1024 * 1024;
export const MAX_STDERR_BYTES = 1024 * 1024;
const KILL_GRACE_MS = 2_000;
const STDERR_TAIL_CHARS = 2_000;

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

function tail(text: string): string {
  const trimmed = text.trim();
  return trimmed.length > STDERR_TAIL_CHARS ? `…${trimmed.slice(-STDERR_TAIL_CHARS)}` : trimmed;
}

/** Maps nmap's per-task percent onto one overall percent. */
function overallPercent(task: string, percent: number, aggressive: boolean): number | null {
  const p = Math.min(Math.max(percent, 0), 100) / 100;
  if (/service scan/i.test(task)) return 60 + p * 35;
  if (/scan$/i.test(task)) return p * (aggressive ? 60 : 95);
  return null;
}

type Stop = { kind: 'aborted' } | { kind: 'timeout' } | { kind: 'error'; error: Error };

export function runNmap(options: RunNmapOptions): Promise<NmapRun> {
  const { target, config, timeoutMs, signal, onProgress } = options;
  const nmapPath = options.nmapPath ?? 'nmap';
  const args = nmapArguments(config, target, {
    rawSockets: options.rawSockets ?? false,
    hostTimeoutMs: nmapProfileTimeoutMs(config),
  });
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
    return Promise.reject(new RangeError(`timeoutMs must be a positive number, got ${timeoutMs}`));
  }
  if (signal?.aborted) return Promise.reject(new ScanAbortedError('nmap scan aborted before it started'));

  return new Promise<NmapRun>((resolve, reject) => {
    const started = performance.now();
    const child = spawn(nmapPath, args, { shell: false, stdio: ['ignore', 'pipe', 'pipe'], windowsHide: true });

    const stdoutChunks: Buffer[] = [];
    let stdoutBytes = 0;
    let stderr = '';
    let progressBuffer = '';
    let lastPercent = -1;
    let stop: Stop | undefined;
    let settled = false;
    let killTimer: NodeJS.Timeout | undefined;
    let giveUpTimer: NodeJS.Timeout | undefined;
    let timeoutTimer: NodeJS.Timeout | undefined;
    const stdoutDecoder = new StringDecoder('utf8');
    const stderrDecoder = new StringDecoder('utf8');

    const finish = (outcome: { ok: NmapRun } | { error: Error }): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timeoutTimer);
      clearTimeout(killTimer);
      clearTimeout(giveUpTimer);
      signal?.removeEventListener('abort', onAbort);
      if ('ok' in outcome) resolve(outcome.ok);
      else reject(outcome.error);
    };

    const stopError = (why: Stop): Error => {
      switch (why.kind) {
        case 'aborted':
          return new ScanAbortedError('nmap scan aborted');
        case 'timeout':
          return new ScanTimeoutError(`nmap scan exceeded its time limit of ${timeoutMs} ms`);
        case 'error':
          return why.error;
      }
    };

    const stopChild = (why: Stop): void => {
      if (stop || settled) return;
      stop = why;
      child.kill('SIGTERM');
      killTimer = setTimeout(() => child.kill('SIGKILL'), KILL_GRACE_MS);
      // Should 'exit' never come (it does once the process is gone), do not hang.
      giveUpTimer = setTimeout(() => finish({ error: stopError(why) }), KILL_GRACE_MS + 3_000);
    };

    const report = (phase: string, percent: number): void => {
      if (!onProgress || settled || stop) return;
      const rounded = Math.round(Math.max(percent, lastPercent) * 100) / 100;
      lastPercent = rounded;
      try {
        onProgress({ percent: rounded, phase });
      } catch (error) {
        stopChild({ kind: 'error', error: error instanceof Error ? error : new Error(String(error)) });
      }
    };

    const scanProgress = (text: string, fromStdout: boolean): void => {
      if (!onProgress) return;
      if (fromStdout) {
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
      }
      TEXT_PROGRESS.lastIndex = 0;
      for (let m = TEXT_PROGRESS.exec(text); m; m = TEXT_PROGRESS.exec(text)) {
        const task = (m[1] ?? '').trim();
        const percent = overallPercent(task, Number(m[2]), config.aggressive);
        if (percent !== null) report(task, percent);
      }
    };

    const onAbort = (): void => stopChild({ kind: 'aborted' });
    signal?.addEventListener('abort', onAbort, { once: true });
    timeoutTimer = setTimeout(() => stopChild({ kind: 'timeout' }), timeoutMs);

    child.once('spawn', () => {
      try {
        if (child.pid !== undefined) options.onSpawn?.(child.pid);
      } catch (error) {
        stopChild({ kind: 'error', error: error instanceof Error ? error : new Error(String(error)) });
      }
      report('starting', 0);
    });

    child.stdout.on('data', (chunk: Buffer) => {
      if (stop) return;
      stdoutBytes += chunk.length;
      if (stdoutBytes > MAX_STDOUT_BYTES) {
        stopChild({
          kind: 'error',
          error: new NmapOutputError(`nmap output exceeded ${MAX_STDOUT_BYTES} bytes; scan stopped`),
        });
        return;
      }
      stdoutChunks.push(chunk);
      scanProgress(stdoutDecoder.write(chunk), true);
    });

    child.stderr.on('data', (chunk: Buffer) => {
      const text = stderrDecoder.write(chunk);
      stderr += text;
      if (stderr.length > MAX_STDERR_BYTES) stderr = stderr.slice(-MAX_STDERR_BYTES);
      scanProgress(text, false);
    });

    child.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT' || error.code === 'EACCES') {
        finish({
          error: new ScannerUnavailableError(
            `nmap is not installed or not executable (tried "${nmapPath}": ${error.code}); install nmap ` +
              '(e.g. apt-get install nmap) or set the path to the nmap binary',
          ),
        });
      } else if (child.pid === undefined) {
        finish({ error: new ScannerUnavailableError(`could not start nmap ("${nmapPath}"): ${error.message}`) });
      }
      // Other errors (e.g. kill failing) are followed by 'close', which settles.
    });

    // Once we stopped it, the process being gone is enough (a grandchild could keep the
    // pipes open and delay 'close'); the output is not wanted any more.
    child.once('exit', () => {
      if (!stop) return;
      child.stdout.destroy();
      child.stderr.destroy();
      finish({ error: stopError(stop) });
    });

    child.once('close', (code, killedBy) => {
      if (stop) {
        finish({ error: stopError(stop) });
        return;
      }
      const stderrTail = tail(stderr + stderrDecoder.end());
      if (code !== 0) {
        const how = code === null ? `was killed by ${killedBy ?? 'a signal'}` : `exited with code ${code}`;
        finish({ error: new NmapFailedError(`nmap ${how}${stderrTail ? `: ${stderrTail}` : ''}`, code, stderrTail) });
        return;
      }
      try {
        const result = parseNmapXml(Buffer.concat(stdoutChunks).toString('utf8'));
        if (result.runstats.exit !== 'success') {
          const why = result.runstats.errormsg ?? stderrTail;
          finish({ error: new NmapFailedError(`nmap reported an error${why ? `: ${why}` : ''}`, code, stderrTail) });
          return;
        }
        if (result.runstats.hosts.total === 0) {
          const skipped = result.skipped_targets.map((t) => `${t.specification} (${t.reason ?? t.status})`).join(', ');
          finish({
            error: new NmapFailedError(
              `nmap scanned no host${skipped ? `; skipped: ${skipped}` : ''}${stderrTail ? `: ${stderrTail}` : ''}`,
              code,
              stderrTail,
            ),
          });
          return;
        }
        if (result.hosts.length > 0 && result.hosts.every((h) => h.timed_out)) {
          finish({
            error: new ScanTimeoutError('nmap gave up on every host (--host-timeout reached); no port results'),
          });
          return;
        }
        report('done', 100);
        finish({
          ok: {
            result,
            scanResult: toScanResult(result),
            findings: nmapFindings(result),
            args,
            durationMs: Math.round(performance.now() - started),
          },
        });
      } catch (error) {
        finish({ error: error instanceof Error ? error : new Error(String(error)) });
      }
    });
  });
}
