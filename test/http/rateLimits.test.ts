import { afterEach, describe, expect, it } from 'vitest';
import { fixedClock } from '../../adapters/systemClock.js';
import { ADMIN_TOKEN, newUser, registerAndLogin, testRuntime, type TestRuntime } from '../support/testRuntime.js';

const START = '2026-11-10T12:00:00.000Z';
let rt: TestRuntime | undefined;
afterEach(async () => {
  await rt?.cleanup();
  rt = undefined;
});

async function start(multiplier = '1') {
  const clock = fixedClock(START);
  rt = await testRuntime({ SECABLY_RATE_LIMIT_MULTIPLIER: multiplier }, { clock });
  return { rt, clock };
}

function expectLimitHeaders(res: { headers: Headers }, limit: number, remaining: number) {
  expect(res.headers.get('x-ratelimit-limit')).toBe(String(limit));
  expect(res.headers.get('x-ratelimit-remaining')).toBe(String(remaining));
  expect(Number(res.headers.get('x-ratelimit-reset'))).toBeGreaterThan(Date.parse(START) / 1000);
}

function expect429(res: { status: number; headers: Headers; body: { code: string } }, code = 'rate_limited') {
  expect(res.status).toBe(429);
  expect(res.body.code).toBe(code);
  expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
  expect(res.headers.get('x-ratelimit-remaining')).toBe('0');
}

describe('rate limit tiers (per hour)', () => {
  it('anonymous: 100 per client address, with headers on every response', async () => {
    const { rt } = await start();
    for (let i = 1; i <= 100; i++) {
      const res = await rt.call('GET', '/api/v1/plans/', { ip: '127.0.0.9' });
      expect(res.status).toBe(200);
      expectLimitHeaders(res, 100, 100 - i);
    }
    expect429(await rt.call('GET', '/api/v1/plans/', { ip: '127.0.0.9' }));
    // Another address has its own budget.
    expect((await rt.call('GET', '/api/v1/plans/', { ip: '127.0.0.10' })).status).toBe(200);
  });

  it('the window resets after an hour', async () => {
    const { rt, clock } = await start();
    for (let i = 0; i < 100; i++) await rt.call('GET', '/api/v1/plans/', { ip: '127.0.0.11' });
    const limited = await rt.call('GET', '/api/v1/plans/', { ip: '127.0.0.11' });
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeLessThanOrEqual(3600);
    clock.advance(3_600_001);
    expect((await rt.call('GET', '/api/v1/plans/', { ip: '127.0.0.11' })).status).toBe(200);
  });

  it('registration: 5 per address', async () => {
    const { rt } = await start();
    for (let i = 0; i < 5; i++) {
      expect((await rt.call('POST', '/api/v1/auth/register/', { body: newUser(), ip: '127.0.0.12' })).status).toBe(201);
    }
    const res = await rt.call('POST', '/api/v1/auth/register/', { body: newUser(), ip: '127.0.0.12' });
    expect429(res);
    expect(res.headers.get('x-ratelimit-limit')).toBe('5');
  });

  it('login attempts: 20 per address, failed ones included', async () => {
    const { rt } = await start();
    // Another account each time: this is the address's limit, not the account's.
    for (let i = 0; i < 20; i++) {
      const res = await rt.call('POST', '/api/v1/auth/login/', {
        body: { email: `x${i}@example.com`, password: 'wrong password' },
        ip: '127.0.0.13',
      });
      expect(res.status).toBe(401);
    }
    const res = await rt.call('POST', '/api/v1/auth/login/', {
      body: { email: 'x20@example.com', password: 'wrong password' },
      ip: '127.0.0.13',
    });
    expect429(res);
    expect(res.headers.get('x-ratelimit-limit')).toBe('20');
  });

  it('authenticated: 1000 per user, and one user cannot spend another’s budget', async () => {
    const { rt } = await start();
    const a = await registerAndLogin(rt, {}).catch(() => undefined);
    const b = await registerAndLogin(rt, {}).catch(() => undefined);
    expect(a && b).toBeTruthy();
    // Enterprise has no monthly quota, so the hourly tier is what binds.
    for (const u of [a!, b!]) {
      const res = await rt.call('POST', `/api/v1/admin/users/${u.userId}/subscription/`, {
        headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
        body: { plan: 'enterprise' },
      });
      expect(res.status).toBe(200);
    }
    let last;
    for (let i = 1; i <= 1000; i++) {
      last = await rt.call('GET', '/api/v1/profile/', { token: a!.access, ip: `127.0.1.${i % 250}` });
      expect(last.status).toBe(200);
    }
    expectLimitHeaders(last!, 1000, 0);
    expect429(await rt.call('GET', '/api/v1/profile/', { token: a!.access }));
    const other = await rt.call('GET', '/api/v1/profile/', { token: b!.access });
    expect(other.status).toBe(200);
    expectLimitHeaders(other, 1000, 999);
  });

  it('SECABLY_RATE_LIMIT_MULTIPLIER multiplies every hourly limit', async () => {
    const { rt } = await start('3');
    const res = await rt.call('GET', '/api/v1/plans/', { ip: '127.0.0.14' });
    expectLimitHeaders(res, 300, 299);
  });
});

