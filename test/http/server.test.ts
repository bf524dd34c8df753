import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { newUser } from '../support/testRuntime.js';

/** The real entry point (main.ts) as a child process on an ephemeral port. */
interface Server {
  child: ChildProcess;
  base: string;
  logs: string[];
  exited: Promise<number | null>;
}

const dataDir = mkdtempSync(join(tmpdir(), 'secably-server-'));
const running = new Set<ChildProcess>();

afterAll(() => {
  for (const child of running) child.kill('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

async function startServer(env: Record<string, string> = {}): Promise<Server> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'main.ts'], {
    cwd: join(import.meta.dirname, '..', '..'),
    env: {
      ...process.env,
      PORT: '0',
      SECABLY_DATA_DIR: dataDir,
      SECABLY_SCRYPT_LOG2N: '10',
      LOG_LEVEL: 'info',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  const logs: string[] = [];
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
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

async function post(base: string, path: string, body: unknown, token?: string) {
  const res = await fetch(`${base}/api/v1${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as any };
}

describe('the real server (npm start’s entry point)', () => {
  it('serves the flow over HTTP, stops cleanly on SIGTERM, and keeps its data across a restart', async () => {
    const first = await startServer();
    expect((await fetch(`${first.base}/healthz`)).status).toBe(200);
    const user = newUser();
    const reg = await post(first.base, '/auth/register/', user);
    expect(reg.status).toBe(201);
    const login = await post(first.base, '/auth/login/', { email: user.email, password: user.password });
    expect(login.status).toBe(200);
    const profile = await fetch(`${first.base}/api/v1/profile/`, {
      headers: { authorization: `Bearer ${login.body.access}` },
    });
    expect(profile.status).toBe(200);
    expect(profile.headers.get('x-ratelimit-limit')).toBe('100');
    expect(((await profile.json()) as any).user_email).toBe(user.email);

    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    expect(first.logs.some((l) => l.includes('"msg":"stopped"'))).toBe(true);

    const second = await startServer();
    // The JWT key was kept in the data dir: the old access token is still good, and the user is still there.
    const again = await fetch(`${second.base}/api/v1/profile/`, {
      headers: { authorization: `Bearer ${login.body.access}` },
    });
    expect(again.status).toBe(200);
    expect((await post(second.base, '/auth/login/', { email: user.email, password: user.password })).status).toBe(200);
    expect((await post(second.base, '/auth/register/', user)).status).toBe(409);
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
  });

  it('refuses a bad configuration with a clear message', async () => {
    await expect(startServer({ SECABLY_RATE_LIMIT_MULTIPLIER: 'lots' })).rejects.toThrow(
      /SECABLY_RATE_LIMIT_MULTIPLIER/,
    );
  });
});
