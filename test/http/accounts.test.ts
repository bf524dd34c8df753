import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, newUser, registerAndLogin, testRuntime, type TestRuntime } from '../support/testRuntime.js';

let rt: TestRuntime;
beforeAll(async () => {
  rt = await testRuntime();
});
afterAll(async () => {
  await rt?.cleanup();
});

describe('the reference flow: register → login → profile → stats', () => {
  it('works as the Python example does', async () => {
    const user = newUser({ email: 'Grace.Hopper@Example.com', first_name: 'Grace', last_name: 'Hopper' });
    const reg = await rt.call('POST', '/api/v1/auth/register/', { body: user });
    expect(reg.status).toBe(201);
    expect(reg.body.user).toMatchObject({
      email: 'grace.hopper@example.com',
      first_name: 'Grace',
      last_name: 'Hopper',
      subscription_type: 'free',
    });
    expect(reg.body.user).not.toHaveProperty('password');
    expect(JSON.stringify(reg.body)).not.toContain(user.password);

    const login = await rt.call('POST', '/api/v1/auth/login/', {
      body: { email: 'grace.hopper@example.com', password: user.password },
    });
    expect(login.status).toBe(200);
    expect(login.body).toMatchObject({
      access: expect.any(String),
      refresh: expect.any(String),
      user: { user_email: 'grace.hopper@example.com', subscription_type: 'free', sites_limit: 5, scans_per_month: 0 },
    });

    const profile = await rt.call('GET', '/api/v1/profile/', { token: login.body.access });
    expect(profile.status).toBe(200);
    expect(profile.body).toEqual({
      user_email: 'grace.hopper@example.com',
      user_first_name: 'Grace',
      user_last_name: 'Hopper',
      subscription_type: 'free',
      sites_limit: 5,
      scans_per_month: 0,
      monthly_usage: 0,
      can_add_site: true,
      sites_count: 0,
    });

    const stats = await rt.call('GET', '/api/v1/stats/', { token: login.body.access });
    expect(stats.status).toBe(200);
    expect(stats.body).toEqual({
      user: { id: reg.body.user.id, email: 'grace.hopper@example.com', date_joined: expect.any(String) },
      subscription: { type: 'free', status: 'active' },
      usage: { targets_count: 0, targets_limit: 5, monthly_scans_used: 0, monthly_scans_limit: 0 },
      recent_activity: { latest_scans: [], active_targets: 0 },
    });
  });

  it('login is case-insensitive on the email and refuses a wrong password without telling which part was wrong', async () => {
    const { user } = await registerAndLogin(rt);
    const ok = await rt.call('POST', '/api/v1/auth/login/', {
      body: { email: user.email.toUpperCase(), password: user.password },
    });
    expect(ok.status).toBe(200);
    const wrong = await rt.call('POST', '/api/v1/auth/login/', {
      body: { email: user.email, password: 'not the password' },
    });
    const unknown = await rt.call('POST', '/api/v1/auth/login/', {
      body: { email: 'nobody@example.com', password: 'whatever12345' },
    });
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(wrong.body.error).toBe(unknown.body.error);
  });
});

