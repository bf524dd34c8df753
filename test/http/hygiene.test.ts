import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerAndLogin, testRuntime, type TestRuntime } from '../support/testRuntime.js';

/** Response and input hygiene (issue 8, item 9): headers, methods, encodings, characters, file modes. */
let rt: TestRuntime;
beforeAll(async () => {
  rt = await testRuntime();
});
afterAll(async () => {
  await rt?.cleanup();
});

describe('response headers', () => {
  it('every answer carries X-Content-Type-Options: nosniff (errors and 404s too)', async () => {
    const { access } = await registerAndLogin(rt);
    for (const [method, path, token] of [
      ['GET', '/healthz', undefined],
      ['GET', '/api/v1/plans/', undefined],
      ['GET', '/api/v1/profile/', access],
      ['GET', '/api/v1/profile/', undefined],
      ['GET', '/api/v1/nope/', undefined],
      ['POST', '/api/v1/auth/login/', undefined],
    ] as const) {
      const res = await rt.call(method, path, {
        ...(token ? { token } : {}),
        ...(method === 'POST' ? { body: {} } : {}),
      });
      expect(res.headers.get('x-content-type-options'), `${method} ${path}`).toBe('nosniff');
    }
  });

  it('answers that carry a secret (tokens, a new API key) are Cache-Control: no-store', async () => {
    const { user, access, refresh } = await registerAndLogin(rt);
    const login = await rt.call('POST', '/api/v1/auth/login/', {
      body: { email: user.email, password: user.password },
    });
    const refreshed = await rt.call('POST', '/api/v1/auth/refresh/', { body: { refresh } });
    const key = await rt.call('POST', '/api/v1/api-keys/', { token: access, body: { name: 'ci' } });
    const registered = await rt.call('POST', '/api/v1/auth/register/', {
      body: { ...user, email: `x${user.email}` },
    });
    for (const res of [login, refreshed, key, registered]) {
      expect(res.status).toBeLessThan(300);
      expect(res.headers.get('cache-control')).toBe('no-store');
    }
    const failed = await rt.call('POST', '/api/v1/auth/login/', {
      body: { email: user.email, password: 'nope nope nope' },
    });
    expect(failed.headers.get('cache-control')).toBe('no-store');
  });
});

describe('methods', () => {
  it('a known path asked with another method is a 405 naming the allowed ones', async () => {
    const { access } = await registerAndLogin(rt);
    const id = '00000000-0000-4000-8000-000000000000';
    for (const [method, path, allow] of [
      ['PUT', `/api/v1/targets/${id}/`, 'DELETE, GET, HEAD, PATCH'],
      ['DELETE', '/api/v1/plans/', 'GET, HEAD'],
      ['GET', '/api/v1/auth/login/', 'POST'],
      ['PATCH', '/api/v1/scans/', 'GET, HEAD'],
      ['POST', '/healthz', 'GET, HEAD'],
    ] as const) {
      const res = await rt.call(method, path, { token: access });
      expect(res.status, `${method} ${path}`).toBe(405);
      expect(res.headers.get('allow')).toBe(allow);
      expect(res.body).toMatchObject({ code: 'method_not_allowed', details: { allowed: allow.split(', ') } });
    }
    expect((await rt.call('GET', '/api/v1/nothing-here/', { token: access })).status).toBe(404);
  });
});

