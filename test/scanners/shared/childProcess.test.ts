import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parentDeathWrapper, runTool } from '../../../scanners/shared/childProcess.js';
import {
  ScanAbortedError,
  ScannerUnavailableError,
  ScanOutputTooLargeError,
  ScanTimeoutError,
} from '../../../scanners/shared/errors.js';
import { waitFor } from '../../support/waitFor.js';

const alive = (pid: number) => existsSync(`/proc/${pid}`) && !/^State:\s+Z/m.test(readStatus(pid));
function readStatus(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return 'State: Z';
  }
}

describe('runTool (child processes of every scanner)', () => {
  it('runs argv without a shell and returns output, exit code and stderr', async () => {
    const result = await runTool({
      command: 'sh',
      args: ['-c', 'echo "$0 out"; echo err >&2; exit 3', '$(touch /tmp/never)'],
      toolName: 'sh',
      timeoutMs: 5_000,
    });
    expect(result.stdout.toString()).toBe('$(touch /tmp/never) out\n');
    expect(result.stderr).toBe('err\n');
    expect(result.exitCode).toBe(3);
  });

  it('streams stdout text as it arrives', async () => {
    const seen: string[] = [];
    await runTool({
      command: 'sh',
      args: ['-c', 'printf a; sleep 0.1; printf b'],
      toolName: 'sh',
      timeoutMs: 5_000,
      onStdout: (t) => seen.push(t),
    });
    expect(seen.join('')).toBe('ab');
  });

  it('a missing binary is ScannerUnavailableError with the install hint', async () => {
    await expect(
      runTool({
        command: 'no-such-tool-xyz',
        args: [],
        toolName: 'xyz',
        installHint: 'apt-get install xyz',
        timeoutMs: 5_000,
      }),
    ).rejects.toSatisfy((e) => e instanceof ScannerUnavailableError && /apt-get install xyz/.test(String(e)));
  });

  it('timeout and abort stop the process (SIGTERM, then SIGKILL)', async () => {
    let pid = 0;
    await expect(
      runTool({ command: 'sleep', args: ['30'], toolName: 'sleep', timeoutMs: 200, onSpawn: (p) => (pid = p) }),
    ).rejects.toBeInstanceOf(ScanTimeoutError);
    expect(alive(pid)).toBe(false);

    const controller = new AbortController();
    const run = runTool({
      command: 'sh',
      args: ['-c', 'trap "" TERM; sleep 30'],
      toolName: 'stubborn',
      timeoutMs: 30_000,
      signal: controller.signal,
      killGraceMs: 200,
      onSpawn: (p) => (pid = p),
    });
    setTimeout(() => controller.abort(), 100);
    await expect(run).rejects.toBeInstanceOf(ScanAbortedError);
    expect(alive(pid)).toBe(false);
  });

  it('caps stdout', async () => {
    await expect(
      runTool({ command: 'yes', args: [], toolName: 'yes', timeoutMs: 5_000, maxStdoutBytes: 100_000 }),
    ).rejects.toBeInstanceOf(ScanOutputTooLargeError);
  });

  it.skipIf(!parentDeathWrapper())('the tool dies with its parent, even on kill -9', async () => {
    const script = fileURLToPath(new URL('./childProcessParent.fixture.ts', import.meta.url));
    const parent = spawn(process.execPath, ['--import', 'tsx', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let output = '';
    parent.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const childPid: number = (await waitFor(() => Number(/child (\d+)/.exec(output)?.[1]) || false, 10_000)) as number;
    expect(alive(childPid)).toBe(true);
    parent.kill('SIGKILL');
    await waitFor(() => !alive(childPid), 5_000);
    expect(alive(childPid)).toBe(false);
  });
});
