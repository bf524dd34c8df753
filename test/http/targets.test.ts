import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { staticResolver } from '../../adapters/dnsResolver.js';
import { loadAccount } from '../../commands/accountStreams.js';
import { ADMIN_TOKEN, registerAndLogin, testRuntime, type TestRuntime } from '../support/testRuntime.js';

/**
 * Targets over HTTP. Nothing here scans anything: public addresses are only
 * parsed and stored. Hostnames resolve through a fixed table (no real DNS); a
 * name missing from it does not resolve.
 */
const resolver = staticResolver({
  'example.com': ['93.184.216.34'],
  'www.example.com': ['93.184.216.34', '2606:2800:220:1:248:1893:25c8:1946'],
  'internal.example.com': ['127.0.0.1'],
  'internal6.example.com': ['::1'],
  'mixed.example.com': ['93.184.216.34', '10.0.0.5'],
  'metadata.example.com': ['169.254.169.254'],
  localhost: ['127.0.0.1', '::1'],
});

const TARGETS = '/api/v1/targets/';
const WEBSITES = '/api/v1/websites/';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

let rt: TestRuntime;
let allowed: TestRuntime;
beforeAll(async () => {
  [rt, allowed] = await Promise.all([
    testRuntime({}, { resolver }),
    testRuntime({ SECABLY_ALLOWED_TARGETS: '127.0.0.0/8' }, { resolver }),
  ]);
});
afterAll(async () => {
  await Promise.all([rt?.cleanup(), allowed?.cleanup()]);
});

/** A logged-in user, on another plan when asked (enterprise: no target limit, no monthly request quota). */
async function user(runtime: TestRuntime, plan?: 'indie' | 'startup' | 'enterprise') {
  const u = await registerAndLogin(runtime);
  if (plan) {
    const changed = await runtime.call('POST', `/api/v1/admin/users/${u.userId}/subscription/`, {
      token: ADMIN_TOKEN,
      body: { plan },
    });
    expect(changed.status).toBe(200);
  }
  return u;
}

const add = (runtime: TestRuntime, token: string, body: Record<string, unknown>) =>
  runtime.call('POST', TARGETS, { token, body: { name: 'Target', ...body } });

async function slotsHeld(runtime: TestRuntime, userId: string): Promise<number> {
  const { state } = await loadAccount(runtime.deps, userId);
  return state.status === 'open' ? state.targetIds.length : -1;
}

