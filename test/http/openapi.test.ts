/**
 * The OpenAPI document is true: it validates as OpenAPI 3.1, it lists exactly the
 * routes the app serves (compared with the router itself, both ways), its request
 * schemas are the routes' own, its examples fit its schemas, and the app's real
 * answers fit its response schemas, media types and headers — over a whole session
 * with the echo test scanner added to the registry (so a plug-in documents itself
 * too), its exports and nuclei templates. Nothing leaves loopback.
 */
import { existsSync, readFileSync } from 'node:fs';
import { Validator } from '@seriousme/openapi-schema-validator';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { staticResolver } from '../../adapters/dnsResolver.js';
import { BASE_PATH, createApp } from '../../http/app.js';
import { openApiDocument, scanReportComponent } from '../../http/openapi/document.js';
import { NUCLEI_TEMPLATE_YAML } from '../../http/openapi/examples.js';
import { operations } from '../../http/openapi/operations.js';
import { BUILT_IN_SCANNERS, scannerRegistry } from '../../scanners/registry.js';
import { echoScanner } from '../support/scanners/echo/echo.plugin.js';
import {
  ADMIN_TOKEN,
  needsEmbedded,
  newUser,
  registerAndLogin,
  testRuntime,
  type CallOptions,
  type TestResponse,
  type TestRuntime,
} from '../support/testRuntime.js';
import { waitFor } from '../support/waitFor.js';

type Json = Record<string, any>;

/** A scanner declared without a runner yet (its scans answer 501). */
const { loadRunner: _none, ...plannedScanner } = { ...echoScanner, type: 'planned', title: 'Planned (test scanner)' };
const scanners = scannerRegistry([...BUILT_IN_SCANNERS, echoScanner, plannedScanner]);
const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;
/** Whether PDF exports can render here (the service's default browser path). */
const hasChromium = existsSync(process.env.SECABLY_CHROMIUM_PATH ?? '/usr/bin/chromium');
/** Served but not API operations: the interactive docs page and its files. */
const NOT_API = ['GET /docs', 'GET /docs/assets/{file}'];

let rt: TestRuntime;
let doc: Json;

beforeAll(async () => {
  if (needsEmbedded) return;
  rt = await testRuntime(
    { SECABLY_ALLOWED_TARGETS: '127.0.0.0/8' },
    { scanners, resolver: staticResolver({ 'shop.example.com': ['127.0.0.1'] }) },
  );
  const res = await rt.call('GET', `${BASE_PATH}/openapi.json`);
  expect(res.status).toBe(200);
  doc = res.body;
});
afterAll(async () => rt?.cleanup());

// ---------------------------------------------------------------- helpers

/** `/targets/:id` and `/targets/{id}/` are the same route. */
const normalize = (path: string) => path.replace(/:(\w+)/g, '{$1}').replace(/\/+$/, '') || '/';

function documentedRoutes(document: Json): string[] {
  const routes: string[] = [];
  for (const [path, item] of Object.entries(document.paths as Json)) {
    const server = (item.servers?.[0]?.url ?? document.servers[0].url) as string;
    for (const method of METHODS) {
      if (item[method]) routes.push(`${method.toUpperCase()} ${normalize(`${server.replace(/\/$/, '')}${path}`)}`);
    }
  }
  return routes;
}

function* operationsOf(document: Json): Generator<[string, string, Json]> {
  for (const [path, item] of Object.entries(document.paths as Json)) {
    for (const method of METHODS) if (item[method]) yield [method, path, item[method]];
  }
}

function resolve(document: Json, value: Json): Json {
  if (typeof value?.$ref !== 'string') return value;
  const target = (value.$ref as string)
    .slice(2)
    .split('/')
    .reduce<Json | undefined>((node, key) => node?.[key], document);
  if (!target) throw new Error(`unresolved $ref ${value.$ref}`);
  return resolve(document, target);
}

/** Every `$ref` of the document points at something. */
function unresolvedRefs(document: Json): string[] {
  const missing: string[] = [];
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(walk);
    if (node === null || typeof node !== 'object') return;
    for (const [key, value] of Object.entries(node)) {
      if (key === '$ref' && typeof value === 'string') {
        try {
          resolve(document, { $ref: value });
        } catch {
          missing.push(value);
        }
      } else walk(value);
    }
  };
  walk(document);
  return missing;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** An ajv for the document's schemas (draft 2020-12, its refs to components.schemas as $defs). */
