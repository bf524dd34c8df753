import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

/** The real entry point (main.ts) as a child process on an ephemeral port. */
export interface ServerProcess {
  readonly child: ChildProcess;
  readonly base: string;
  readonly logs: string[];
  readonly exited: Promise<number | null>;
}

const running = new Set<ChildProcess>();
process.once('exit', () => killAllServers());

/** Kills (SIGKILL) every server still running: for afterAll. */
export function killAllServers(): void {
  for (const child of running) child.kill('SIGKILL');
  running.clear();
}

export async function startServer(env: Record<string, string>): Promise<ServerProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'main.ts'], {
    cwd: join(import.meta.dirname, '..', '..'),
    env: { ...process.env, PORT: '0', SECABLY_SCRYPT_LOG2N: '10', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  const logs: string[] = [];
  const exited = new Promise<number | null>((resolve) =>
    child.on('exit', (code) => {
      running.delete(child);
      resolve(code);
    }),
  );
  const base = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${logs.join('')}`)), 30_000);
    child.stderr!.on('data', (chunk: Buffer) => logs.push(chunk.toString()));
    child.stdout!.on('data', (chunk: Buffer) => {
      for (const line of chunk.toString().split('\n').filter(Boolean)) {
        logs.push(line);
        try {
          const entry = JSON.parse(line) as { msg?: string; port?: number };
          if (entry.msg === 'listening') {
            clearTimeout(timer);
            resolve(`http://127.0.0.1:${entry.port}`);
          }
        } catch {
          /* not a log line */
        }
      }
    });
    void exited.then((code) => reject(new Error(`server exited (${code}):\n${logs.join('')}`)));
  });
  return { child, base, logs, exited };
}

/** A JSON call to a running server. */
export async function call(
  base: string,
  method: string,
  path: string,
  options: { body?: unknown; token?: string } = {},
): Promise<{ status: number; headers: Headers; body: any }> {
  const res = await fetch(`${base}/api/v1${path}`, {
    method,
    headers: {
      ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
    },
    ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : null };
}