describe('targets: create, read, update, delete', () => {
  it('follows the reference’s shape from POST to DELETE', async () => {
    const { access } = await user(rt);
    const created = await add(rt, access, { name: 'Shop', target_value: 'https://Example.com/shop?q=1#top' });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({
      id: expect.stringMatching(UUID),
      url: 'https://example.com/shop?q=1',
      name: 'Shop',
      scan_frequency: 'manual',
      active: true,
      created_at: expect.any(String),
      latest_scan: null,
      risk_level: null,
      can_scan: true,
      target_value: 'https://example.com/shop?q=1',
      target_type: 'url',
      description: '',
      updated_at: created.body.created_at,
    });
    const id = created.body.id as string;

    const got = await rt.call('GET', `${TARGETS}${id}/`, { token: access });
    expect(got.status).toBe(200);
    expect(got.body).toEqual(created.body);
    // The app is not strict about trailing slashes.
    expect((await rt.call('GET', `/api/v1/targets/${id}`, { token: access })).body).toEqual(created.body);

    const list = await rt.call('GET', '/api/v1/targets', { token: access });
    expect(list.status).toBe(200);
    expect(list.body).toEqual({
      count: 1,
      page: 1,
      page_size: 20,
      next: null,
      previous: null,
      results: [created.body],
    });

    const patched = await rt.call('PATCH', `${TARGETS}${id}/`, {
      token: access,
      body: { name: '  Shop (prod)  ', description: 'Main storefront\nbehind the CDN', active: false },
    });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({
      id,
      name: 'Shop (prod)',
      description: 'Main storefront\nbehind the CDN',
      active: false,
      can_scan: false,
      target_value: 'https://example.com/shop?q=1',
    });
    expect((await rt.call('GET', `${TARGETS}${id}/`, { token: access })).body).toEqual(patched.body);

    const deleted = await rt.call('DELETE', `${TARGETS}${id}/`, { token: access });
    expect(deleted.status).toBe(200);
    expect(deleted.body).toEqual({ id, deleted: true, cancelled_scans: [] });
    expect((await rt.call('GET', `${TARGETS}${id}/`, { token: access })).status).toBe(404);
    expect((await rt.call('PATCH', `${TARGETS}${id}/`, { token: access, body: { name: 'x' } })).status).toBe(404);
    expect((await rt.call('DELETE', `${TARGETS}${id}/`, { token: access })).status).toBe(404);
    expect((await rt.call('GET', TARGETS, { token: access })).body.count).toBe(0);
  });

  it('keeps the description given at creation', async () => {
    const { access } = await user(rt);
    const res = await add(rt, access, { target_value: '8.8.8.8', description: 'resolver' });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ description: 'resolver', url: '8.8.8.8', target_type: 'ip' });
  });

  it('needs credentials on every endpoint', async () => {
    const id = '00000000-0000-4000-8000-000000000000';
    for (const [method, path] of [
      ['GET', TARGETS],
      ['POST', TARGETS],
      ['GET', `${TARGETS}${id}/`],
      ['PATCH', `${TARGETS}${id}/`],
      ['DELETE', `${TARGETS}${id}/`],
      ['GET', WEBSITES],
      ['POST', WEBSITES],
    ] as const) {
      const res = await rt.call(method, path, method === 'POST' || method === 'PATCH' ? { body: { name: 'x' } } : {});
      expect(res.status, `${method} ${path}`).toBe(401);
    }
  });

  it('a PATCH cannot change the value or the type, nor anything but name, description and active', async () => {
    const { access } = await user(rt);
    const { id } = (await add(rt, access, { target_value: 'example.com' })).body;
    for (const body of [{ target_value: '8.8.8.8' }, { target_type: 'ip' }, { url: 'https://example.com/' }]) {
      const res = await rt.call('PATCH', `${TARGETS}${id}/`, { token: access, body });
      expect(res.status).toBe(400);
      expect(res.body.error).toMatch(/cannot change.*create a new target/i);
    }
    for (const body of [
      {},
      { name: '' },
      { name: 'x'.repeat(201) },
      { active: 'false' },
      { description: 'x'.repeat(2001) },
      { user_id: 'someone-else' },
      { latest_scan: null },
    ]) {
      const res = await rt.call('PATCH', `${TARGETS}${id}/`, { token: access, body });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.code).toBe('validation_error');
    }
    expect((await rt.call('GET', `${TARGETS}${id}/`, { token: access })).body).toMatchObject({
      name: 'Target',
      target_value: 'example.com',
      target_type: 'hostname',
      active: true,
    });
  });

  it('a PATCH that changes nothing answers the target unchanged', async () => {
    const { access } = await user(rt);
    const created = (await add(rt, access, { target_value: 'example.com', name: 'Same' })).body;
    const res = await rt.call('PATCH', `${TARGETS}${created.id}/`, { token: access, body: { name: 'Same' } });
    expect(res.status).toBe(200);
    expect(res.body).toEqual(created);
  });
});

