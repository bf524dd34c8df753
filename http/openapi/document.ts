/**
 * The OpenAPI 3.1 document, generated from the operation table (`operations.ts`): the
 * routes' own zod schemas and the response schemas become JSON Schema (draft 2020-12,
 * what OpenAPI 3.1 uses) with `z.toJSONSchema`; named schemas land in
 * `components.schemas`. Built from the app's scanner registry, so every plug-in
 * documents its own endpoints, `scan_config` and `scan_result`.
 */
import { z } from 'zod';
import type { ScannerRegistry } from '../../scanners/registry.js';
import { FREE_ATTEMPTS } from '../loginThrottle.js';
import { HOURLY_LIMITS } from '../rateLimits.js';
import {
  operations,
  scanConfigName,
  TAG_DESCRIPTIONS,
  type JsonSchema,
  type MediaContent,
  type Operation,
  type OperationResponse,
} from './operations.js';
import { docRegistry } from './registry.js';
import * as responses from './responses.js';
import { SCAN_REPORT_JSON_SCHEMA } from './scanReportSchema.js';

export const OPENAPI_VERSION = '3.1.0';

export interface DocumentOptions {
  readonly scanners: ScannerRegistry;
  /** SECABLY_RATE_LIMIT_MULTIPLIER: the limits the document states are this service's. */
  readonly rateLimitMultiplier?: number;
  /** Where the API is mounted (default /api/v1). */
  readonly basePath?: string;
}

const FORMATS_WITH_OWN_PATTERN = new Set(['uuid', 'date-time', 'email']);

/** Keeps the generated schemas readable: no ±2^53 bounds, no regex where the format says it. */
function tidy({ jsonSchema }: { jsonSchema: JsonSchema }): void {
  if (jsonSchema.minimum === Number.MIN_SAFE_INTEGER) delete jsonSchema.minimum;
  if (jsonSchema.maximum === Number.MAX_SAFE_INTEGER) delete jsonSchema.maximum;
  if (typeof jsonSchema.format === 'string' && FORMATS_WITH_OWN_PATTERN.has(jsonSchema.format)) {
    delete jsonSchema.pattern;
  }
  const names = jsonSchema.propertyNames as JsonSchema | undefined;
  if (names && Object.keys(names).length === 1 && names.type === 'string') delete jsonSchema.propertyNames;
}

/** `#/$defs/X` → `#/components/schemas/X`, everywhere in a schema. */
function relocateRefs(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(relocateRefs);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, inner]) => [
      key,
      key === '$ref' && typeof inner === 'string' && inner.startsWith('#/$defs/')
        ? `#/components/schemas/${inner.slice('#/$defs/'.length)}`
        : relocateRefs(inner),
    ]),
  );
}

/** Converts zod schemas, collecting the named ones for `components.schemas`. */
function schemaConverter() {
  const components: Record<string, JsonSchema> = {};
  function add(id: string, schema: JsonSchema): void {
    const existing = components[id];
    if (existing && JSON.stringify(existing) !== JSON.stringify(schema)) {
      throw new Error(`two different schemas are named ${id} in the OpenAPI document`);
    }
    components[id] = schema;
  }
  const converted = new Map<z.ZodType, Partial<Record<'input' | 'output', JsonSchema>>>();
  function convert(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
    const known = converted.get(schema)?.[io];
    if (known) return known;
    const result = convertOnce(schema, io);
    converted.set(schema, { ...converted.get(schema), [io]: result });
    return result;
  }
  function convertOnce(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
    const json = z.toJSONSchema(schema, {
      io,
      target: 'draft-2020-12',
      unrepresentable: 'any',
      metadata: docRegistry,
      reused: 'inline',
      override: tidy,
    }) as JsonSchema;
    const { $schema: _dialect, $defs, ...rest } = json;
    for (const [id, def] of Object.entries(($defs ?? {}) as Record<string, JsonSchema>)) {
      add(id, relocateRefs(def) as JsonSchema);
    }
    return relocateRefs(rest) as JsonSchema;
  }
  return { components, add, convert };
}