describe('registration', () => {
  it('refuses a taken address, whatever its case', async () => {
    const user = newUser();
    expect((await rt.call('POST', '/api/v1/auth/register/', { body: user })).status).toBe(201);
    const again = await rt.call('POST', '/api/v1/auth/register/', {
      body: { ...user, email: user.email.toUpperCase() },
    });
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ error: expect.any(String), code: 'email_taken' });
  });

  it('20 concurrent registrations of one address: exactly one succeeds', async () => {
    const user = newUser();
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        rt.call('POST', '/api/v1/auth/register/', {
          body: { ...user, email: i % 2 ? user.email.toUpperCase() : user.email, first_name: `N${i}` },
          ip: `127.0.0.${i + 1}`,
        }),
      ),
    );
    const statuses = results.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 201)).toHaveLength(1);
    expect(statuses.filter((s) => s === 409)).toHaveLength(19);
    const winner = results.find((r) => r.status === 201)!;
    const login = await rt.call('POST', '/api/v1/auth/login/', {
      body: { email: user.email, password: user.password },
    });
    expect(login.status).toBe(200);
    const profile = await rt.call('GET', '/api/v1/profile/', { token: login.body.access });
    expect(profile.body.user_first_name).toBe(winner.body.user.first_name);
  });

  it.each([
    ['missing everything', {}, ['email', 'first_name', 'last_name', 'password', 'password_confirm']],
    ['bad email', { email: 'not-an-email' }, ['email']],
    ['short password', { password: 'short1', password_confirm: 'short1' }, ['password']],
    ['common password', { password: 'password123', password_confirm: 'password123' }, ['password']],
    ['confirmation mismatch', { password_confirm: 'something else entirely' }, ['password_confirm']],
    ['blank names', { first_name: '   ', last_name: '' }, ['first_name', 'last_name']],
    ['wrong types', { email: 42, first_name: ['a'], last_name: { x: 1 } }, ['email', 'first_name', 'last_name']],
    ['huge name', { first_name: 'x'.repeat(151) }, ['first_name']],
  ])('%s → 400 with field errors', async (_name, patch, fields) => {
    const base = newUser();
    const body = Object.keys(patch).length === 0 ? {} : { ...base, ...patch };
    const res = await rt.call('POST', '/api/v1/auth/register/', { body });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('validation_error');
    for (const field of fields) expect(res.body.details.fields).toHaveProperty(field);
  });

  it.each(['0123456789', 'qwerty123456', 'iloveyou1234', 'letmein12345', 'password!!!'])(
    'the guessable password %s → 400 with the reason',
    async (weak) => {
      const res = await rt.call('POST', '/api/v1/auth/register/', {
        body: newUser({ password: weak, password_confirm: weak }),
      });
      expect(res.status).toBe(400);
      const [reason] = res.body.details.fields.password as string[];
      expect(reason).toMatch(/^This password is too easy to guess\. \S/);
    },
  );

  it('accepts the README example password and passphrases', async () => {
    for (const password of ['analytical engine 1843', 'correct horse battery staple']) {
      const res = await rt.call('POST', '/api/v1/auth/register/', {
        body: newUser({ password, password_confirm: password }),
      });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
    }
  });

  it('ignores fields it does not know (never stores them)', async () => {
    const user = newUser();
    const res = await rt.call('POST', '/api/v1/auth/register/', {
      body: { ...user, subscription_type: 'enterprise', is_admin: true },
    });
    expect(res.status).toBe(201);
    expect(res.body.user.subscription_type).toBe('free');
    const profile = await rt.call('GET', '/api/v1/profile/', { token: res.body.access });
    expect(profile.body.subscription_type).toBe('free');
  });
});

describe('login guessing', () => {
  it('from several addresses is throttled per account: 100 wrong passwords, then the right one does not log in', async () => {
    const { user } = await registerAndLogin(rt);
    const statuses: number[] = [];
    for (let i = 0; i < 100; i++) {
      const res = await rt.call('POST', '/api/v1/auth/login/', {
        body: { email: user.email, password: `guess number ${i}` },
        ip: `10.20.0.${i % 5}`,
      });
      statuses.push(res.status);
    }
    expect(statuses.filter((s) => s === 401).length).toBeLessThanOrEqual(6);
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(94);
    const right = await rt.call('POST', '/api/v1/auth/login/', {
      body: { email: user.email, password: user.password },
      ip: '10.20.0.9',
    });
    expect(right.status).toBe(429);
    expect(right.body.code).toBe('login_throttled');
    expect(Number(right.headers.get('retry-after'))).toBeGreaterThan(0);
  });
});