describe('target values: type inference and strict validation', () => {
  let token: string;
  beforeAll(async () => {
    token = (await user(rt, 'enterprise')).access;
  });

  it.each([
    ['8.8.8.8', 'ip', '8.8.8.8'],
    ['2001:4860:4860:0:0:0:0:8888', 'ip', '2001:4860:4860::8888'],
    ['Example.COM.', 'hostname', 'example.com'],
    ['www.example.com', 'hostname', 'www.example.com'],
    ['https://example.com', 'url', 'https://example.com/'],
    ['HTTP://example.com:80/a/../b', 'url', 'http://example.com/b'],
    ['https://8.8.8.8:8443/health', 'url', 'https://8.8.8.8:8443/health'],
    ['http://[2001:4860:4860::8888]/', 'url', 'http://[2001:4860:4860::8888]/'],
    ['8.8.8.0/28', 'range', '8.8.8.0/28'],
    ['8.8.8.9/28', 'range', '8.8.8.0/28'],
    ['  8.8.4.4  ', 'ip', '8.8.4.4'],
  ])('%s is inferred as %s (%s)', async (value, type, normalized) => {
    const res = await add(rt, token, { target_value: value });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body).toMatchObject({ target_type: type, target_value: normalized, url: normalized });
  });

  it('accepts a declared type that fits, and blames target_type when it does not', async () => {
    expect((await add(rt, token, { target_value: 'example.com', target_type: 'hostname' })).status).toBe(201);
    expect((await add(rt, token, { target_value: '8.8.8.8', target_type: 'ip' })).status).toBe(201);
    for (const [value, type] of [
      ['8.8.8.8', 'hostname'],
      ['example.com', 'url'],
      ['8.8.8.0/28', 'ip'],
      ['8.8.8.8', 'range'],
      ['https://example.com/', 'hostname'],
    ]) {
      const res = await add(rt, token, { target_value: value, target_type: type });
      expect(res.status, `${value} as ${type}`).toBe(400);
      expect(res.body.code).toBe('validation_error');
      expect(res.body.details.fields).toHaveProperty('target_type');
    }
  });

  it.each([
    // IPv4 that is not a strict dotted quad
    ['256.1.1.1'],
    ['1.2.3.4.5'],
    ['1.2.3'],
    ['01.2.3.4'],
    // obfuscated spellings of 127.0.0.1 (resolvers and WHATWG URL would accept them)
    ['2130706433'],
    ['0x7f.0.0.1'],
    ['0x7f000001'],
    ['0177.0.0.1'],
    ['127.1'],
    ['http://2130706433/'],
    ['http://0x7f.0.0.1/'],
    ['http://127.1/'],
    // IPv6
    ['2001:db8::g'],
    ['1:2:3:4:5:6:7:8:9'],
    [':::1'],
    ['2001:4860::4860::8888'],
    ['[2001:4860:4860::8888]'],
    ['fe80::1%eth0'],
    ['http://2001:4860:4860::8888/'],
    // RFC 1123
    ['-bad.example.com'],
    ['bad-.example.com'],
    ['under_score.example.com'],
    ['a..example.com'],
    [`${'a'.repeat(64)}.example.com`],
    [`${'abcdefghi.'.repeat(26)}com`],
    ['exa mple.com'],
    ['tab\texample.com'],
    ['singlelabel'],
    ['bücher.example'],
    ['example.com:8080'],
    ['example.com/path'],
    // URLs: http(s) only, no credentials, valid port
    ['ftp://example.com/'],
    ['javascript:alert(1)'],
    ['file:///etc/passwd'],
    ['gopher://example.com:70/'],
    ['http://user:pass@example.com/'],
    ['https://admin@example.com/'],
    ['http://example.com@8.8.8.8/'],
    ['http://example.com:0/'],
    ['http://example.com:65536/'],
    ['http:\\\\example.com\\'],
    ['http://'],
    // ranges
    ['8.8.8.8-8.8.8.20'],
    ['8.8.8.0/33'],
    ['8.8.8.0/'],
    // empty
    [''],
    ['   '],
  ])('%j → 400 with a field error on target_value', async (value) => {
    const res = await add(rt, token, { target_value: value });
    expect(res.status, JSON.stringify(res.body)).toBe(400);
    expect(res.body.code).toBe('validation_error');
    expect(res.body.error).toMatch(/target_value/);
    expect(res.body.details.fields.target_value).toEqual([res.body.error]);
  });

  it.each([
    ['no name', { target_value: '8.8.8.8', name: undefined }, 'name'],
    ['a blank name', { target_value: '8.8.8.8', name: '   ' }, 'name'],
    ['a 201-character name', { target_value: '8.8.8.8', name: 'x'.repeat(201) }, 'name'],
    ['a name with control characters', { target_value: '8.8.8.8', name: 'a\u0000b' }, 'name'],
    ['no target_value', {}, 'target_value'],
    ['a number as target_value', { target_value: 134744072 }, 'target_value'],
    ['a 2049-character target_value', { target_value: `https://example.com/${'a'.repeat(2029)}` }, 'target_value'],
    ['an unknown target_type', { target_value: '8.8.8.8', target_type: 'domain' }, 'target_type'],
    ['a 2001-character description', { target_value: '8.8.8.8', description: 'x'.repeat(2001) }, 'description'],
    ['an unknown field', { target_value: '8.8.8.8', scan_frequency: 'daily' }, '_'],
    ['a mass-assigned owner', { target_value: '8.8.8.8', user_id: '00000000-0000-4000-8000-000000000000' }, '_'],
  ])('a body with %s → 400', async (_label, body, field) => {
    const res = await add(rt, token, body);
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('validation_error');
    expect(res.body.details.fields).toHaveProperty(field);
  });

  it('refuses a non-JSON body', async () => {
    const res = await rt.call('POST', TARGETS, {
      token,
      body: 'target_value=8.8.8.8',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(res.status).toBe(415);
  });
});

describe('range size per plan', () => {
  it('free: up to 16 addresses; indie: up to 256', async () => {
    const { access, userId } = await user(rt);
    expect((await add(rt, access, { target_value: '8.8.8.0/28' })).status).toBe(201);
    const tooLarge = await add(rt, access, { target_value: '8.8.8.0/27' });
    expect(tooLarge.status).toBe(400);
    expect(tooLarge.body.code).toBe('range_too_large');
    expect(tooLarge.body.error).toMatch(/32 addresses.*Free \(Developer\).*16/);
    expect(tooLarge.body.details.fields.target_value[0]).toMatch(/16/);
    const v6 = await add(rt, access, { target_value: '2001:4860:4860::/64' });
    expect(v6.status).toBe(400);
    expect(v6.body.code).toBe('range_too_large');

    await rt.call('POST', `/api/v1/admin/users/${userId}/subscription/`, {
      token: ADMIN_TOKEN,
      body: { plan: 'indie' },
    });
    expect((await add(rt, access, { target_value: '8.8.8.0/24' })).status).toBe(201);
    const stillTooLarge = await add(rt, access, { target_value: '8.8.8.0/23' });
    expect(stillTooLarge.status).toBe(400);
    expect(stillTooLarge.body.error).toMatch(/512 addresses.*Indie Maker.*256/);
  });
});

describe('SSRF policy (no allow-list)', () => {
  let token: string;
  beforeAll(async () => {
    token = (await user(rt, 'enterprise')).access;
  });

  it.each([
    ['10.0.0.1', /10\.0\.0\.1 is not allowed: it is a private address/],
    ['169.254.169.254', /169\.254\.169\.254 is not allowed: it is a link-local address/],
    ['127.0.0.1', /127\.0\.0\.1 is not allowed: it is a loopback address/],
    ['::1', /::1 is not allowed: it is a loopback address/],
    ['::ffff:127.0.0.1', /not allowed/],
    ['0.0.0.0', /not allowed/],
    ['internal.example.com', /127\.0\.0\.1 is not allowed: it is a loopback address/],
    ['internal6.example.com', /::1 is not allowed/],
    ['localhost', /is not allowed: it is a loopback address/],
    ['metadata.example.com', /169\.254\.169\.254 is not allowed/],
    ['mixed.example.com', /10\.0\.0\.5 is not allowed: it is a private address/],
    ['http://127.0.0.1:8080/admin', /127\.0\.0\.1 is not allowed/],
    ['http://[::1]/', /::1 is not allowed/],
    ['https://internal.example.com/', /127\.0\.0\.1 is not allowed/],
    ['http://mixed.example.com/', /10\.0\.0\.5 is not allowed/],
    ['10.0.0.0/8', /10\.0\.0\.0\/8 is not allowed: it includes private addresses/],
    ['10.0.0.0/28', /10\.0\.0\.0\/28 is not allowed: it includes private addresses/],
    ['8.8.8.0/0', /not allowed/],
  ])('%s → 400 target_not_allowed', async (value, message) => {
    const res = await add(rt, token, { target_value: value });
    expect(res.status, JSON.stringify(res.body)).toBe(400);
    expect(res.body.code).toBe('target_not_allowed');
    expect(res.body.error).toMatch(message);
    expect(res.body.details.fields.target_value).toEqual([res.body.error]);
  });

  it('a hostname that does not resolve → 400 target_unresolvable', async () => {
    for (const value of ['nowhere.example.com', 'https://nowhere.example.com/']) {
      const res = await add(rt, token, { target_value: value });
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('target_unresolvable');
      expect(res.body.error).toMatch(/nowhere\.example\.com does not resolve/);
    }
  });

  it('a refused target takes no slot and leaves nothing behind', async () => {
    const { access, userId } = await user(rt);
    for (let i = 0; i < 6; i++) expect((await add(rt, access, { target_value: '10.0.0.1' })).status).toBe(400);
    expect(await slotsHeld(rt, userId)).toBe(0);
    expect((await rt.call('GET', TARGETS, { token: access })).body.count).toBe(0);
    expect((await rt.call('GET', '/api/v1/profile/', { token: access })).body.sites_count).toBe(0);
  });
});

describe('SSRF policy with SECABLY_ALLOWED_TARGETS=127.0.0.0/8', () => {
  let token: string;
  beforeAll(async () => {
    token = (await user(allowed, 'enterprise')).access;
  });

  it.each([
    ['127.0.0.1', 'ip'],
    ['127.0.0.0/28', 'range'],
    ['internal.example.com', 'hostname'],
    ['http://127.0.0.1:8080/', 'url'],
    ['http://internal.example.com:3000/app', 'url'],
  ])('%s is accepted', async (value, type) => {
    const res = await add(allowed, token, { target_value: value });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body.target_type).toBe(type);
  });

  it.each([['10.0.0.1'], ['::1'], ['internal6.example.com'], ['mixed.example.com'], ['10.0.0.0/28'], ['::/127']])(
    '%s is still refused',
    async (value) => {
      const res = await add(allowed, token, { target_value: value });
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('target_not_allowed');
    },
  );

  it('an unresolvable hostname → 400 target_unresolvable', async () => {
    const res = await add(allowed, token, { target_value: 'nowhere.example.com' });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('target_unresolvable');
  });
});