/** Descriptions of fields, onto the properties of an object schema (a field it does not have is a bug). */
function withFieldDescriptions(
  schema: JsonSchema,
  fields: Readonly<Record<string, string>> = {},
  where: string,
): JsonSchema {
  const properties = { ...((schema.properties ?? {}) as Record<string, JsonSchema>) };
  for (const [name, description] of Object.entries(fields)) {
    if (!properties[name]) throw new Error(`${where}: documents field "${name}", which the schema does not have`);
    properties[name] = { ...properties[name], description };
  }
  return { ...schema, properties };
}

/**
 * The JSON export's published schema as `components.schemas.ScanReport`: its own `$defs` stay inside it
 * (`#/$defs/x` → `#/components/schemas/ScanReport/$defs/x`); `$id` and `$schema` go (an `$id` would
 * change the base of every reference in it).
 */
export function scanReportComponent(): JsonSchema {
  const { $schema: _dialect, $id: _id, ...schema } = SCAN_REPORT_JSON_SCHEMA;
  return JSON.parse(
    JSON.stringify(schema).replaceAll('"#/$defs/', '"#/components/schemas/ScanReport/$defs/'),
  ) as JsonSchema;
}

interface ErrorResponse {
  readonly name: string;
  readonly description: string;
  readonly schema: z.ZodType;
  readonly example: unknown;
  /** Answered before the rate limits (always or at times), so their headers are not promised. */
  readonly beforeRateLimits?: boolean;
  /** More headers: `components.headers` names. */
  readonly headers?: readonly string[];
}

const ERRORS: Readonly<Record<number, ErrorResponse>> = {
  400: {
    name: 'BadRequest',
    description:
      'Invalid input: `validation_error` with `details.fields` naming each field in error (a password that is ' +
      'too easy to guess says why); `json_too_deep` (objects and arrays nested more than 32 levels, ' +
      '`details.max_depth`); `malformed_json` (not JSON, or not UTF-8).',
    schema: responses.ValidationErrorBody,
    example: {
      error: 'Invalid input.',
      code: 'validation_error',
      details: { fields: { name: ['This field may not be blank.'] } },
    },
  },
  401: {
    name: 'Unauthorized',
    description: 'No credentials, or credentials that are invalid, expired or revoked.',
    schema: responses.ErrorBody,
    example: { error: 'Authentication credentials were not provided.', code: 'unauthorized' },
  },
  402: {
    name: 'PaymentRequired',
    description: 'Not enough scan credits; nothing was charged.',
    schema: responses.PaymentRequiredBody,
    example: {
      error: 'Insufficient scan credits',
      code: 'insufficient_credits',
      required: 5,
      available: 2,
      monthly_credits: 2,
      purchased_credits: 0,
      scanner_type: 'zap',
      scan_profile: 'baseline',
      upgrade_url: '/pricing/',
    },
  },
  403: {
    name: 'Forbidden',
    description: 'A limit of your plan (targets, API keys, templates), or something an API key may not do.',
    schema: responses.ErrorBody,
    example: {
      error: 'Your Free plan allows 5 targets; delete one or upgrade your plan.',
      code: 'target_limit_reached',
      details: { limit: 5 },
    },
  },
  404: {
    name: 'NotFound',
    description: 'Not found, or not yours (the same answer, so ids of others do not leak).',
    schema: responses.ErrorBody,
    example: { error: 'Not found.', code: 'not_found' },
  },
  409: {
    name: 'Conflict',
    description: 'The state of the resource does not allow it (an inactive target, a scan that has ended, …).',
    schema: responses.ErrorBody,
    example: { error: 'This target is inactive; activate it to scan it.', code: 'target_inactive' },
  },
  413: {
    name: 'PayloadTooLarge',
    description: 'The body is larger than 64 KiB (refused before the rate limits: no X-RateLimit-* headers).',
    schema: responses.ErrorBody,
    example: { error: 'Request body is too large.', code: 'payload_too_large' },
    beforeRateLimits: true,
  },
  415: {
    name: 'UnsupportedMediaType',
    description: 'The body is not JSON (send `Content-Type: application/json`).',
    schema: responses.ErrorBody,
    example: {
      error: 'Send a JSON body with Content-Type: application/json.',
      code: 'unsupported_media_type',
    },
  },
  429: {
    name: 'TooManyRequests',
    description:
      'A rate limit or the monthly request quota is used up, or (login) this account must wait after failed ' +
      'logins, or (operator API) this address has failed to authenticate too often: retry after `Retry-After` ' +
      'seconds.',
    schema: responses.RateLimitedBody,
    example: {
      error: 'Too many requests; slow down and retry later.',
      code: 'rate_limited',
      details: { tier: 'general', limit: 100, retry_after: 1800 },
    },
    headers: ['Retry-After'],
  },
  501: {
    name: 'NotImplemented',
    description: 'The scanner is not available yet: no scan was started and nothing was charged.',
    schema: responses.ErrorBody,
    example: {
      error: 'The OpenVAS (vulnerabilities) scanner is not available yet; no scan was started and nothing was charged.',
      code: 'scanner_not_available',
      details: { scanner_type: 'openvas' },
    },
  },
};

