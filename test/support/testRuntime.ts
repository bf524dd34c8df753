import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import type { Clock, Resolver } from '../../adapters/ports.js';
import { loadConfig } from '../../config.js';
import { startEmbedded, type Runtime } from '../../processes/embedded.js';
import type { ScannerRegistry } from '../../scanners/registry.js';
import { distributedMode, distributedRuntime, type DistributedRuntime } from './distributedRuntime.js';

export interface TestRuntime extends Omit<Runtime, 'app'> {
  readonly dataDir: string;
  /** Which mode this runtime is in (SECABLY_TEST_MODE=distributed runs the e2e suites on the real servers). */
  readonly mode: 'embedded' | 'distributed';
  /** Distributed mode only: stop (or kill) and start one role's process. */
  readonly roles?: Pick<DistributedRuntime, 'stopRole' | 'startRole'>;
  /** Calls the API (in-process in the embedded mode, over HTTP to the api process otherwise). */
  call(method: string, path: string, options?: CallOptions): Promise<TestResponse>;
  cleanup(): Promise<void>;
}

export interface CallOptions {
  body?: unknown;
  token?: string;
  headers?: Record<string, string>;
  /** The client address the app sees. */
  ip?: string;
}

export interface TestResponse {
  status: number;
  headers: Headers;
  body: any;
}

export const ADMIN_TOKEN = 'test-admin-token-0123456789';

type Overrides = { clock?: Clock; dataDir?: string; resolver?: Resolver; scanners?: ScannerRegistry };

/** Tests that swap in a clock or scanners run only in the embedded mode (those live in the service's process). */
export const needsEmbedded = distributedMode();

/**
 * A runtime on fresh storage with cheap scrypt: the embedded mode in process, or
 * — with SECABLY_TEST_MODE=distributed — the four processes on the real servers.
 */
export async function testRuntime(env: Record<string, string> = {}, overrides: Overrides = {}): Promise<TestRuntime> {
  if (distributedMode()) return distributedTestRuntime(env, overrides);
  const dataDir = overrides.dataDir ?? mkdtempSync(join(tmpdir(), 'secably-test-'));
  const config = loadConfig({
    SECABLY_DATA_DIR: dataDir,
    SECABLY_SCRYPT_LOG2N: '10',
    SECABLY_RATE_LIMIT_MULTIPLIER: '100',
    SECABLY_ADMIN_TOKEN: ADMIN_TOKEN,
    LOG_LEVEL: 'silent',
    ...env,
  });
  const runtime = await startEmbedded(config, pino({ level: 'silent' }), {
    ...(overrides.clock ? { clock: overrides.clock } : {}),
    ...(overrides.resolver ? { resolver: overrides.resolver } : {}),
    ...(overrides.scanners ? { scanners: overrides.scanners } : {}),
  });
  return {
    ...runtime,
    dataDir,
    mode: 'embedded',
    async call(method, path, options = {}) {
      const headers: Record<string, string> = { ...options.headers };
      if (options.body !== undefined) headers['content-type'] ??= 'application/json';
      if (options.token) headers.authorization = `Bearer ${options.token}`;
      const init: RequestInit = { method, headers };
      if (options.body !== undefined) init.body = rawBody(options.body) ?? JSON.stringify(options.body);
      const env = { incoming: { socket: { remoteAddress: options.ip ?? '127.0.0.1', remotePort: 50000 } } };
      const response = await runtime.app.request(path, init, env);
      const text = await response.text();
      let body: unknown = text;
      try {
        body = text ? JSON.parse(text) : null;
      } catch {
        /* not JSON */
      }
      return { status: response.status, headers: response.headers, body };
    },
    async cleanup() {
      await runtime.stop();
      if (!overrides.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

async function distributedTestRuntime(env: Record<string, string>, overrides: Overrides): Promise<TestRuntime> {
  if (overrides.clock || overrides.scanners || overrides.dataDir) {
    throw new Error('this test swaps in a clock, scanners or a data dir: it runs in the embedded mode only');
  }
  const runtime = await distributedRuntime(
    { SECABLY_RATE_LIMIT_MULTIPLIER: '100', SECABLY_ADMIN_TOKEN: ADMIN_TOKEN, ...env },
    overrides.resolver ? { resolver: overrides.resolver } : {},
  );
  return {
    deps: runtime.deps,
    dataDir: '',
    mode: 'distributed',
    roles: { stopRole: runtime.stopRole, startRole: runtime.startRole },
    stop: () => runtime.cleanup(),
    cleanup: () => runtime.cleanup(),
    async call(method, path, options = {}) {
      const headers: Record<string, string> = { ...options.headers };
      if (options.body !== undefined) headers['content-type'] ??= 'application/json';
      if (options.token) headers.authorization = `Bearer ${options.token}`;
      // The api process trusts X-Forwarded-For in tests: how a client address reaches it.
      headers['x-forwarded-for'] = options.ip ?? '127.0.0.1';
      const init: RequestInit = { method, headers };
      if (options.body !== undefined) {
        init.body = rawBody(options.body) ?? JSON.stringify(options.body);
      }
      const response = await fetch(`${runtime.base}${path}`, init);
      const text = await response.text();
      let body: unknown = text;
      try {
        body = text ? JSON.parse(text) : null;
      } catch {
        /* not JSON */
      }
      return { status: response.status, headers: response.headers, body };
    },
  };
}

/** A body sent as is: text, or bytes (e.g. invalid UTF-8); anything else is sent as JSON. */
function rawBody(body: unknown): string | Uint8Array | undefined {
  return typeof body === 'string' || body instanceof Uint8Array ? body : undefined;
}

let counter = 0;
/** A unique, valid registration body. */
export function newUser(overrides: Record<string, unknown> = {}) {
  counter += 1;
  const email = `user${Date.now().toString(36)}${counter}@example.com`;
  return {
    email,
    first_name: 'Ada',
    last_name: 'Lovelace',
    password: 'correct horse battery staple',
    password_confirm: 'correct horse battery staple',
    ...overrides,
  };
}

/** Registers and logs in; returns the tokens and ids. */
export async function registerAndLogin(rt: TestRuntime, overrides: Record<string, unknown> = {}) {
  const user = newUser(overrides);
  const registered = await rt.call('POST', '/api/v1/auth/register/', { body: user });
  if (registered.status !== 201)
    throw new Error(`register failed: ${registered.status} ${JSON.stringify(registered.body)}`);
  const login = await rt.call('POST', '/api/v1/auth/login/', { body: { email: user.email, password: user.password } });
  if (login.status !== 200) throw new Error(`login failed: ${login.status} ${JSON.stringify(login.body)}`);
  return {
    user,
    userId: registered.body.user.id as string,
    access: login.body.access as string,
    refresh: login.body.refresh as string,
  };
}
