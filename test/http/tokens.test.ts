import { SignJWT, UnsecuredJWT, decodeJwt } from 'jose';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixedClock } from '../../adapters/systemClock.js';
import { registerAndLogin, testRuntime, type TestRuntime } from '../support/testRuntime.js';

const clock = fixedClock('2026-11-10T12:00:00.000Z');
let rt: TestRuntime;
let secret: Uint8Array;
let session: Awaited<ReturnType<typeof registerAndLogin>>;

beforeAll(async () => {
  rt = await testRuntime({}, { clock });
  secret = new TextEncoder().encode(readFileSync(join(rt.dataDir, 'jwt-secret'), 'utf8').trim());
  session = await registerAndLogin(rt);
});
afterAll(async () => {
  await rt.cleanup();
});

async function forged(
  claims: Record<string, unknown>,
  opts: { key?: Uint8Array; alg?: string; iss?: string; aud?: string; exp?: number } = {},
) {
  const now = Math.floor(clock.now().getTime() / 1000);
  return new SignJWT(claims)
    .setProtectedHeader({ alg: opts.alg ?? 'HS256' })
    .setSubject(session.userId)
    .setIssuer(opts.iss ?? 'secably')
    .setAudience(opts.aud ?? 'secably-api')
    .setIssuedAt(now)
    .setExpirationTime(opts.exp ?? now + 600)
    .sign(opts.key ?? secret);
}

const profile = (token: string) => rt.call('GET', '/api/v1/profile/', { token });

describe('access tokens', () => {
  it('a well-formed token we signed is accepted (the harness itself is sound)', async () => {
    expect((await profile(await forged({ sv: 0 }))).status).toBe(200);
  });

  it('a bad signature → 401', async () => {
    expect((await profile(await forged({ sv: 0 }, { key: new TextEncoder().encode('x'.repeat(48)) }))).status).toBe(
      401,
    );
  });

  it('alg none → 401', async () => {
    const now = Math.floor(clock.now().getTime() / 1000);
    const token = new UnsecuredJWT({ sv: 0 })
      .setSubject(session.userId)
      .setIssuer('secably')
      .setAudience('secably-api')
      .setIssuedAt(now)
      .setExpirationTime(now + 600)
      .encode();
    expect((await profile(token)).status).toBe(401);
  });

  it('another HMAC algorithm (HS512) → 401', async () => {
    expect((await profile(await forged({ sv: 0 }, { alg: 'HS512' }))).status).toBe(401);
  });

  it('a wrong issuer or audience → 401', async () => {
    expect((await profile(await forged({ sv: 0 }, { iss: 'someone-else' }))).status).toBe(401);
    expect((await profile(await forged({ sv: 0 }, { aud: 'secably-refresh' }))).status).toBe(401);
  });

  it('an expired token → 401, judged by the service clock', async () => {
    const { access } = session;
    expect((await profile(access)).status).toBe(200);
    const exp = decodeJwt(access).exp!;
    clock.set(new Date((exp + 1) * 1000));
    try {
      const res = await profile(access);
      expect(res.status).toBe(401);
      expect(res.body.error).toMatch(/expired/i);
    } finally {
      clock.set('2026-11-10T12:00:00.000Z');
    }
  });

  it('garbage and malformed headers → 401 with a JSON error', async () => {
    for (const header of ['Bearer', 'Bearer a.b.c', 'Basic dXNlcjpwYXNz', 'Bearer sk_123', 'token abc']) {
      const res = await rt.call('GET', '/api/v1/profile/', { headers: { authorization: header } });
      expect(res.status, header).toBe(401);
      expect(res.body.error).toEqual(expect.any(String));
    }
  });
});