describe('the operator API', () => {
  const credits = (userId: string, token: string, ip: string) =>
    rt!.call('POST', `/api/v1/admin/users/${userId}/credits/`, {
      headers: { authorization: `Bearer ${token}` },
      body: { credits: 1, reason: 'test' },
      ip,
    });

  it('150 wrong operator tokens from one address: 10 × 401, then 429 (the right token too) until the hour ends', async () => {
    const { rt, clock } = await start();
    const { userId } = await registerAndLogin(rt);
    const statuses: number[] = [];
    for (let i = 0; i < 150; i++) {
      const res = await credits(userId, `guess-${i}-0123456789abcdef`, '127.0.2.1');
      statuses.push(res.status);
      if (i < 10) expectLimitHeaders(res, 10, 9 - i);
      else if (i === 10) expect429(res);
    }
    expect(statuses.slice(0, 10)).toEqual(Array(10).fill(401));
    expect(statuses.slice(10)).toEqual(Array(140).fill(429));
    // Guessing has stopped for this address: even the right token is refused.
    expect429(await credits(userId, ADMIN_TOKEN, '127.0.2.1'));
    // Another address is not affected, and sees its own budget.
    const other = await credits(userId, ADMIN_TOKEN, '127.0.2.2');
    expect(other.status).toBe(200);
    expectLimitHeaders(other, 10, 10);
    clock.advance(3_600_001);
    expect((await credits(userId, ADMIN_TOKEN, '127.0.2.1')).status).toBe(200);
  });

  it('successful operator calls are never counted', async () => {
    const { rt } = await start();
    const { userId } = await registerAndLogin(rt);
    const results = await Promise.all(Array.from({ length: 30 }, () => credits(userId, ADMIN_TOKEN, '127.0.2.3')));
    expect(results.map((r) => r.status)).toEqual(Array(30).fill(200));
  });
});

describe('login throttling per account', () => {
  const login = (email: string, password: string, ip: string) =>
    rt!.call('POST', '/api/v1/auth/login/', { body: { email, password }, ip });

  it('100 wrong passwords from 5 addresses: 5 are checked, the rest wait; then even the right one waits', async () => {
    const { rt } = await start('100'); // the per-address limit is not what stops this
    const { user } = await registerAndLogin(rt);
    const statuses: number[] = [];
    for (let i = 0; i < 100; i++)
      statuses.push((await login(user.email, `guess number ${i}`, `127.0.3.${i % 5}`)).status);
    expect(statuses.filter((s) => s === 401)).toHaveLength(5);
    expect(statuses.filter((s) => s === 429)).toHaveLength(95);
    const right = await login(user.email, user.password, '127.0.3.9');
    expect429(right, 'login_throttled');
    expect(Number(right.headers.get('retry-after'))).toBe(30);
  });

  it('the wait grows (30 s, 1 min, 2 min… at most 15 min) and ends: never a lockout', async () => {
    const { rt, clock } = await start('100');
    const { user } = await registerAndLogin(rt);
    for (let i = 0; i < 5; i++) expect((await login(user.email, 'wrong guess here', '127.0.4.1')).status).toBe(401);
    const waits: number[] = [];
    for (let round = 0; round < 8; round++) {
      const refused = await login(user.email, 'wrong guess here', '127.0.4.2');
      expect429(refused, 'login_throttled');
      const wait = Number(refused.headers.get('retry-after'));
      waits.push(wait);
      clock.advance(wait * 1000);
      expect((await login(user.email, 'wrong guess here', '127.0.4.3')).status).toBe(401);
    }
    expect(waits).toEqual([30, 60, 120, 240, 480, 900, 900, 900]);
    // After the wait, the right password logs in, and the count starts again.
    const refused = await login(user.email, user.password, '127.0.4.4');
    expect429(refused, 'login_throttled');
    clock.advance(Number(refused.headers.get('retry-after')) * 1000);
    expect((await login(user.email, user.password, '127.0.4.4')).status).toBe(200);
    expect((await login(user.email, 'wrong guess here', '127.0.4.4')).status).toBe(401);
  });

  it('the owner’s own address keeps working while someone guesses elsewhere', async () => {
    const { rt } = await start('100');
    const { user } = await registerAndLogin(rt); // logged in once from 127.0.0.1
    for (let i = 0; i < 20; i++) await login(user.email, `guess number ${i}`, `127.0.5.${i % 4}`);
    expect429(await login(user.email, user.password, '127.0.5.9'), 'login_throttled');
    expect((await login(user.email, user.password, '127.0.0.1')).status).toBe(200);
  });

  it('an unknown address is throttled the same way (no enumeration by the throttle)', async () => {
    await start('100');
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++)
      statuses.push((await login('nobody-here@example.com', 'some guess 123', `127.0.6.${i}`)).status);
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429, 429, 429]);
  });
});

describe('monthly API quota of the plan', () => {
  it('free: 100 authenticated requests a month, then 429 until the next month', async () => {
    const { rt, clock } = await start('100');
    const { access, user } = await registerAndLogin(rt);
    for (let i = 1; i <= 100; i++) {
      const res = await rt.call('GET', '/api/v1/profile/', { token: access });
      expect(res.status).toBe(200);
      expect(res.headers.get('x-ratelimit-remaining')).toBe(String(100 - i));
    }
    const res = await rt.call('GET', '/api/v1/profile/', { token: access });
    expect429(res, 'monthly_quota_exceeded');
    expect(Number(res.headers.get('x-ratelimit-reset'))).toBe(Date.parse('2026-12-01T00:00:00Z') / 1000);
    // Public endpoints still answer anonymous callers.
    expect((await rt.call('GET', '/api/v1/plans/')).status).toBe(200);
    clock.set('2026-12-01T00:00:01.000Z');
    const again = await rt.call('POST', '/api/v1/auth/login/', {
      body: { email: user.email, password: user.password },
    });
    const renewed = await rt.call('GET', '/api/v1/profile/', { token: again.body.access });
    expect(renewed.status).toBe(200);
    expect(renewed.headers.get('x-ratelimit-remaining')).toBe('99');
  });
});