describe('the plan’s target limit', () => {
  it('free: the 6th target is a 403; deleting one frees a slot; the profile follows', async () => {
    const { access, userId } = await user(rt);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await add(rt, access, { target_value: `8.8.8.${i + 1}` });
      expect(res.status).toBe(201);
      ids.push(res.body.id);
    }
    expect((await rt.call('GET', '/api/v1/profile/', { token: access })).body).toMatchObject({
      sites_limit: 5,
      sites_count: 5,
      can_add_site: false,
    });

    const sixth = await add(rt, access, { target_value: '8.8.8.6' });
    expect(sixth.status).toBe(403);
    expect(sixth.body).toMatchObject({
      code: 'target_limit_reached',
      error: expect.stringMatching(/allows 5 targets/),
      details: { limit: 5, count: 5, upgrade_url: '/pricing/' },
    });

    expect((await rt.call('DELETE', `${TARGETS}${ids[0]}/`, { token: access })).status).toBe(200);
    expect((await rt.call('GET', '/api/v1/profile/', { token: access })).body).toMatchObject({
      sites_count: 4,
      can_add_site: true,
    });
    expect((await add(rt, access, { target_value: '8.8.8.6' })).status).toBe(201);
    expect(await slotsHeld(rt, userId)).toBe(5);

    const stats = await rt.call('GET', '/api/v1/stats/', { token: access });
    expect(stats.body.usage).toMatchObject({ targets_count: 5, targets_limit: 5 });
    expect(stats.body.recent_activity.active_targets).toBe(5);
    await rt.call('PATCH', `${TARGETS}${ids[1]}/`, { token: access, body: { active: false } });
    expect((await rt.call('GET', '/api/v1/stats/', { token: access })).body.recent_activity.active_targets).toBe(4);
  });

  it('8 concurrent adds by a free user: exactly 5 succeed, never more', async () => {
    const { access, userId } = await user(rt);
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) => add(rt, access, { target_value: `8.8.4.${i + 1}` })),
    );
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 201)).toHaveLength(5);
    expect(statuses.filter((s) => s === 403)).toHaveLength(3);
    expect((await rt.call('GET', TARGETS, { token: access })).body.count).toBe(5);
    expect((await rt.call('GET', '/api/v1/profile/', { token: access })).body.sites_count).toBe(5);
    expect(await slotsHeld(rt, userId)).toBe(5);
  });

  it('5 concurrent adds with 4 slots left: 4 succeed', async () => {
    const { access, userId } = await user(rt);
    expect((await add(rt, access, { target_value: '8.8.8.8' })).status).toBe(201);
    const results = await Promise.all(
      Array.from({ length: 5 }, (_, i) => add(rt, access, { target_value: `1.1.1.${i + 1}` })),
    );
    expect(results.filter((r) => r.status === 201)).toHaveLength(4);
    expect(results.filter((r) => r.status === 403)).toHaveLength(1);
    expect(await slotsHeld(rt, userId)).toBe(5);
  });

  it('concurrent deletes and adds keep the slots and the targets in step', async () => {
    const { access, userId } = await user(rt);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await add(rt, access, { target_value: `9.9.9.${i + 1}` })).body.id);
    const results = await Promise.all([
      ...ids.slice(0, 3).map((id) => rt.call('DELETE', `${TARGETS}${id}/`, { token: access })),
      ...Array.from({ length: 3 }, (_, i) => add(rt, access, { target_value: `9.9.8.${i + 1}` })),
    ]);
    expect(results.slice(0, 3).map((r) => r.status)).toEqual([200, 200, 200]);
    const count = (await rt.call('GET', TARGETS, { token: access })).body.count as number;
    expect(count).toBeLessThanOrEqual(5);
    expect(await slotsHeld(rt, userId)).toBe(count);
    expect((await rt.call('GET', '/api/v1/profile/', { token: access })).body.sites_count).toBe(count);
  });

  it('a slot left behind by a crashed add is reclaimed once it is old; a fresh one is not', async () => {
    const { access, userId } = await user(rt);
    const takenAt = (msAgo: number) => new Date(Date.now() - msAgo).toISOString();
    const orphan = (msAgo: number) => ({
      id: rt.deps.ids.uuid(),
      type: 'TargetSlotTaken',
      data: { accountId: userId, targetId: rt.deps.ids.uuid(), takenAt: takenAt(msAgo) },
    });
    // Four fresh orphans (an add in flight looks the same) and one an hour old.
    await rt.deps.store.appendToStream(`account-${userId}`, [
      orphan(1000),
      orphan(1000),
      orphan(1000),
      orphan(1000),
      orphan(3_600_000),
    ]);
    expect(await slotsHeld(rt, userId)).toBe(5);
    expect((await add(rt, access, { target_value: '8.8.8.8' })).status).toBe(201);
    expect(await slotsHeld(rt, userId)).toBe(5);
    expect((await add(rt, access, { target_value: '8.8.4.4' })).status).toBe(403);
  });

  it('a delete that died before giving the slot back is completed by deleting again', async () => {
    const { access, userId } = await user(rt);
    const { id } = (await add(rt, access, { target_value: '8.8.8.8' })).body;
    await rt.deps.store.appendToStream(`target-${id}`, [
      {
        id: rt.deps.ids.uuid(),
        type: 'TargetDeleted',
        data: { targetId: id, userId, deletedAt: new Date().toISOString() },
      },
    ]);
    expect(await slotsHeld(rt, userId)).toBe(1);
    expect((await rt.call('DELETE', `${TARGETS}${id}/`, { token: access })).status).toBe(404);
    expect(await slotsHeld(rt, userId)).toBe(0);
  });
});