describe('refresh tokens', () => {
  it('rotate, and a reused one revokes the whole family', async () => {
    const { refresh: r1 } = await registerAndLogin(rt);
    const second = await rt.call('POST', '/api/v1/auth/refresh/', { body: { refresh: r1 } });
    expect(second.status).toBe(200);
    const r2 = second.body.refresh as string;
    expect(r2).not.toBe(r1);
    expect((await rt.call('GET', '/api/v1/profile/', { token: second.body.access })).status).toBe(200);

    const third = await rt.call('POST', '/api/v1/auth/refresh/', { body: { refresh: r2 } });
    expect(third.status).toBe(200);
    const r3 = third.body.refresh as string;

    // r1 comes back: theft. The family dies, r3 with it, and every access token of the family.
    expect((await rt.call('GET', '/api/v1/profile/', { token: third.body.access })).status).toBe(200);
    const reuse = await rt.call('POST', '/api/v1/auth/refresh/', { body: { refresh: r1 } });
    expect(reuse.status).toBe(401);
    expect((await rt.call('POST', '/api/v1/auth/refresh/', { body: { refresh: r3 } })).status).toBe(401);
    for (const access of [second.body.access, third.body.access]) {
      const res = await rt.call('GET', '/api/v1/profile/', { token: access });
      expect(res.status).toBe(401);
      expect(res.body.error).toMatch(/revoked/);
    }
  });

  it('other logins (families) are not affected by one family’s revocation', async () => {
    const { user, refresh: a1 } = await registerAndLogin(rt);
    const other = await rt.call('POST', '/api/v1/auth/login/', {
      body: { email: user.email, password: user.password },
    });
    const a2 = (await rt.call('POST', '/api/v1/auth/refresh/', { body: { refresh: a1 } })).body.refresh;
    expect((await rt.call('POST', '/api/v1/auth/refresh/', { body: { refresh: a1 } })).status).toBe(401);
    expect((await rt.call('POST', '/api/v1/auth/refresh/', { body: { refresh: a2 } })).status).toBe(401);
    // The other login's access token still works, and so does its refresh token.
    expect((await rt.call('GET', '/api/v1/profile/', { token: other.body.access })).status).toBe(200);
    expect((await rt.call('POST', '/api/v1/auth/refresh/', { body: { refresh: other.body.refresh } })).status).toBe(
      200,
    );
  });

  it('an access token is not a refresh token and vice versa', async () => {
    const { access, refresh } = await registerAndLogin(rt);
    expect((await rt.call('POST', '/api/v1/auth/refresh/', { body: { refresh: access } })).status).toBe(401);
    expect((await rt.call('GET', '/api/v1/profile/', { token: refresh })).status).toBe(401);
  });
});

describe('password change', () => {
  it('revokes every refresh token and access token, and hands out a new session', async () => {
    const { user, access, refresh } = await registerAndLogin(rt);
    const other = await rt.call('POST', '/api/v1/auth/login/', {
      body: { email: user.email, password: user.password },
    });
    const res = await rt.call('POST', '/api/v1/auth/change-password/', {
      token: access,
      body: {
        old_password: user.password,
        new_password: 'a brand new passphrase',
        new_password_confirm: 'a brand new passphrase',
      },
    });
    expect(res.status).toBe(200);
    expect((await rt.call('GET', '/api/v1/profile/', { token: access })).status).toBe(401);
    expect((await rt.call('GET', '/api/v1/profile/', { token: other.body.access })).status).toBe(401);
    expect((await rt.call('POST', '/api/v1/auth/refresh/', { body: { refresh } })).status).toBe(401);
    expect((await rt.call('POST', '/api/v1/auth/refresh/', { body: { refresh: other.body.refresh } })).status).toBe(
      401,
    );
    expect((await rt.call('GET', '/api/v1/profile/', { token: res.body.access })).status).toBe(200);
    expect(
      (await rt.call('POST', '/api/v1/auth/login/', { body: { email: user.email, password: user.password } })).status,
    ).toBe(401);
    expect(
      (
        await rt.call('POST', '/api/v1/auth/login/', {
          body: { email: user.email, password: 'a brand new passphrase' },
        })
      ).status,
    ).toBe(200);
  });

  it('needs the current password and a valid new one', async () => {
    const { user, access } = await registerAndLogin(rt);
    const wrong = await rt.call('POST', '/api/v1/auth/change-password/', {
      token: access,
      body: {
        old_password: 'not it at all',
        new_password: 'a brand new passphrase',
        new_password_confirm: 'a brand new passphrase',
      },
    });
    expect(wrong.status).toBe(400);
    expect(wrong.body.details.fields).toHaveProperty('old_password');
    const short = await rt.call('POST', '/api/v1/auth/change-password/', {
      token: access,
      body: { old_password: user.password, new_password: 'short', new_password_confirm: 'short' },
    });
    expect(short.status).toBe(400);
    expect(short.body.details.fields).toHaveProperty('new_password');
    const weak = await rt.call('POST', '/api/v1/auth/change-password/', {
      token: access,
      body: { old_password: user.password, new_password: 'qwerty123456', new_password_confirm: 'qwerty123456' },
    });
    expect(weak.status).toBe(400);
    expect(weak.body.details.fields.new_password[0]).toMatch(/too easy to guess/);
    const anonymous = await rt.call('POST', '/api/v1/auth/change-password/', { body: { old_password: 'x' } });
    expect(anonymous.status).toBe(401);
  });
});