function schemaValidator(document: Json) {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  ajv.addFormat('uuid', UUID);
  ajv.addFormat('date-time', (s: string) => /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/.test(s));
  ajv.addFormat('email', /^[^\s@]+@[^\s@]+\.[^\s@]+$/);
  const toDefs = (schema: unknown) =>
    JSON.parse(JSON.stringify(schema).replaceAll('"#/components/schemas/', '"components#/$defs/')) as Json;
  ajv.addSchema({ $id: 'components', $defs: toDefs(document.components.schemas) });
  const cache = new Map<string, ValidateFunction>();
  return (schema: Json, value: unknown): string | undefined => {
    const key = JSON.stringify(schema);
    let validate = cache.get(key);
    if (!validate) {
      validate = ajv.compile(toDefs(schema));
      cache.set(key, validate);
    }
    return validate(value) ? undefined : ajv.errorsText(validate.errors, { separator: '\n' });
  };
}

/** The documented operation of a real request path (`/api/v1/targets/<uuid>/?page=2`). */
function documentedOperation(document: Json, method: string, url: string): Json | undefined {
  const path = normalize(url.split('?')[0]!);
  for (const [template, item] of Object.entries(document.paths as Json)) {
    const server = ((item.servers?.[0]?.url ?? document.servers[0].url) as string).replace(/\/$/, '');
    const pattern = normalize(`${server}${template}`)
      .replace(/[.*+?^$()|[\]\\]/g, '\\$&')
      .replace(/\{\w+\}/g, '[^/]+');
    if (new RegExp(`^${pattern}$`).test(path) && item[method.toLowerCase()]) return item[method.toLowerCase()];
  }
  return undefined;
}

// ---------------------------------------------------------------- the document itself

