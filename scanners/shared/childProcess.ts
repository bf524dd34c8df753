/**
 * Runs a scanner tool as a child process, the one way every runner does it:
 *
 * - never through a shell (argv as given; callers validate every argument);
 * - dies with its parent: on Linux the child is started through util-linux's
 *   `setpriv --pdeathsig KILL`, so the kernel kills it the moment the worker dies,
 *   even by `kill -9` (no orphaned scan keeps hitting a target after a crash, and a
 *   restarted worker never runs a scan beside its first run);
 * - abort (cancel, shutdown) and timeout: SIGTERM, then SIGKILL after a grace period;
 *   the promise rejects (ScanAbortedError / ScanTimeoutError) once the process is gone
 *   (at the latest a few seconds after SIGKILL, should it somehow survive);
 * - output caps: stdout beyond `maxStdoutBytes` kills the tool (ScanOutputTooLargeError),
 *   stderr keeps its last `maxStderrBytes`;
 * - a missing or non-executable binary is ScannerUnavailableError;
 * - a non-zero exit is not an error here: the result carries the code, and the caller
 *   decides (nmap and sslscan use exit codes differently).
 */
import { spawn } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { StringDecoder } from 'node:string_decoder';
import { ScanAbortedError, ScannerUnavailableError, ScanOutputTooLargeError, ScanTimeoutError } from './errors.js';

export interface RunToolOptions {
  /** The binary (a path or a name on PATH). */
  readonly command: string;
  readonly args: readonly string[];
  /** A name for messages ("nmap"). */
  readonly toolName: string;
  /** How to install it, for the "not installed" message ("apt-get install nmap"). */
  readonly installHint?: string;
  /** Hard wall-clock limit. */
  readonly timeoutMs: number;
  readonly signal?: AbortSignal | undefined;
  /** Default 50 MiB. */
  readonly maxStdoutBytes?: number;
  /** Default 1 MiB (the last part is kept). */
  readonly maxStderrBytes?: number;
  /** Text as it arrives (UTF-8, split anywhere): progress parsing. A throw stops the tool with that error. */
  readonly onStdout?: (text: string) => void;
  readonly onStderr?: (text: string) => void;
  /** Called with the child's pid once it runs. */
  readonly onSpawn?: (pid: number) => void;
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  readonly stdin?: string | Buffer;
  /** SIGTERM → SIGKILL delay (default 2 s). */
  readonly killGraceMs?: number;
}

export interface ToolResult {
  readonly exitCode: number | null;
  /** The signal that ended it, when one did. */
  readonly signal: NodeJS.Signals | null;
  readonly stdout: Buffer;
  /** The end of stderr (at most `maxStderrBytes` characters). */
  readonly stderr: string;
  readonly durationMs: number;
  /** The argv actually started (after the parent-death wrapper). */
  readonly argv: readonly string[];
}

export const DEFAULT_MAX_STDOUT_BYTES = 50 * 1024 * 1024;
export const DEFAULT_MAX_STDERR_BYTES = 1024 * 1024;

const SETPRIV_CANDIDATES = ['/usr/bin/setpriv', '/bin/setpriv'];
let setprivPath: string | null | undefined;

/** util-linux's setpriv when it is there (Linux), to set the child's parent-death signal. */
export function parentDeathWrapper(): string | null {
  if (setprivPath !== undefined) return setprivPath;
  setprivPath = null;
  if (process.platform === 'linux') {
    for (const candidate of SETPRIV_CANDIDATES) {
      try {
        accessSync(candidate, constants.X_OK);
        setprivPath = candidate;
        break;
      } catch {
        // not here
      }
    }
  }
  return setprivPath;
}

/** The argv that starts `command` so that it is killed when this process dies. */
export function diesWithParent(command: string, args: readonly string[]): { file: string; args: string[] } {
  const wrapper = parentDeathWrapper();
  return wrapper
    ? { file: wrapper, args: ['--pdeathsig', 'KILL', '--', command, ...args] }
    : { file: command, args: [...args] };
}

/** The last `chars` characters of a text, trimmed, marked when cut. */
export function tailOf(text: string, chars = 2_000): string {
  const trimmed = text.trim();
  return trimmed.length > chars ? `…${trimmed.slice(-chars)}` : trimmed;
}

/**
 * Why `command` cannot be executed ('ENOENT', 'EACCES'), or undefined when it can:
 * checked before starting it behind the parent-death wrapper, whose own failure
 * would otherwise hide the reason.
 */
function notExecutable(command: string, env: NodeJS.ProcessEnv): string | undefined {
  const candidates = command.includes('/')
    ? [command]
    : (env.PATH ?? '')
        .split(delimiter)
        .filter(Boolean)
        .map((dir) => join(dir, command));
  let reason = 'ENOENT';
  for (const candidate of candidates) {
    try {
      accessSync(candidate, constants.X_OK);
      if (statSync(candidate).isFile()) return undefined;
      reason = 'EACCES';
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EACCES') reason = 'EACCES';
    }
  }
  return reason;
}

type Stop = { kind: 'aborted' } | { kind: 'timeout' } | { kind: 'error'; error: Error };