describe('ownership', () => {
  it('another user’s target is not found (404, never 403) and not listed', async () => {
    const a = await user(rt);
    const b = await user(rt);
    const { id } = (await add(rt, a.access, { target_value: 'example.com' })).body;
    for (const base of [TARGETS, WEBSITES]) {
      expect((await rt.call('GET', `${base}${id}/`, { token: b.access })).status).toBe(404);
      expect((await rt.call('PATCH', `${base}${id}/`, { token: b.access, body: { name: 'mine' } })).status).toBe(404);
      expect((await rt.call('DELETE', `${base}${id}/`, { token: b.access })).status).toBe(404);
      expect((await rt.call('GET', base, { token: b.access })).body).toMatchObject({ count: 0, results: [] });
    }
    const still = await rt.call('GET', `${TARGETS}${id}/`, { token: a.access });
    expect(still.status).toBe(200);
    expect(still.body.name).toBe('Target');
    expect(await slotsHeld(rt, a.userId)).toBe(1);
  });

  it('ids that are not UUIDs, or unknown ones, are 404', async () => {
    const { access } = await user(rt);
    for (const id of ['not-a-uuid', '1', '00000000-0000-4000-8000-000000000000']) {
      expect((await rt.call('GET', `${TARGETS}${id}/`, { token: access })).status).toBe(404);
      expect((await rt.call('PATCH', `${TARGETS}${id}/`, { token: access, body: { name: 'x' } })).status).toBe(404);
      expect((await rt.call('DELETE', `${TARGETS}${id}/`, { token: access })).status).toBe(404);
    }
  });
});