describe('password change and API keys', () => {
  it('revokes every API key, and says so', async () => {
    const { user, access } = await registerAndLogin(rt);
    const ids: string[] = [];
    const keys: string[] = [];
    for (const name of ['ci', 'laptop']) {
      const created = await rt.call('POST', '/api/v1/api-keys/', { token: access, body: { name } });
      ids.push(created.body.id);
      keys.push(created.body.key);
    }
    await rt.call('DELETE', `/api/v1/api-keys/${ids[1]}/`, { token: access }); // already revoked: not counted
    const res = await rt.call('POST', '/api/v1/auth/change-password/', {
      token: access,
      body: {
        old_password: user.password,
        new_password: 'a brand new passphrase',
        new_password_confirm: 'a brand new passphrase',
      },
    });
    expect(res.status).toBe(200);
    expect(res.body.revoked_api_keys).toEqual([ids[0]]);
    expect(res.body.message).toMatch(/API key was revoked/);
    for (const key of keys) expect((await rt.call('GET', '/api/v1/profile/', { token: key })).status).toBe(401);
    const list = await rt.call('GET', '/api/v1/api-keys/', { token: res.body.access });
    expect(list.body.results.every((k: { active: boolean }) => !k.active)).toBe(true);
  });

  it('an API key can neither change the password nor create API keys (a password session can)', async () => {
    const { user, access } = await registerAndLogin(rt);
    const key = (await rt.call('POST', '/api/v1/api-keys/', { token: access, body: { name: 'ci' } })).body.key;
    const change = await rt.call('POST', '/api/v1/auth/change-password/', {
      token: key,
      body: {
        old_password: user.password,
        new_password: 'a brand new passphrase',
        new_password_confirm: 'a brand new passphrase',
      },
    });
    expect(change.status).toBe(403);
    expect(change.body.code).toBe('session_required');
    const mint = await rt.call('POST', '/api/v1/api-keys/', { token: key, body: { name: 'another' } });
    expect(mint.status).toBe(403);
    expect(mint.body.code).toBe('session_required');
    // Everything else works with the key, and the password did not change.
    expect((await rt.call('GET', '/api/v1/api-keys/', { token: key })).body.count).toBe(1);
    expect(
      (await rt.call('POST', '/api/v1/auth/login/', { body: { email: user.email, password: user.password } })).status,
    ).toBe(200);
  });
});

describe('profile', () => {
  it('updates only the own first and last name (no mass assignment)', async () => {
    const { access } = await registerAndLogin(rt);
    const ok = await rt.call('PATCH', '/api/v1/profile/', { token: access, body: { first_name: 'Augusta' } });
    expect(ok.status).toBe(200);
    expect(ok.body.user_first_name).toBe('Augusta');
    for (const body of [
      { subscription_type: 'enterprise' },
      { user_email: 'x@example.com' },
      { sites_limit: 1000 },
      {},
    ]) {
      const res = await rt.call('PATCH', '/api/v1/profile/', { token: access, body });
      expect(res.status).toBe(400);
    }
    const after = await rt.call('GET', '/api/v1/profile/', { token: access });
    expect(after.body).toMatchObject({ subscription_type: 'free', sites_limit: 5, user_first_name: 'Augusta' });
  });

  it('needs credentials', async () => {
    const res = await rt.call('GET', '/api/v1/profile/');
    expect(res.status).toBe(401);
    expect(res.body).toMatchObject({ error: expect.any(String) });
  });
});

describe('API keys', () => {
  it('are shown once, usable as Bearer, listed without the secret, and revocable', async () => {
    const { access } = await registerAndLogin(rt);
    const created = await rt.call('POST', '/api/v1/api-keys/', { token: access, body: { name: 'CI' } });
    expect(created.status).toBe(201);
    const key = created.body.key as string;
    expect(key).toMatch(/^sk_[0-9a-f]{32}_/);

    expect((await rt.call('GET', '/api/v1/profile/', { token: key })).status).toBe(200);
    const list = await rt.call('GET', '/api/v1/api-keys/', { token: access });
    expect(list.body.results).toHaveLength(1);
    expect(JSON.stringify(list.body)).not.toContain(key);
    expect(list.body.results[0]).toMatchObject({ id: created.body.id, name: 'CI', active: true });

    const tampered = key.slice(0, -1) + (key.endsWith('A') ? 'B' : 'A');
    expect((await rt.call('GET', '/api/v1/profile/', { token: tampered })).status).toBe(401);

    const revoked = await rt.call('DELETE', `/api/v1/api-keys/${created.body.id}/`, { token: access });
    expect(revoked.status).toBe(200);
    expect((await rt.call('GET', '/api/v1/profile/', { token: key })).status).toBe(401);
    expect((await rt.call('DELETE', `/api/v1/api-keys/${created.body.id}/`, { token: access })).status).toBe(404);
  });

  it('another user’s key is not found', async () => {
    const a = await registerAndLogin(rt);
    const b = await registerAndLogin(rt);
    const created = await rt.call('POST', '/api/v1/api-keys/', { token: a.access, body: { name: 'mine' } });
    expect((await rt.call('DELETE', `/api/v1/api-keys/${created.body.id}/`, { token: b.access })).status).toBe(404);
    expect((await rt.call('DELETE', '/api/v1/api-keys/not-a-uuid/', { token: b.access })).status).toBe(404);
    expect((await rt.call('GET', '/api/v1/api-keys/', { token: b.access })).body.results).toEqual([]);
  });

  it('bad names → 400', async () => {
    const { access } = await registerAndLogin(rt);
    for (const body of [{}, { name: '' }, { name: 'x'.repeat(101) }, { name: 5 }, { name: 'ok', extra: 1 }]) {
      expect((await rt.call('POST', '/api/v1/api-keys/', { token: access, body })).status).toBe(400);
    }
  });
});