export function runTool(options: RunToolOptions): Promise<ToolResult> {
  const { toolName, timeoutMs, signal } = options;
  const maxStdout = options.maxStdoutBytes ?? DEFAULT_MAX_STDOUT_BYTES;
  const maxStderr = options.maxStderrBytes ?? DEFAULT_MAX_STDERR_BYTES;
  const killGraceMs = options.killGraceMs ?? 2_000;
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
    return Promise.reject(new RangeError(`timeoutMs must be a positive number, got ${timeoutMs}`));
  }
  if (signal?.aborted) return Promise.reject(new ScanAbortedError(`${toolName} aborted before it started`));
  const { file, args } = diesWithParent(options.command, options.args);
  if (file !== options.command) {
    const reason = notExecutable(options.command, options.env ?? process.env);
    if (reason) {
      return Promise.reject(
        new ScannerUnavailableError(
          `${toolName} is not installed or not executable (tried "${options.command}": ${reason})` +
            (options.installHint ? `; ${options.installHint}` : ''),
        ),
      );
    }
  }

  return new Promise<ToolResult>((resolve, reject) => {
    const started = performance.now();
    const child = spawn(file, args, {
      shell: false,
      stdio: [options.stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      windowsHide: true,
      ...(options.env ? { env: options.env } : {}),
      ...(options.cwd ? { cwd: options.cwd } : {}),
    });
    const stdoutChunks: Buffer[] = [];
    let stdoutBytes = 0;
    let stderr = '';
    let stop: Stop | undefined;
    let settled = false;
    let killTimer: NodeJS.Timeout | undefined;
    let giveUpTimer: NodeJS.Timeout | undefined;
    const stdoutDecoder = new StringDecoder('utf8');
    const stderrDecoder = new StringDecoder('utf8');

    const finish = (outcome: { ok: ToolResult } | { error: Error }): void => {
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
          return new ScanAbortedError(`${toolName} aborted`);
        case 'timeout':
          return new ScanTimeoutError(`${toolName} exceeded its time limit of ${Math.round(timeoutMs / 1000)} s`);
        case 'error':
          return why.error;
      }
    };

    const stopChild = (why: Stop): void => {
      if (stop || settled) return;
      stop = why;
      child.kill('SIGTERM');
      killTimer = setTimeout(() => child.kill('SIGKILL'), killGraceMs);
      // Should 'exit' never come (it does once the process is gone), do not hang.
      giveUpTimer = setTimeout(() => finish({ error: stopError(why) }), killGraceMs + 3_000);
    };

    const guarded = (fn: (() => void) | undefined): void => {
      if (!fn) return;
      try {
        fn();
      } catch (error) {
        stopChild({ kind: 'error', error: error instanceof Error ? error : new Error(String(error)) });
      }
    };

    const onAbort = (): void => stopChild({ kind: 'aborted' });
    signal?.addEventListener('abort', onAbort, { once: true });
    const timeoutTimer = setTimeout(() => stopChild({ kind: 'timeout' }), timeoutMs);

    child.once('spawn', () => {
      if (child.pid !== undefined) guarded(() => options.onSpawn?.(child.pid!));
      if (options.stdin !== undefined) child.stdin?.end(options.stdin);
    });
    child.stdin?.on('error', () => {}); // a tool that exits before reading its input

    child.stdout!.on('data', (chunk: Buffer) => {
      if (stop) return;
      stdoutBytes += chunk.length;
      if (stdoutBytes > maxStdout) {
        stopChild({
          kind: 'error',
          error: new ScanOutputTooLargeError(`${toolName} output exceeded ${maxStdout} bytes; stopped`),
        });
        return;
      }
      stdoutChunks.push(chunk);
      if (options.onStdout) {
        const text = stdoutDecoder.write(chunk);
        guarded(() => options.onStdout?.(text));
      }
    });

    child.stderr!.on('data', (chunk: Buffer) => {
      const text = stderrDecoder.write(chunk);
      stderr += text;
      if (stderr.length > maxStderr) stderr = stderr.slice(-maxStderr);
      if (options.onStderr && !stop) guarded(() => options.onStderr?.(text));
    });

    child.once('error', (error: NodeJS.ErrnoException) => {
      if (child.pid === undefined) {
        const missing = error.code === 'ENOENT' || error.code === 'EACCES';
        finish({
          error: new ScannerUnavailableError(
            missing
              ? `${toolName} is not installed or not executable (tried "${options.command}": ${error.code})` +
                  (options.installHint ? `; ${options.installHint}` : '')
              : `could not start ${toolName} ("${options.command}"): ${error.message}`,
          ),
        });
      }
      // Other errors (e.g. kill failing) are followed by 'close', which settles.
    });

    // Once we stopped it, the process being gone is enough (a grandchild could keep the
    // pipes open and delay 'close'); the output is not wanted any more.
    child.once('exit', () => {
      if (!stop) return;
      child.stdout?.destroy();
      child.stderr?.destroy();
      finish({ error: stopError(stop) });
    });

    child.once('close', (code, killedBy) => {
      if (stop) {
        finish({ error: stopError(stop) });
        return;
      }
      const rest = stdoutDecoder.end();
      if (rest && options.onStdout) guarded(() => options.onStdout?.(rest));
      stderr += stderrDecoder.end();
      // setpriv reports its own failure (e.g. the tool missing) with exit code 127 or 126.
      if (file !== options.command && (code === 127 || code === 126) && /setpriv: /.test(stderr)) {
        finish({
          error: new ScannerUnavailableError(
            `${toolName} is not installed or not executable (tried "${options.command}")` +
              (options.installHint ? `; ${options.installHint}` : ''),
          ),
        });
        return;
      }
      finish({
        ok: {
          exitCode: code,
          signal: killedBy,
          stdout: Buffer.concat(stdoutChunks),
          stderr: stderr.length > maxStderr ? stderr.slice(-maxStderr) : stderr,
          durationMs: Math.round(performance.now() - started),
          argv: [file, ...args],
        },
      });
    });
  });
}
