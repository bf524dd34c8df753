import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { call, killAllServers, startServer } from '../support/serverProcess.js';
import { newUser } from '../support/testRuntime.js';

const dataDir = mkdtempSync(join(tmpdir(), 'secably-server-'));

afterAll(() => {
  killAllServers();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('the real server (npm start’s entry point)', () => {
  // Two starts of the real entry point (transpiled by tsx each time): slow on a busy machine.
  it(
    'serves the flow over HTTP, stops cleanly on SIGTERM, and keeps its data across a restart',
    { timeout: 90_000 },
    async () => {
      const first = await startServer({ SECABLY_DATA_DIR: dataDir });
      expect((await fetch(`${first.base}/healthz`)).status).toBe(200);
      const user = newUser();
      expect((await call(first.base, 'POST', '/auth/register/', { body: user })).status).toBe(201);
      const login = await call(first.base, 'POST', '/auth/login/', {
        body: { email: user.email, password: user.password },
      });
      expect(login.status).toBe(200);
      const profile = await call(first.base, 'GET', '/profile/', { token: login.body.access });
      expect(profile.status).toBe(200);
      expect(profile.headers.get('x-ratelimit-limit')).toBe('100');
      expect(profile.body.user_email).toBe(user.email);

      first.child.kill('SIGTERM');
      expect(await first.exited).toBe(0);
      expect(first.logs.some((l) => l.includes('"msg":"stopped"'))).toBe(true);

      const second = await startServer({ SECABLY_DATA_DIR: dataDir });
      // The JWT key was kept in the data dir: the old access token is still good, and the user is still there.
      expect((await call(second.base, 'GET', '/profile/', { token: login.body.access })).status).toBe(200);
      expect(
        (await call(second.base, 'POST', '/auth/login/', { body: { email: user.email, password: user.password } }))
          .status,
      ).toBe(200);
      expect((await call(second.base, 'POST', '/auth/register/', { body: user })).status).toBe(409);
      second.child.kill('SIGTERM');
      expect(await second.exited).toBe(0);
    },
  );

  it('refuses a bad configuration with a clear message', async () => {
    await expect(startServer({ SECABLY_DATA_DIR: dataDir, SECABLY_RATE_LIMIT_MULTIPLIER: 'lots' })).rejects.toThrow(
      /SECABLY_RATE_LIMIT_MULTIPLIER/,
    );
  });
});