describe.skipIf(needsEmbedded)('the OpenAPI document', () => {
  it('is served without credentials, cacheable, outside the rate limits (even with a bad token)', async () => {
    const res = await rt.call('GET', '/api/v1/openapi.json/', { token: 'not-a-token' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(res.headers.get('cache-control')).toMatch(/^public, max-age=\d+$/);
    expect(res.headers.get('x-ratelimit-limit')).toBeNull();
    const etag = res.headers.get('etag');
    expect(etag).toMatch(/^"[\w-]+"$/);
    const again = await rt.call('GET', '/api/v1/openapi.json', { headers: { 'if-none-match': etag! } });
    expect(again.status).toBe(304);
    expect(res.body).toEqual(doc);
  });

  it('validates as OpenAPI 3.1, and every $ref resolves', async () => {
    const validator = new Validator();
    const result = await validator.validate(structuredClone(doc));
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe('3.1');
    expect(doc.openapi).toBe('3.1.0');
    expect(unresolvedRefs(doc)).toEqual([]);
    // A broken document is refused (the validator is not a rubber stamp).
    const broken = structuredClone(doc);
    broken.paths['/plans/'].get.responses = 'none';
    expect((await new Validator().validate(broken)).valid).toBe(false);
  });

  it('lists every route the app serves, and nothing it does not serve', () => {
    const served = new Set(
      createApp(rt.deps)
        .routes.filter((route) => route.method !== 'ALL') // middleware
        .map((route) => `${route.method} ${normalize(route.path)}`),
    );
    const documented = new Set(documentedRoutes(doc));
    for (const route of NOT_API) {
      expect(served.has(route), `${route} is served`).toBe(true);
      served.delete(route);
    }
    const undocumented = [...served].filter((route) => !documented.has(route));
    const missing = [...documented].filter((route) => !served.has(route));
    expect(undocumented, 'served but not in http/openapi/operations.ts').toEqual([]);
    expect(missing, 'documented but not served').toEqual([]);
    expect(documented.size).toBeGreaterThan(50);
  });

  it('writes paths as clients do (trailing slash, {id}) and gives every operation a unique id', () => {
    const ids = [...operationsOf(doc)].map(([, , op]) => op.operationId as string);
    expect(new Set(ids).size).toBe(ids.length);
    for (const path of Object.keys(doc.paths)) {
      if (path === '/healthz' || path === '/openapi.json') continue;
      expect(path).toMatch(/^\/([a-z0-9-]+\/|\{id\}\/)+$/);
    }
  });

  it("documents each plug-in's own endpoints, scan_config and scan_result from the registry", () => {
    for (const type of scanners.types) {
      expect(doc.paths[`/${type}/scan/`]?.post, type).toBeDefined();
      expect(doc.paths[`/${type}/scan/{id}/`]?.get, type).toBeDefined();
    }
    // The echo test scanner, added by one registry line, documents itself.
    const echoConfig = doc.components.schemas.EchoScanConfig;
    expect(echoConfig.properties.mode.enum).toEqual(['light', 'heavy']);
    expect(echoConfig.additionalProperties).toBe(false);
    const start = doc.paths['/echo/scan/'].post.requestBody.content['application/json'].schema;
    expect(start.properties.scan_config.$ref).toBe('#/components/schemas/EchoScanConfig');
    expect(start.properties.findings).toBeDefined(); // the settings may be sent at the top level too
    const result = doc.paths['/echo/scan/{id}/'].get.responses['200'].content['application/json'].schema;
    expect(resolve(doc, result).properties.scan_result.anyOf[0].properties.reported.type).toBe('integer');
    const create = doc.paths['/scans/create/'].post.requestBody.content['application/json'].schema;
    expect(create.properties.scanner_type.enum).toEqual(scanners.types);
    // Without echo in the registry, no echo.
    const builtIn = openApiDocument({ scanners: scannerRegistry() });
    expect(builtIn.paths).not.toHaveProperty(['/echo/scan/']);
  });

  it('states the JWT and API-key schemes for users and the admin token for the operator API', () => {
    const schemes = doc.components.securitySchemes;
    expect(schemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' });
    expect(schemes.apiKeyAuth).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(schemes.adminToken).toMatchObject({ type: 'http', scheme: 'bearer' });
    for (const [method, path, op] of operationsOf(doc)) {
      const expected = path.startsWith('/admin/')
        ? [{ adminToken: [] }]
        : ['/plans/', '/auth/register/', '/auth/login/', '/auth/refresh/', '/healthz', '/openapi.json'].includes(path)
          ? []
          : [{ bearerAuth: [] }, { apiKeyAuth: [] }];
      expect(op.security, `${method} ${path}`).toEqual(expected);
    }
  });

  it('documents the rate-limit headers, Retry-After on 429 and the error bodies', () => {
    for (const name of ['X-RateLimit-Limit', 'X-RateLimit-Remaining', 'X-RateLimit-Reset', 'Retry-After']) {
      expect(doc.components.headers[name]).toBeDefined();
    }
    for (const [method, path, op] of operationsOf(doc)) {
      const limited = path !== '/healthz' && path !== '/openapi.json';
      for (const [status, response] of Object.entries(op.responses as Json)) {
        const headers = Object.keys(resolve(doc, response as Json).headers ?? {});
        // Refused before the rate limits: a body over 64 KiB, an operator API that is off.
        const early = status === '413' || (path.startsWith('/admin/') && status === '403');
        const where = `${method} ${path} ${status}`;
        if (limited && !early) expect(headers, where).toContain('X-RateLimit-Remaining');
        else expect(headers, where).not.toContain('X-RateLimit-Remaining');
        if (status === '429') expect(headers).toContain('Retry-After');
        expect(headers, where).toContain('X-Request-Id');
      }
      if (limited) expect(op.responses['429'], `${method} ${path}`).toBeDefined();
    }
    expect(resolve(doc, doc.components.responses.MethodNotAllowed).headers).toHaveProperty('Allow');
    const error = doc.components.schemas.Error;
    expect(Object.keys(error.properties)).toEqual(['error', 'code', 'details']);
    expect(doc.components.schemas.ValidationError.properties.details.properties.fields).toBeDefined();
    const payment = doc.components.schemas.InsufficientCredits;
    expect(payment.required).toEqual(
      expect.arrayContaining(['error', 'required', 'available', 'monthly_credits', 'purchased_credits', 'upgrade_url']),
    );
    expect(doc.paths['/scans/create/'].post.responses['402'].$ref).toBe('#/components/responses/PaymentRequired');
  });

  it('has examples, and each one fits the schema it illustrates', () => {
    const check = schemaValidator(doc);
    let checked = 0;
    const fits = (where: string, media: Json | undefined) => {
      if (!media?.schema || media.example === undefined) return;
      expect(check(media.schema, media.example), where).toBeUndefined();
      checked += 1;
    };
    for (const [method, path, op] of operationsOf(doc)) {
      const where = `${method.toUpperCase()} ${path}`;
      if (op.requestBody) {
        expect(op.requestBody.content['application/json'].example, `${where} request example`).toBeDefined();
        for (const [type, media] of Object.entries(op.requestBody.content as Json)) {
          expect(media.example, `${where} request example (${type})`).toBeDefined();
          fits(`${where} request (${type})`, media);
        }
      }
      for (const [status, response] of Object.entries(op.responses as Json)) {
        if (response.$ref) continue;
        for (const [type, media] of Object.entries((response.content ?? {}) as Json)) {
          if (media.schema && path !== '/openapi.json') {
            expect(media.example, `${where} ${status} example (${type})`).toBeDefined();
          }
          fits(`${where} ${status} (${type})`, media);
        }
      }
    }
    for (const [name, response] of Object.entries(doc.components.responses as Json)) {
      fits(`components.responses.${name}`, response.content['application/json']);
    }
    expect(checked).toBeGreaterThan(90);
  });

  it('carries the JSON export schema exactly as docs/schemas/scan-report.schema.json publishes it', () => {
    const published = JSON.parse(
      readFileSync(new URL('../../docs/schemas/scan-report.schema.json', import.meta.url), 'utf8'),
    ) as Json;
    const { $schema: _dialect, $id: _id, ...rest } = published;
    const carried = JSON.parse(
      JSON.stringify(doc.components.schemas.ScanReport).replaceAll(
        '"#/components/schemas/ScanReport/$defs/',
        '"#/$defs/',
      ),
    ) as Json;
    expect(carried).toEqual(rest);
    expect(doc.components.schemas.ScanReport).toEqual(scanReportComponent());
    const exportJson = doc.paths['/scans/{id}/export/'].post.responses['200'].content;
    expect(Object.keys(exportJson)).toEqual([
      'application/pdf',
      'application/json',
      'text/csv',
      'application/sarif+json',
    ]);
    expect(exportJson['application/json'].schema.$ref).toBe('#/components/schemas/ScanReport');
  });

  it("has request examples the routes' own schemas accept", () => {
    for (const op of operations(scanners, {})) {
      if (!op.body) continue;
      const parsed = op.body.schema.safeParse(op.body.example);
      expect(parsed.error?.issues ?? [], `${op.method} ${op.path}`).toEqual([]);
    }
    for (const plugin of scanners.plugins) {
      const example = doc.paths[`/${plugin.type}/scan/`].post.requestBody.content['application/json'].example;
      expect(plugin.configSchema.safeParse(example.scan_config ?? {}).success, plugin.type).toBe(true);
    }
  });
});

// ---------------------------------------------------------------- request schemas are the routes' own

describe.skipIf(needsEmbedded)("the document's request schemas are the routes' own", () => {
  const bodySchema = (path: string, method: string) =>
    doc.paths[path][method].requestBody.content['application/json'].schema as Json;

  it('names the fields a 400 names, and requires what the route requires', async () => {
    const { access, userId } = await registerAndLogin(rt);
    const cases: [string, string, string, CallOptions][] = [
      ['post', '/auth/register/', '/api/v1/auth/register/', {}],
      ['post', '/targets/', '/api/v1/targets/', { token: access }],
      ['post', '/api-keys/', '/api/v1/api-keys/', { token: access }],
      ['post', '/auth/change-password/', '/api/v1/auth/change-password/', { token: access }],
      ['post', '/admin/users/{id}/credits/', `/api/v1/admin/users/${userId}/credits/`, { headers: admin }],
      ['post', '/scans/create/', '/api/v1/scans/create/', { token: access }],
    ];
    for (const [method, path, url, options] of cases) {
      const res = await rt.call(method.toUpperCase(), url, { ...options, body: {} });
      expect(res.status, path).toBe(400);
      const fields = Object.keys(res.body.details.fields as Json);
      const schema = bodySchema(path, method);
      for (const field of fields) expect(Object.keys(schema.properties), `${path}: ${field}`).toContain(field);
      for (const field of schema.required ?? []) expect(fields, `${path} requires ${field}`).toContain(field);
    }
  });

  it('refuses unknown fields exactly where the document says so (additionalProperties: false)', async () => {
    const session = await registerAndLogin(rt);
    const target = await rt.call('POST', '/api/v1/targets/', {
      token: session.access,
      body: { name: 'loopback', target_value: '127.0.0.1' },
    });
    expect(target.status).toBe(201);
    const scan = await rt.call('POST', '/api/v1/echo/scan/', {
      token: session.access,
      body: { target_id: target.body.id, findings: 0 },
    });
    expect(scan.status).toBe(201);
    let strict = 0;
    for (const [method, path, op] of operationsOf(doc)) {
      if (!op.requestBody) continue;
      const media = op.requestBody.content['application/json'];
      const id = path.startsWith('/admin/')
        ? session.userId
        : path.startsWith('/scans/{id}/')
          ? scan.body.scan_id
          : target.body.id;
      const url = `/api/v1${path.replace('{id}', id)}`;
      const options = path.startsWith('/admin/') ? { headers: admin } : { token: session.access };
      // Scanner bodies pass unknown fields on to the plug-in, which refuses them once the target is known.
      const body = { zz_not_a_field: 1, ...(media.schema.properties.target_id ? { target_id: target.body.id } : {}) };
      const res = await rt.call(method.toUpperCase(), url, { ...options, body });
      const where = `${method.toUpperCase()} ${path}`;
      if (media.schema.additionalProperties === false) {
        strict += 1;
        expect(res.status, where).toBe(400);
        expect(JSON.stringify(res.body.details.fields), where).toContain('zz_not_a_field');
      } else {
        expect(res.status, where).toBe(400);
        expect(JSON.stringify(res.body.details.fields), where).not.toContain('zz_not_a_field');
      }
    }
    expect(strict).toBeGreaterThan(10);
  });

  it('refuses query parameters it does not list and accepts the ones it lists', async () => {
    const { access } = await registerAndLogin(rt);
    /** Parameters that go in pairs, one pair or the other (the operation's description says so). */
    const exclusive: Record<string, string[][]> = {
      '/account/credits/': [
        ['limit', 'offset'],
        ['page', 'page_size'],
      ],
    };
    for (const path of ['/scans/', '/targets/', '/findings/', '/account/credits/']) {
      const bad = await rt.call('GET', `/api/v1${path}?zz_not_a_parameter=1`, { token: access });
      expect(bad.status, path).toBe(400);
      const params = (doc.paths[path].get.parameters as Json[]).filter((p) => p.in === 'query');
      const query = new URLSearchParams(
        params.map((p): [string, string] => [p.name as string, String(p.schema.enum?.[0] ?? 1)]),
      );
      if (query.has('target_id')) query.set('target_id', '3f1d2c4b-5a69-4e87-b0c1-d2e3f4a5b6c7');
      const groups = exclusive[path] ?? [[...query.keys()]];
      for (const group of groups) {
        const one = new URLSearchParams([...query].filter(([name]) => group.includes(name)));
        const good = await rt.call('GET', `/api/v1${path}?${one}`, { token: access });
        expect(good.status, `${path}?${one}`).toBe(200);
      }
      expect(groups.flat().sort(), path).toEqual([...query.keys()].sort());
      if (groups.length > 1) {
        const both = await rt.call('GET', `/api/v1${path}?${query}`, { token: access });
        expect(both.status, `${path}?${query}: one pair or the other`).toBe(400);
        expect(doc.paths[path].get.description).toContain('not both');
      }
    }
  });
});

// ---------------------------------------------------------------- real answers fit the document

describe.skipIf(needsEmbedded)("the app's answers fit the documented responses", () => {
  let check: ReturnType<typeof schemaValidator>;
  const exercised = new Set<string>();
  beforeAll(() => {
    if (doc) check = schemaValidator(doc);
  });

  /** An answer fits a documented response: a documented media type, its schema, every required header. */
  function fits(where: string, response: Json, res: TestResponse): void {
    const type = (res.headers.get('content-type') ?? '').split(';')[0]!.trim();
    if (response.content) {
      expect(Object.keys(response.content), `${where}: Content-Type ${type} is documented`).toContain(type);
      const schema = response.content[type]?.schema;
      const shown = (typeof res.body === 'string' ? res.body : JSON.stringify(res.body)).slice(0, 500);
      if (schema) expect(check(schema, res.body), `${where}: ${shown}`).toBeUndefined();
    }
    for (const [name, header] of Object.entries((response.headers ?? {}) as Json)) {
      if (resolve(doc, header).required) expect(res.headers.get(name), `${where}: ${name}`).not.toBeNull();
    }
  }

  /** Calls the API and checks the answer against the document: status, media type, body, headers. */
  async function call(method: string, url: string, options: CallOptions = {}): Promise<TestResponse> {
    const res = await rt.call(method, url, options);
    const op = documentedOperation(doc, method, url);
    const where = `${method} ${url} → ${res.status}`;
    expect(op, `${method} ${url} is documented`).toBeDefined();
    const response = op!.responses[String(res.status)];
    const shown = (typeof res.body === 'string' ? res.body : JSON.stringify(res.body)).slice(0, 500);
    expect(response, `${where} is a documented status (${shown})`).toBeDefined();
    fits(where, resolve(doc, response), res);
    exercised.add(`${method} ${op!.operationId} ${res.status}`);
    return res;
  }

  it('over a whole session: account, keys, targets, scans with a plug-in, findings, operator calls, errors', async () => {
    await call('GET', '/healthz');
    await call('GET', '/api/v1/openapi.json');
    await call('GET', '/api/v1/plans/');
    const user = newUser();
    const registered = await call('POST', '/api/v1/auth/register/', { body: user });
    expect(registered.status).toBe(201);
    await call('POST', '/api/v1/auth/register/', { body: user }); // 409
    await call('POST', '/api/v1/auth/register/', { body: { ...user, password_confirm: 'something else entirely' } });
    const weak = await call('POST', '/api/v1/auth/register/', {
      body: newUser({ password: 'password1234', password_confirm: 'password1234' }),
    });
    expect(weak.body.details.fields.password[0]).toMatch(/too easy to guess/);
    const login = await call('POST', '/api/v1/auth/login/', { body: { email: user.email, password: user.password } });
    await call('POST', '/api/v1/auth/login/', { body: { email: user.email, password: 'wrong password 123' } });
    // Per-account login throttling: after 5 failed attempts the next one waits (429 login_throttled).
    const guessed = { email: `nobody-${Date.now()}@example.com`, password: 'wrong password 123' };
    for (let i = 0; i < 5; i++) expect((await call('POST', '/api/v1/auth/login/', { body: guessed })).status).toBe(401);
    const throttled = await call('POST', '/api/v1/auth/login/', { body: guessed });
    expect(throttled.status).toBe(429);
    expect(throttled.body.code).toBe('login_throttled');
    const refreshed = await call('POST', '/api/v1/auth/refresh/', { body: { refresh: login.body.refresh } });
    let token = refreshed.body.access as string;
    const userId = registered.body.user.id as string;

    await call('GET', '/api/v1/profile/');
    await call('GET', '/api/v1/profile/', { token: 'not-a-token' });
    await call('GET', '/api/v1/profile/', { token });
    await call('PATCH', '/api/v1/profile/', { token, body: { first_name: 'Augusta Ada' } });
    await call('PATCH', '/api/v1/profile/', {
      token,
      body: 'first_name=Ada',
      headers: { 'content-type': 'text/plain' },
    });
    const deep = await call('PATCH', '/api/v1/profile/', {
      token,
      body: `{"first_name":${'['.repeat(40)}${']'.repeat(40)}}`,
    });
    expect(deep.body.code).toBe('json_too_deep');
    // A known path with another method: 405 with Allow (no operation: the general answer).
    const wrongMethod = await rt.call('PUT', '/api/v1/targets/', { token, body: {} });
    expect(wrongMethod.status).toBe(405);
    fits('PUT /api/v1/targets/ → 405', resolve(doc, doc.components.responses.MethodNotAllowed), wrongMethod);
    expect(wrongMethod.headers.get('allow')).toBe('GET, HEAD, POST');
    await call('GET', '/api/v1/stats/', { token });
    await call('GET', '/api/v1/subscription/', { token });
    const password = 'difference engine 1822';
    const changed = await call('POST', '/api/v1/auth/change-password/', {
      token,
      body: { old_password: user.password, new_password: password, new_password_confirm: password },
    });
    token = changed.body.access;

    expect(changed.body.revoked_api_keys).toEqual([]);
    const key = await call('POST', '/api/v1/api-keys/', { token, body: { name: 'laptop' } });
    await call('GET', '/api/v1/api-keys/', { token: key.body.key });
    // What an API key may not do: create keys, change the password.
    const byKey = await call('POST', '/api/v1/api-keys/', { token: key.body.key, body: { name: 'another' } });
    expect(byKey.body.code).toBe('session_required');
    const passwordByKey = await call('POST', '/api/v1/auth/change-password/', {
      token: key.body.key,
      body: { old_password: password, new_password: 'analytical engine 1843', new_password_confirm: 'x' },
    });
    expect([passwordByKey.status, passwordByKey.body.code]).toEqual([403, 'session_required']);
    await call('DELETE', `/api/v1/api-keys/${key.body.id}/`, { token });
    await call('DELETE', `/api/v1/api-keys/${key.body.id}/`, { token }); // 404

    // A scan that costs credits the free plan does not have: 402.
    const loopback = await call('POST', '/api/v1/targets/', {
      token,
      body: { name: 'loopback', target_value: '127.0.0.1', description: null },
    });
    const targetId = loopback.body.id as string;
    const poor = await call('POST', '/api/v1/echo/scan/', { token, body: { target_id: targetId, mode: 'heavy' } });
    expect(poor.status).toBe(402);
    for (const type of scanners.types) {
      const refused = await call('POST', `/api/v1/${type}/scan/`, { token, body: { target_id: targetId, zz: 1 } });
      expect(refused.status, type).toBe(400);
    }
    // A scanner without a runner yet: 501.
    const notLive = scanners.plugins.find((plugin) => !plugin.loadRunner)!;
    const unavailable = await call('POST', '/api/v1/scans/create/', {
      token,
      body: { target_id: targetId, scanner_type: notLive.type },
    });
    expect(unavailable.status).toBe(501);

    await call('POST', `/api/v1/admin/users/${userId}/subscription/`, { headers: admin, body: { plan: 'enterprise' } });
    await call('POST', `/api/v1/admin/users/${userId}/credits/`, {
      headers: admin,
      body: { credits: 10, reason: 'openapi test' },
    });
    await call('POST', `/api/v1/admin/users/${userId}/credits/`, { body: { credits: 10, reason: 'x' } }); // 401
    await call('POST', `/api/v1/admin/users/${userId}/credits/`, { headers: admin, body: { credits: 0 } }); // 400
    await call('GET', '/api/v1/account/credits/?limit=5', { token });
    const paged = await call('GET', '/api/v1/account/credits/?page=2&page_size=1', { token });
    expect(paged.body.history).toMatchObject({ page: 2, page_size: 1, offset: 1, limit: 1 });
    expect(paged.body.history.previous).not.toBeNull();
    await call('GET', '/api/v1/account/credits/?page=1&limit=5', { token }); // 400: one pair or the other

    // Nuclei templates: upload (JSON and YAML), list, get, delete.
    const template = await call('POST', '/api/v1/nuclei/templates/', {
      token,
      body: { template: NUCLEI_TEMPLATE_YAML },
    });
    expect(template.status).toBe(201);
    const secondYaml = NUCLEI_TEMPLATE_YAML.replace('id: acme-internal-status', 'id: acme-second');
    const asYaml = await call('POST', '/api/v1/nuclei/templates/', {
      token,
      body: secondYaml,
      headers: { 'content-type': 'text/yaml' },
    });
    expect(asYaml.status).toBe(201);
    await call('POST', '/api/v1/nuclei/templates/', {
      token,
      body: NUCLEI_TEMPLATE_YAML,
      headers: { 'content-type': 'application/x-yaml' },
    }); // 409: the same YAML id
    const refusedTemplate = await call('POST', '/api/v1/nuclei/templates/', {
      token,
      body: { template: NUCLEI_TEMPLATE_YAML.replace('http:', 'dns:') },
    });
    expect(refusedTemplate.body.code).toBe('invalid_template');
    await call('POST', '/api/v1/nuclei/templates/', {
      token,
      body: NUCLEI_TEMPLATE_YAML,
      headers: { 'content-type': 'text/plain' },
    }); // 415
    const templates = await call('GET', '/api/v1/nuclei/templates/', { token });
    expect(templates.body.count).toBe(2);
    await call('GET', `/api/v1/nuclei/templates/${template.body.id}/`, { token });
    await call('DELETE', `/api/v1/nuclei/templates/${template.body.id}/`, { token });
    await call('GET', `/api/v1/nuclei/templates/${template.body.id}/`, { token }); // 404

    await call('GET', '/api/v1/targets/?page_size=5', { token });
    await call('GET', `/api/v1/targets/${targetId}/`, { token });
    await call('GET', '/api/v1/targets/3f1d2c4b-5a69-4e87-b0c1-d2e3f4a5b6c7/', { token }); // 404
    await call('PATCH', `/api/v1/targets/${targetId}/`, { token, body: { target_value: '127.0.0.2' } }); // 400
    const site = await call('POST', '/api/v1/websites/', {
      token,
      body: { name: 'shop', url: 'http://shop.example.com/' },
    });
    expect(site.status).toBe(201);
    await call('GET', '/api/v1/websites/', { token });
    await call('GET', `/api/v1/websites/${site.body.id}/`, { token });
    await call('PATCH', `/api/v1/websites/${site.body.id}/`, { token, body: { active: false } });
    await call('POST', `/api/v1/websites/${site.body.id}/scan/`, { token, body: { scanner_type: 'echo' } }); // 409

    // Scans with the echo plug-in, to the end.
    const first = await call('POST', '/api/v1/echo/scan/', {
      token,
      body: { target_id: targetId, scan_config: { findings: 4 } },
    });
    expect(first.status).toBe(201);
    const done = async (id: string) =>
      waitFor(
        async () => {
          const res = await rt.call('GET', `/api/v1/scans/${id}/`, { token });
          return res.body.status === 'completed' ? res.body : false;
        },
        30_000,
        20,
      );
    await done(first.body.scan_id);
    const second = await call('POST', `/api/v1/targets/${targetId}/scan/`, {
      token,
      body: { scanner_type: 'echo', scan_config: { findings: 2 } },
      headers: { 'idempotency-key': 'openapi-test-1' },
    });
    expect(second.status).toBe(200);
    await done(second.body.scan_id);
    const third = await call('POST', '/api/v1/scans/create/', {
      token,
      body: { website_id: targetId, scanner_type: 'echo', scan_config: { slow: true } },
    });
    await call('POST', `/api/v1/scans/${third.body.scan_id}/cancel/`, { token });
    const pending = await call('POST', `/api/v1/websites/${targetId}/scan/`, {
      token,
      body: { scanner_type: 'echo', scan_config: { slow: true } },
    });
    expect(pending.body.status).toBe('pending');

    // Exports of the completed scan, in every format, and the digest verified.
    const exportUrl = `/api/v1/scans/${first.body.scan_id}/export/`;
    const report = await call('POST', exportUrl, { token, body: { format: 'json' } });
    expect(report.status).toBe(200);
    const digest = report.headers.get('x-secably-report-digest')!;
    expect(report.body.source.digest).toBe(digest);
    expect(report.body.findings).toHaveLength(4);
    const csv = await call('GET', `${exportUrl}?format=csv`, { token });
    expect([csv.status, csv.headers.get('x-secably-report-digest')]).toEqual([200, digest]);
    const sarif = await call('POST', exportUrl, { token, body: { format: 'sarif' } });
    expect(sarif.body.runs[0].properties.secablyReport.digest).toBe(digest);
    const pdf = await call('GET', `${exportUrl}?format=pdf`, { token });
    expect(pdf.status, 'PDF renders where Chromium is (503 pdf_unavailable elsewhere)').toBe(hasChromium ? 200 : 503);
    await call('GET', `${exportUrl}?format=docx`, { token }); // 400
    const notCompleted = await call('POST', `/api/v1/scans/${third.body.scan_id}/export/`, {
      token,
      body: { format: 'json' },
    });
    expect(notCompleted.body.code).toBe('scan_not_completed');
    const verified = await call('GET', `${exportUrl}verify/?digest=sha256:${digest}`, { token });
    expect(verified.body).toMatchObject({ matches: true, current: true });
    const forged = await call('GET', `${exportUrl}verify/?digest=${'0'.repeat(64)}`, { token });
    expect(forged.body).toMatchObject({ matches: false, covers_revision: null });
    await call('GET', `${exportUrl}verify/?digest=not-a-digest`, { token }); // 400

    await call('GET', `/api/v1/scans/${first.body.scan_id}/`, { token });
    await call('GET', `/api/v1/echo/scan/${first.body.scan_id}/`, { token });
    await call('GET', `/api/v1/nmap/scan/${first.body.scan_id}/`, { token }); // 404: another scanner's
    await call('GET', '/api/v1/scans/?scanner_type=echo&page_size=2', { token });
    await call('GET', '/api/v1/scans/?status=nonsense', { token }); // 400
    await call('GET', `/api/v1/scans/${first.body.scan_id}/findings/?risk=critical`, { token });
    await call('GET', `/api/v1/scans/${second.body.scan_id}/diff/?against=${first.body.scan_id}`, { token });
    await call('GET', `/api/v1/scans/${third.body.scan_id}/diff/?against=${first.body.scan_id}`, { token }); // 409
    await call('POST', `/api/v1/scans/${first.body.scan_id}/cancel/`, { token }); // 409: completed

    const findings = await call('GET', '/api/v1/findings/?ordering=-risk', { token });
    expect(findings.body.count).toBeGreaterThan(0);
    await call('GET', `/api/v1/findings/${findings.body.results[0].id}/`, { token });
    await call('GET', `/api/v1/targets/${targetId}/findings/?status=fixed`, { token });
    await call('GET', `/api/v1/websites/${targetId}/findings/`, { token });
    await call('GET', `/api/v1/stats/`, { token });
    await call('GET', '/api/v1/account/credits/', { token });

    await call('DELETE', `/api/v1/websites/${site.body.id}/`, { token });
    const deleted = await call('DELETE', `/api/v1/targets/${targetId}/`, { token });
    expect(deleted.body.cancelled_scans).toEqual([pending.body.scan_id]);

    const statuses = new Set([...exercised].map((entry) => entry.split(' ')[2]));
    expect([...statuses].sort()).toEqual(
      expect.arrayContaining(['200', '201', '400', '401', '402', '403', '404', '409', '415', '429', '501']),
    );
    // Every operation has been answered for real and checked; the built-in scanners' success answers are
    // generated by the same code as echo's (nmap's scan_result is checked by the nmap tests).
    const operationIds = new Set([...exercised].map((entry) => entry.split(' ')[1]));
    const unexercised = [...operationsOf(doc)]
      .filter(([, path, op]) => !(op.tags.includes('Scanners') && !path.startsWith('/echo/')))
      .map(([method, path, op]) => `${op.operationId} (${method.toUpperCase()} ${path})`)
      .filter((entry) => !operationIds.has(entry.split(' ')[0]!));
    expect(unexercised, 'documented operations this session does not call: add a call() for each').toEqual([]);
  });

  it('a 429 carries the documented body and Retry-After', async () => {
    const strict = await testRuntime({ SECABLY_RATE_LIMIT_MULTIPLIER: '0.01' });
    try {
      let res: TestResponse | undefined;
      for (let i = 0; i < 3 && res?.status !== 429; i++) res = await strict.call('GET', '/api/v1/plans/');
      expect(res!.status).toBe(429);
      const op = documentedOperation(doc, 'GET', '/api/v1/plans/')!;
      fits('GET /plans/ → 429', resolve(doc, op.responses['429']), res!);
      expect(Number(res!.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(res!.headers.get('x-ratelimit-remaining')).toBe('0');
      // The operator API: failed authentications per address (1 an hour at this multiplier).
      const url = '/api/v1/admin/users/3f1d2c4b-5a69-4e87-b0c1-d2e3f4a5b6c7/credits/';
      const operatorOp = documentedOperation(doc, 'POST', url)!;
      const bad = { authorization: 'Bearer not-the-token' };
      const first = await strict.call('POST', url, { headers: bad, body: { credits: 1, reason: 'x' } });
      expect(first.status).toBe(401);
      fits('operator 401', resolve(doc, operatorOp.responses['401']), first);
      const second = await strict.call('POST', url, { headers: bad, body: { credits: 1, reason: 'x' } });
      expect(second.status).toBe(429);
      fits('operator 429', resolve(doc, operatorOp.responses['429']), second);
      expect(second.body.details.tier).toBe('operator_authentication');
    } finally {
      await strict.cleanup();
    }
  });
});