describe('input', () => {
  it('invalid UTF-8 in a JSON body is a 400, not a U+FFFD stored in its place', async () => {
    const { access } = await registerAndLogin(rt);
    const prefix = Buffer.from('{"first_name":"Ad');
    const bad = Buffer.concat([prefix, Buffer.from([0xc3, 0x28]), Buffer.from('"}')]);
    const res = await rt.call('PATCH', '/api/v1/profile/', {
      token: access,
      body: new Uint8Array(bad),
      headers: { 'content-type': 'application/json' },
    });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('malformed_json');
    const profile = await rt.call('GET', '/api/v1/profile/', { token: access });
    expect(profile.body.user_first_name).toBe('Ada');
  });

  it('bidirectional overrides and zero-width characters are refused in names', async () => {
    const { access } = await registerAndLogin(rt);
    for (const name of ['Ada\u202eecalevol', 'A\u200bda', 'Ada\u2066x\u2069', 'A\ufeffda', 'Ada\u200f', 'A\u2060da']) {
      const profile = await rt.call('PATCH', '/api/v1/profile/', { token: access, body: { first_name: name } });
      expect(profile.status, JSON.stringify(name)).toBe(400);
      expect(profile.body.details.fields.first_name[0]).toMatch(/invisible formatting/i);
      const key = await rt.call('POST', '/api/v1/api-keys/', { token: access, body: { name } });
      expect(key.status).toBe(400);
      const target = await rt.call('POST', '/api/v1/targets/', {
        token: access,
        body: { name, target_value: '93.184.215.14' },
      });
      expect(target.status).toBe(400);
      expect(target.body.details.fields).toHaveProperty('name');
    }
    // Letters of every script are fine.
    const ok = await rt.call('PATCH', '/api/v1/profile/', { token: access, body: { first_name: 'Ада لافليس 艾达' } });
    expect(ok.status).toBe(200);
  });

  it('e-mail domain labels have at most 63 characters', async () => {
    const { user } = await registerAndLogin(rt);
    const long = await rt.call('POST', '/api/v1/auth/register/', {
      body: { ...user, email: `ada@${'a'.repeat(64)}.example.com` },
    });
    expect(long.status).toBe(400);
    expect(long.body.details.fields).toHaveProperty('email');
    const fine = await rt.call('POST', '/api/v1/auth/register/', {
      body: { ...user, email: `ada${Date.now()}@${'a'.repeat(63)}.example.com` },
    });
    expect(fine.status).toBe(201);
  });

  it('NUL is refused in every text field, whatever the endpoint', async () => {
    const { user, access } = await registerAndLogin(rt);
    const cases: [string, string, Record<string, unknown>, string][] = [
      [
        'POST',
        '/api/v1/auth/register/',
        { ...user, email: `n${user.email}`, password: 'a long\u0000 passphrase ok' },
        'password',
      ],
      ['POST', '/api/v1/auth/login/', { email: user.email, password: `${user.password}\u0000` }, 'password'],
      ['PATCH', '/api/v1/profile/', { last_name: 'Love\u0000lace' }, 'last_name'],
      [
        'POST',
        '/api/v1/targets/',
        { name: 't', target_value: '93.184.215.14', description: 'a\u0000b' },
        'description',
      ],
      ['POST', '/api/v1/api-keys/', { name: 'x', 'ke\u0000y': 'v' }, 'ke\u0000y'],
      [
        'POST',
        '/api/v1/scans/create/',
        { scanner_type: 'nmap', scan_config: { port_range: '80\u0000' } },
        'scan_config.port_range',
      ],
    ];
    for (const [method, path, body, field] of cases) {
      const res = await rt.call(method, path, { token: access, body });
      expect(res.status, path).toBe(400);
      expect(res.body.details.fields, path).toHaveProperty([field]);
    }
  });
});

describe('the data directory', () => {
  const root = mkdtempSync(join(tmpdir(), 'secably-modes-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('is created owner-only (0700) with the event store in it owner-only (0600)', async () => {
    const dataDir = join(root, 'fresh', 'data');
    const own = await testRuntime({ SECABLY_DATA_DIR: dataDir });
    try {
      await registerAndLogin(own); // something in the store and its WAL
      expect(statSync(dataDir).mode & 0o777).toBe(0o700);
      const files = readdirSync(dataDir).filter((name) => name.startsWith('events.sqlite'));
      expect(files).toContain('events.sqlite');
      for (const name of [...files, 'jwt-secret']) {
        expect(statSync(join(dataDir, name)).mode & 0o777, name).toBe(0o600);
      }
    } finally {
      await own.cleanup();
    }
  });
});