describe('plans, subscription and credits', () => {
  it('GET /plans/ is public and lists the plan table and scan costs', async () => {
    const res = await rt.call('GET', '/api/v1/plans/');
    expect(res.status).toBe(200);
    expect(res.body.plans).toHaveLength(5);
    expect(res.body.plans[1]).toEqual({
      id: 'indie',
      name: 'Indie Maker',
      price_usd_per_month: 9,
      api_requests_per_month: 2000,
      scan_credits_per_month: 10,
      targets_limit: 20,
    });
    expect(res.body.plans[4]).toMatchObject({ id: 'enterprise', api_requests_per_month: null, targets_limit: null });
    expect(res.body.scan_costs).toContainEqual(
      expect.objectContaining({ scanner_type: 'openvas', scan_profile: 'deep', credits: 20 }),
    );
  });

  it('the operator changes the plan and adds purchased credits; the user sees them', async () => {
    const { userId, access } = await registerAndLogin(rt);
    const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
    const plan = await rt.call('POST', `/api/v1/admin/users/${userId}/subscription/`, {
      headers: admin,
      body: { plan: 'startup' },
    });
    expect(plan.status).toBe(200);
    const credits = await rt.call('POST', `/api/v1/admin/users/${userId}/credits/`, {
      headers: admin,
      body: { credits: 25, reason: 'invoice 2026-0042' },
    });
    expect(credits.status).toBe(200);
    expect(credits.body.credits).toEqual({ available: 75, monthly_remaining: 50, purchased: 25 });

    const profile = await rt.call('GET', '/api/v1/profile/', { token: access });
    expect(profile.body).toMatchObject({ subscription_type: 'startup', sites_limit: 100, scans_per_month: 50 });

    const sub = await rt.call('GET', '/api/v1/subscription/', { token: access });
    expect(sub.status).toBe(200);
    expect(sub.body).toMatchObject({
      subscription_type: 'startup',
      limits: { api_requests_per_month: 10000, scan_credits_per_month: 50, targets: 100 },
      credits: { monthly_allowance: 50, monthly_remaining: 50, purchased: 25, available: 75, reserved: 0 },
    });
    expect(sub.body.usage.api_requests_this_month).toBeGreaterThan(0);

    const ledger = await rt.call('GET', '/api/v1/account/credits/', { token: access });
    expect(ledger.status).toBe(200);
    expect(ledger.body.balance).toMatchObject({ available: 75, purchased: 25, monthly_remaining: 50 });
    expect(ledger.body.history.results.map((e: { type: string }) => e.type)).toEqual([
      'CreditsPurchased',
      'MonthlyCreditsGranted',
      'PlanChanged',
      'MonthlyCreditsGranted',
      'AccountOpened',
    ]);
    expect(ledger.body.history.results[0]).toMatchObject({ credits: 25, reason: 'invoice 2026-0042' });
  });

  it('the credit ledger pages (limit/offset or page/page_size), newest first, from its read model', async () => {
    const { access, userId } = await registerAndLogin(rt);
    const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
    for (let i = 1; i <= 12; i++) {
      const res = await rt.call('POST', `/api/v1/admin/users/${userId}/credits/`, {
        headers: admin,
        body: { credits: i, reason: `invoice ${i}` },
      });
      expect(res.status).toBe(200);
    }
    // 12 purchases + the grant and the opening: 14 lines.
    const first = await rt.call('GET', '/api/v1/account/credits/?limit=5', { token: access });
    expect(first.body.balance).toMatchObject({ purchased: 78, available: 78, reserved: 0 });
    expect(first.body.history).toMatchObject({ count: 14, limit: 5, offset: 0, page: 1, page_size: 5, previous: null });
    expect(first.body.history.results.map((e: { reason: string }) => e.reason)).toEqual(
      [12, 11, 10, 9, 8].map((i) => `invoice ${i}`),
    );
    const lines: { id: number }[] = [...first.body.history.results];
    let next: string | null = first.body.history.next;
    while (next) {
      const page = await rt.call('GET', next, { token: access });
      lines.push(...page.body.history.results);
      next = page.body.history.next;
    }
    expect(lines).toHaveLength(14);
    expect(lines.map((e) => e.id)).toEqual([...lines.map((e) => e.id)].sort((a, b) => b - a));
    expect(lines.at(-1)).toMatchObject({ type: 'AccountOpened', credits: 0, plan: 'free' });
    const byPage = await rt.call('GET', '/api/v1/account/credits/?page=3&page_size=5', { token: access });
    expect(byPage.body.history).toMatchObject({ offset: 10, page: 3, next: null });
    expect(byPage.body.history.results).toEqual(lines.slice(10));
    for (const query of ['?page=0', '?limit=501', '?page=1&limit=5', '?offset=-1', '?what=1']) {
      expect((await rt.call('GET', `/api/v1/account/credits/${query}`, { token: access })).status, query).toBe(400);
    }
  });

  it('the operator API refuses bad tokens and bad input, and unknown users are 404', async () => {
    const { userId } = await registerAndLogin(rt);
    const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
    expect(
      (await rt.call('POST', `/api/v1/admin/users/${userId}/subscription/`, { body: { plan: 'startup' } })).status,
    ).toBe(401);
    expect(
      (
        await rt.call('POST', `/api/v1/admin/users/${userId}/subscription/`, {
          headers: { authorization: 'Bearer nope' },
          body: { plan: 'startup' },
        })
      ).status,
    ).toBe(401);
    for (const body of [{}, { plan: 'platinum' }, { plan: 'startup', extra: 1 }]) {
      expect(
        (await rt.call('POST', `/api/v1/admin/users/${userId}/subscription/`, { headers: admin, body })).status,
      ).toBe(400);
    }
    for (const body of [
      {},
      { credits: 0, reason: 'x' },
      { credits: -5, reason: 'x' },
      { credits: 1.5, reason: 'x' },
      { credits: '5', reason: 'x' },
      { credits: 5 },
    ]) {
      expect((await rt.call('POST', `/api/v1/admin/users/${userId}/credits/`, { headers: admin, body })).status).toBe(
        400,
      );
    }
    const unknown = '00000000-0000-4000-8000-000000000000';
    expect(
      (
        await rt.call('POST', `/api/v1/admin/users/${unknown}/credits/`, {
          headers: admin,
          body: { credits: 5, reason: 'x' },
        })
      ).status,
    ).toBe(404);
  });
});