describe('listing: pages, newest first, filters', () => {
  let listUser: Awaited<ReturnType<typeof user>> | undefined;

  it('pages with next/previous links, newest first', async () => {
    const { access } = await user(rt);
    const ids: string[] = [];
    for (const value of ['8.8.8.8', 'example.com', 'https://example.com/', '8.8.4.4', '8.8.8.0/28']) {
      const res = await add(rt, access, { target_value: value, name: value });
      expect(res.status).toBe(201);
      ids.push(res.body.id);
    }
    const newestFirst = [...ids].reverse();
    const page = (query: string) => rt.call('GET', `${TARGETS}?${query}`, { token: access });

    const all = await rt.call('GET', TARGETS, { token: access });
    expect(all.body).toMatchObject({ count: 5, page: 1, page_size: 20, next: null, previous: null });
    expect(all.body.results.map((r: { id: string }) => r.id)).toEqual(newestFirst);

    const p1 = await page('page_size=2');
    expect(p1.body).toMatchObject({
      count: 5,
      page: 1,
      page_size: 2,
      next: '/api/v1/targets/?page=2&page_size=2',
      previous: null,
    });
    expect(p1.body.results.map((r: { id: string }) => r.id)).toEqual(newestFirst.slice(0, 2));

    const p2 = await rt.call('GET', p1.body.next, { token: access });
    expect(p2.body).toMatchObject({
      page: 2,
      next: '/api/v1/targets/?page=3&page_size=2',
      previous: '/api/v1/targets/?page=1&page_size=2',
    });
    expect(p2.body.results.map((r: { id: string }) => r.id)).toEqual(newestFirst.slice(2, 4));

    const p3 = await rt.call('GET', p2.body.next, { token: access });
    expect(p3.body).toMatchObject({ page: 3, next: null, previous: '/api/v1/targets/?page=2&page_size=2' });
    expect(p3.body.results.map((r: { id: string }) => r.id)).toEqual(newestFirst.slice(4));

    const beyond = await page('page=9&page_size=2');
    expect(beyond.status).toBe(200);
    expect(beyond.body).toMatchObject({
      count: 5,
      results: [],
      next: null,
      previous: '/api/v1/targets/?page=3&page_size=2',
    });

    // The older name pages under its own path.
    expect((await rt.call('GET', `${WEBSITES}?page_size=2`, { token: access })).body.next).toBe(
      '/api/v1/websites/?page=2&page_size=2',
    );

    // Filters, kept in the links.
    await rt.call('PATCH', `${TARGETS}${ids[1]}/`, { token: access, body: { active: false } });
    const inactive = await page('active=false');
    expect(inactive.body.count).toBe(1);
    expect(inactive.body.results[0]).toMatchObject({ id: ids[1], active: false, can_scan: false });
    expect((await page('active=true')).body.count).toBe(4);
    const ips = await page('target_type=ip&page_size=1');
    expect(ips.body).toMatchObject({ count: 2, next: '/api/v1/targets/?page=2&page_size=1&target_type=ip' });
    expect(ips.body.results[0].id).toBe(ids[3]);
    const ranges = await page('target_type=range&active=true');
    expect(ranges.body.results.map((r: { id: string }) => r.id)).toEqual([ids[4]]);
  });

  it.each([
    ['page=0'],
    ['page=-1'],
    ['page=abc'],
    ['page=1.5'],
    ['page=1e3'],
    ['page='],
    ['page_size=0'],
    ['page_size=101'],
    ['page_size=%202'],
    ['active=yes'],
    ['target_type=domain'],
    ['limit=5'],
    ['ordering=name'],
  ])('?%s → 400', async (query) => {
    const { access } = (listUser ??= await user(rt));
    const res = await rt.call('GET', `${TARGETS}?${query}`, { token: access });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('validation_error');
  });
});