/** The operator API answers 403 before it counts anything when it is off. */
const OPERATOR_DISABLED: ErrorResponse = {
  name: 'OperatorApiDisabled',
  description: 'The operator API is disabled: SECABLY_ADMIN_TOKEN is not set on this service.',
  schema: responses.ErrorBody,
  example: { error: 'The operator API is disabled (SECABLY_ADMIN_TOKEN is not set).', code: 'admin_disabled' },
  beforeRateLimits: true,
};

/** Answers of no operation in particular: documented once, in `components.responses`. */
const GENERAL_ERRORS: readonly ErrorResponse[] = [
  {
    name: 'MethodNotAllowed',
    description:
      'A 405: the path exists but does not take this method; `Allow` (and `details.allowed`) lists the ones it takes.',
    schema: responses.ErrorBody,
    example: {
      error: 'Method PUT is not allowed here.',
      code: 'method_not_allowed',
      details: { allowed: ['GET', 'HEAD', 'POST'] },
    },
    beforeRateLimits: true, // under /api/v1 it has passed them; a 405 of /healthz has not
    headers: ['Allow'],
  },
  {
    name: 'ServiceUnavailable',
    description: 'A 503: a backing service (event store, read models) is unavailable; retry later.',
    schema: responses.ErrorBody,
    example: { error: 'A backing service is unavailable; retry later.', code: 'service_unavailable' },
    beforeRateLimits: true, // the counters themselves may be what is unavailable
  },
];

const RATE_LIMIT_HEADERS = ['X-RateLimit-Limit', 'X-RateLimit-Remaining', 'X-RateLimit-Reset'] as const;

const headerRef = (name: string) => ({ $ref: `#/components/headers/${name}` });

function responseHeaders(rateLimited: boolean, more: OperationResponse['headers'] = {}) {
  return Object.fromEntries([
    ...(rateLimited ? RATE_LIMIT_HEADERS.map((name) => [name, headerRef(name)]) : []),
    ...Object.entries(more).map(([name, header]) => [name, header === true ? headerRef(name) : header]),
    ['X-Request-Id', headerRef('X-Request-Id')],
  ]);
}

const errorHeaders = (error: ErrorResponse) =>
  responseHeaders(!error.beforeRateLimits, Object.fromEntries((error.headers ?? []).map((name) => [name, true])));