describe('bad input never yields a 500', () => {
  const deep = `{"email":${'['.repeat(4_000)}${']'.repeat(4_000)}}`;
  const bodies: unknown[] = [
    '{not json',
    '[]',
    '"string"',
    'null',
    '123',
    { email: { $gt: '' } },
    { password: null },
    deep,
  ];
  const endpoints: [string, string][] = [
    ['POST', '/api/v1/auth/register/'],
    ['POST', '/api/v1/auth/login/'],
    ['POST', '/api/v1/auth/refresh/'],
    ['POST', '/api/v1/auth/change-password/'],
    ['PATCH', '/api/v1/profile/'],
    ['POST', '/api/v1/api-keys/'],
  ];
  it.each(endpoints)('%s %s', async (method, path) => {
    const { access } = await registerAndLogin(rt);
    for (const body of bodies) {
      const res = await rt.call(method, path, {
        token: path.includes('/auth/') && !path.includes('change') ? undefined : access,
        body,
      });
      expect(res.status, `${method} ${path} ${JSON.stringify(body)}`).toBe(400);
      expect(res.body).toHaveProperty('error');
    }
    const wrongType = await rt.call(method, path, {
      token: access,
      body: 'a=b',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(wrongType.status).toBe(415);
  });

  it('unknown paths are a JSON 404', async () => {
    const res = await rt.call('GET', '/api/v1/nope/');
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ error: 'Not found.', code: 'not_found' });
  });
});