describe('/websites/: the older name of the same resource', () => {
  it('takes {url, name} as a URL target and serves the same targets', async () => {
    const { access } = await user(rt);
    const created = await rt.call('POST', WEBSITES, {
      token: access,
      body: { url: 'https://example.com/', name: 'My Website' },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      id: expect.stringMatching(UUID),
      url: 'https://example.com/',
      name: 'My Website',
      target_type: 'url',
      target_value: 'https://example.com/',
      scan_frequency: 'manual',
      active: true,
      can_scan: true,
      latest_scan: null,
      risk_level: null,
    });
    const id = created.body.id as string;
    const viaValue = await rt.call('POST', WEBSITES, { token: access, body: { target_value: '8.8.8.8', name: 'DNS' } });
    expect(viaValue.status).toBe(201);
    expect(viaValue.body.target_type).toBe('ip');

    expect((await rt.call('GET', `${WEBSITES}${id}/`, { token: access })).body).toEqual(created.body);
    expect((await rt.call('GET', `${TARGETS}${id}/`, { token: access })).body).toEqual(created.body);
    expect((await rt.call('GET', WEBSITES, { token: access })).body.count).toBe(2);
    expect((await rt.call('GET', TARGETS, { token: access })).body.count).toBe(2);

    const patched = await rt.call('PATCH', `${WEBSITES}${id}/`, { token: access, body: { name: 'Renamed' } });
    expect(patched.status).toBe(200);
    expect(patched.body.name).toBe('Renamed');
    expect((await rt.call('DELETE', `${WEBSITES}${id}/`, { token: access })).body).toEqual({
      id,
      deleted: true,
      cancelled_scans: [],
    });
    expect((await rt.call('GET', `${TARGETS}${id}/`, { token: access })).status).toBe(404);
  });

  it('validates a website body, reporting value errors under url', async () => {
    const { access } = await user(rt);
    const post = (body: Record<string, unknown>) => rt.call('POST', WEBSITES, { token: access, body });

    const noScheme = await post({ url: 'example.com', name: 'x' });
    expect(noScheme.status).toBe(400);
    expect(noScheme.body.details.fields).toHaveProperty('url');
    expect(noScheme.body.details.fields).not.toHaveProperty('target_value');
    expect(noScheme.body.error).toMatch(/^url is not a URL/);

    const loopback = await post({ url: 'http://127.0.0.1/', name: 'x' });
    expect(loopback.status).toBe(400);
    expect(loopback.body.code).toBe('target_not_allowed');
    expect(loopback.body.details.fields).toHaveProperty('url');

    for (const [body, field] of [
      [{ name: 'x' }, 'url'],
      [{ url: 'https://example.com/', target_value: 'https://example.com/', name: 'x' }, 'url'],
      [{ url: 'https://example.com/', target_type: 'hostname', name: 'x' }, 'target_type'],
      [{ url: 'https://example.com/' }, 'name'],
      [{ url: 'https://example.com/', name: 'x', website_id: 'y' }, '_'],
    ] as const) {
      const res = await post(body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.details.fields).toHaveProperty(field);
    }
    expect((await rt.call('GET', WEBSITES, { token: access })).body.count).toBe(0);
  });
});