/** The error answers an operation has by its kind, and its own. */
function errorResponses(op: Operation, rateLimited: boolean): [number, ErrorResponse][] {
  const statuses = new Set<number>(op.errors ?? []);
  // Behind the rate limits, a bad token is a 401 even where none is needed.
  if (rateLimited) statuses.add(429).add(401);
  if (op.auth !== 'public') statuses.add(401);
  if (op.auth === 'admin') statuses.add(403);
  if (op.body) statuses.add(400).add(413).add(415);
  if (op.query) statuses.add(400);
  if (op.pathId) statuses.add(404);
  return [...statuses]
    .sort((a, b) => a - b)
    .map((status) => {
      const error = op.auth === 'admin' && status === 403 ? OPERATOR_DISABLED : ERRORS[status];
      if (!error) throw new Error(`${op.method.toUpperCase()} ${op.path}: no error response is defined for ${status}`);
      return [status, error];
    });
}

const SECURITY = {
  public: [],
  user: [{ bearerAuth: [] }, { apiKeyAuth: [] }],
  admin: [{ adminToken: [] }],
} as const;

function introduction(limits: Readonly<Record<keyof typeof HOURLY_LIMITS, number>>): string {
  return [
    'Add targets (IPs, hostnames, URLs, CIDR ranges), start scans with any scanner, read findings with risk ' +
      'levels and a security score, and follow each finding across scans. Interactive docs: /docs.',
    '',
    '**Authentication.** `Authorization: Bearer <token>` with an access token from `POST /auth/login/` ' +
      '(JWT, 15 minutes; `POST /auth/refresh/` renews it) or an API key from `POST /api-keys/` ' +
      '(`Bearer sk_…`). The operator API takes the admin token the same way.',
    '',
    '**API keys** act for you everywhere but two places that need your password session: changing the password ' +
      'and creating API keys (403 `session_required`). Changing the password revokes every API key.',
    '',
    '**Errors** are JSON: `{"error": "...", "code": "...", "details": {...}}` with the status that fits: 400 ' +
      '(with `details.fields`; `json_too_deep` past 32 levels of nesting), 401, 402 (not enough credits: the ' +
      'figures at the top level), 403 (a plan limit, or an API key where a password session is needed), 404 (also ' +
      'for what is not yours), 405 (a known path with another method: `Allow` lists the methods), 409, 413, 415, ' +
      '429, 501, 503 (retry later).',
    '',
    `**Rate limits** per hour: ${limits.anonymous} requests anonymous, ${limits.authenticated} authenticated, ` +
      `${limits.scanOperations} scan starts, ${limits.registration} registrations and ${limits.login} login ` +
      "attempts per address; plus your plan's monthly API request quota. Logins are also throttled per account: " +
      `after ${FREE_ATTEMPTS} failed attempts each further one waits (a 429 \`login_throttled\`). The operator API ` +
      `allows ${limits.operatorFailures} failed authentications per hour per address. Every API response (but the ` +
      'file of an export) carries ' +
      '`X-RateLimit-Limit`, `X-RateLimit-Remaining` and `X-RateLimit-Reset` (epoch seconds) of the limit closest ' +
      'to running out; a 429 adds `Retry-After` (seconds).',
    '',
    '**Retries.** Scan starts take an `Idempotency-Key` header: the same key and body answer the same scan, never a ' +
      'second charge.',
    '',
    '**Paths** end with a slash (`/targets/`); ids are UUIDs (a finding id is its 32-hex fingerprint).',
  ].join('\n');
}

/** The OpenAPI 3.1 document of an app with these scanners. */
export function openApiDocument(options: DocumentOptions): JsonSchema {
  const { scanners } = options;
  const multiplier = options.rateLimitMultiplier ?? 1;
  const basePath = options.basePath ?? '/api/v1';
  const { components, add, convert } = schemaConverter();
  add('ScanReport', scanReportComponent());
  const media = (content: MediaContent, io: 'input' | 'output') => {
    const schema = content.jsonSchema ?? (content.schema ? convert(content.schema, io) : undefined);
    return { ...(schema ? { schema } : {}), ...(content.example !== undefined ? { example: content.example } : {}) };
  };

  const configSchemas: Record<string, JsonSchema> = {};
  for (const plugin of scanners.plugins) {
    const schema = {
      title: scanConfigName(plugin.type),
      ...convert(plugin.configSchema, 'input'),
      description: `scan_config of ${plugin.title} (scanner_type ${plugin.type}).`,
    };
    add(scanConfigName(plugin.type), schema);
    configSchemas[plugin.type] = schema;
  }

  const paths: Record<string, Record<string, unknown>> = {};
  const usedTags = new Set<string>();
  for (const op of operations(scanners, configSchemas)) {
    const where = `${op.method.toUpperCase()} ${op.path}`;
    const rateLimited = op.rateLimited ?? true;
    op.tags.forEach((tag) => usedTags.add(tag));

    const parameters: unknown[] = [];
    if (op.pathId) {
      parameters.push({
        name: 'id',
        in: 'path',
        required: true,
        description: op.pathId.description,
        schema: op.pathId.pattern ? { type: 'string', pattern: op.pathId.pattern } : { type: 'string', format: 'uuid' },
      });
    }
    if (op.query) {
      const query = withFieldDescriptions(convert(op.query, 'input'), op.queryFields, where);
      const required = new Set((query.required ?? []) as string[]);
      for (const [name, schema] of Object.entries(query.properties as Record<string, JsonSchema>)) {
        const { description, ...rest } = schema;
        parameters.push({
          name,
          in: 'query',
          required: required.has(name),
          ...(description ? { description } : {}),
          schema: rest,
        });
      }
    }
    if (op.idempotent) parameters.push({ $ref: '#/components/parameters/IdempotencyKey' });

    const operationResponses: Record<string, unknown> = {};
    for (const [status, response] of Object.entries(op.responses)) {
      const json = response.jsonSchema || response.schema ? { 'application/json': response } : {};
      const content = Object.entries({ ...json, ...response.content }).map(([type, body]) => [
        type,
        media(body, 'output'),
      ]);
      operationResponses[status] = {
        description: response.description,
        headers: responseHeaders(rateLimited && !response.withoutRateLimitHeaders, response.headers),
        ...(content.length ? { content: Object.fromEntries(content) } : {}),
      };
    }
    for (const [status, error] of errorResponses(op, rateLimited)) {
      operationResponses[status] ??= { $ref: `#/components/responses/${error.name}` };
    }

    let requestBody: unknown;
    if (op.body) {
      const converted = withFieldDescriptions(convert(op.body.schema, 'input'), op.body.fields, where);
      const alternatives = Object.entries(op.body.alternatives ?? {}).map(([type, body]) => [
        type,
        media(body, 'input'),
      ]);
      requestBody = {
        required: true,
        content: {
          'application/json': {
            schema: op.body.refine ? op.body.refine(converted) : converted,
            example: op.body.example,
          },
          ...Object.fromEntries(alternatives),
        },
      };
    }

    const pathItem = (paths[op.path] ??= op.server ? { servers: [{ url: op.server }] } : {});
    if (pathItem[op.method]) throw new Error(`${where} is in the operation table twice`);
    pathItem[op.method] = {
      operationId: op.operationId,
      tags: op.tags,
      summary: op.summary,
      ...(op.description ? { description: op.description } : {}),
      security: SECURITY[op.auth],
      ...(parameters.length ? { parameters } : {}),
      ...(requestBody ? { requestBody } : {}),
      responses: operationResponses,
    };
  }

  const errorComponents: Record<string, unknown> = Object.fromEntries(
    [...Object.values(ERRORS), OPERATOR_DISABLED, ...GENERAL_ERRORS].map((error) => [
      error.name,
      {
        description: error.description,
        headers: errorHeaders(error),
        content: { 'application/json': { schema: convert(error.schema, 'output'), example: error.example } },
      },
    ]),
  );
  errorComponents.InternalServerError = {
    description: 'A bug on our side: quote request_id (the X-Request-Id header) when you report it.',
    headers: responseHeaders(true),
    content: { 'application/json': { schema: convert(responses.InternalErrorBody, 'output') } },
  };

  const limits = Object.fromEntries(
    Object.entries(HOURLY_LIMITS).map(([tier, n]) => [tier, Math.max(1, Math.floor(n * multiplier))]),
  ) as Record<keyof typeof HOURLY_LIMITS, number>;

  return {
    openapi: OPENAPI_VERSION,
    info: {
      title: 'SecAbly API',
      version: '1.0.0',
      summary: 'Security scanning as a REST API.',
      description: introduction(limits),
    },
    servers: [{ url: basePath, description: 'This service' }],
    tags: Object.entries(TAG_DESCRIPTIONS)
      .filter(([name]) => usedTags.has(name))
      .map(([name, description]) => ({ name, description })),
    paths,
    components: {
      schemas: components,
      responses: errorComponents,
      parameters: {
        // No example: the interactive docs would fill it in and send the same key with every try.
        IdempotencyKey: {
          name: 'Idempotency-Key',
          in: 'header',
          required: false,
          description:
            'Makes a retry safe: the same key with the same body answers the same scan (never a second charge); ' +
            'with another body it is a 409. 1-255 visible ASCII characters, e.g. a UUID per intended scan.',
          schema: { type: 'string', minLength: 1, maxLength: 255, pattern: '^[\\x21-\\x7e]+$' },
        },
      },
      headers: {
        'X-RateLimit-Limit': {
          description:
            'The limit closest to running out (requests in its window). On every answer behind the rate limits: ' +
            'all but /healthz, this document and the files of an export (a 413 and a disabled operator API ' +
            'answer before them). On ' +
            'the operator API: its failed authentications per address; on a throttled login: the free attempts.',
          required: true,
          schema: { type: 'integer', minimum: 1 },
        },
        'X-RateLimit-Remaining': {
          description: 'Requests left in that window.',
          required: true,
          schema: { type: 'integer', minimum: 0 },
        },
        'X-RateLimit-Reset': {
          description: 'When that window resets, in epoch seconds.',
          required: true,
          schema: { type: 'integer', minimum: 0 },
        },
        'Retry-After': {
          description: 'Seconds to wait before retrying (on a 429).',
          required: true,
          schema: { type: 'integer', minimum: 1 },
        },
        'X-Request-Id': {
          description: 'The id of this request in our logs (yours, when you sent one in X-Request-Id).',
          required: true,
          schema: { type: 'string' },
        },
        Allow: {
          description: 'The methods this path takes (a 405).',
          required: true,
          schema: { type: 'string', example: 'GET, HEAD, POST' },
        },
        'Content-Disposition': {
          description: 'attachment; filename="secably-<target>-<scanner>-<YYYY-MM-DD>-<scan id prefix>.<ext>"',
          required: true,
          schema: { type: 'string' },
        },
        'X-Secably-Report-Stream': {
          description: 'The event stream the report was built from: scan-<id>.',
          required: true,
          schema: { type: 'string' },
        },
        'X-Secably-Report-Revision': {
          description: 'The last revision of that stream the report covers (it covers 0 to this one).',
          required: true,
          schema: { type: 'integer', minimum: 0 },
        },
        'X-Secably-Report-Digest': {
          description:
            'SHA-256 (64 hex digits) of those events, canonical JSON: check it with GET /scans/{id}/export/verify/.',
          required: true,
          schema: { type: 'string', pattern: '^[0-9a-f]{64}$' },
        },
      },
      securitySchemes: {
        bearerAuth: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT',
          description: 'An access token from POST /auth/login/ (15 minutes; renew it with POST /auth/refresh/).',
        },
        apiKeyAuth: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'sk_…',
          description: 'An API key from POST /api-keys/, sent exactly like a token: `Authorization: Bearer sk_…`.',
        },
        adminToken: {
          type: 'http',
          scheme: 'bearer',
          description:
            'The operator API: `Authorization: Bearer $SECABLY_ADMIN_TOKEN` (unset: the operator API is off).',
        },
      },
    },
  };
}
