/**
 * Every operation the API serves, as one table: the OpenAPI document is generated
 * from it (`document.ts`) and `test/http/openapi.test.ts` compares it with the routes
 * the app really serves, both ways. Request schemas are the routes' own (imported from
 * `http/*.routes.ts`); response schemas are in `responses.ts`.
 *
 * Adding an operation: one entry in `operations()` (path as clients write it, with the
 * trailing slash and `{id}`), its request schema exported from its route module, and
 * its response schema in `responses.ts`.
 */
import type { z } from 'zod';
import type { ScannerRegistry } from '../../scanners/registry.js';
import type { AnyScannerPlugin } from '../../scanners/shared/scanner.js';
import { CreditsBody, PlanBody } from '../admin.routes.js';
import { CreateKeyBody } from '../apiKeys.routes.js';
import { ChangePasswordBody, LoginBody, RefreshBody, RegisterBody } from '../auth.routes.js';
import { HistoryQuery } from '../credits.routes.js';
import { EXPORT_FORMATS, ExportBody, ExportQuery, VerifyQuery } from '../exports.routes.js';
import { DiffQuery, findingsQuery, ScanFindingsQuery } from '../findings.routes.js';
import { UploadBody } from '../nucleiTemplates.routes.js';
import { plansBody } from '../plans.routes.js';
import { ProfilePatch } from '../profile.routes.js';
import { scanSchemas, ScannerScanBody } from '../scans.routes.js';
import { ListQuery as TargetListQuery, NewTargetBody, NewWebsiteBody, TargetPatch } from '../targets.routes.js';
import * as example from './examples.js';
import * as responses from './responses.js';

/** A JSON Schema object (draft 2020-12, as OpenAPI 3.1 uses). */
export type JsonSchema = Record<string, unknown>;

/** Who may call: anyone, a user (JWT or API key), or the operator (SECABLY_ADMIN_TOKEN). */
export type Auth = 'public' | 'user' | 'admin';

/** A body of another media type than JSON, or JSON under another name (e.g. application/sarif+json). */
export interface MediaContent {
  /** Converted with `io: 'output'` (responses) or `'input'` (requests). */
  readonly schema?: z.ZodType;
  /** Already in JSON Schema. Neither: a body of bytes (e.g. a PDF). */
  readonly jsonSchema?: JsonSchema;
  readonly example?: unknown;
}

export interface OperationResponse {
  readonly description: string;
  /** The JSON body (converted with `io: 'output'`). */
  readonly schema?: z.ZodType;
  /** A body already in JSON Schema (the document itself). */
  readonly jsonSchema?: JsonSchema;
  readonly example?: unknown;
  /** Bodies by media type, instead of `schema`: an answer that is a file in one of several formats. */
  readonly content?: Readonly<Record<string, MediaContent>>;
  /** Headers beyond X-Request-Id and the rate-limit ones: `true` names a `components.headers` entry. */
  readonly headers?: Readonly<Record<string, true | JsonSchema>>;
  /** An answer the route builds as a Response of its own, without the X-RateLimit-* headers. */
  readonly withoutRateLimitHeaders?: boolean;
}

export interface OperationBody {
  /** The route's own schema (converted with `io: 'input'`: what a client may send). */
  readonly schema: z.ZodType;
  /** Descriptions of its fields. */
  readonly fields?: Readonly<Record<string, string>>;
  /** What the JSON Schema of the route's schema cannot say (e.g. one field of two, per-scanner configs). */
  readonly refine?: (schema: JsonSchema) => JsonSchema;
  readonly example: unknown;
  /** Media types the body may have besides JSON (e.g. the YAML of a nuclei template), after it. */
  readonly alternatives?: Readonly<Record<string, MediaContent>>;
}

export interface Operation {
  readonly method: 'get' | 'post' | 'patch' | 'delete';
  /** The public path under /api/v1, as clients write it: trailing slash, `{id}`. */
  readonly path: string;
  /** A path outside /api/v1 (e.g. '/' for /healthz). */
  readonly server?: string;
  readonly operationId: string;
  readonly tags: readonly string[];
  readonly summary: string;
  readonly description?: string;
  readonly auth: Auth;
  /**
   * Answers with X-RateLimit-* headers and may answer 429. Default: every operation but /healthz and this
   * document (the operator API's budget is its failed authentications per address).
   */
  readonly rateLimited?: boolean;
  /** `{id}` path parameters: what the id names (a UUID unless `pattern` says otherwise). */
  readonly pathId?: { readonly description: string; readonly pattern?: string };
  /** The route's query schema (a strict object: unknown parameters are a 400). */
  readonly query?: z.ZodType;
  readonly queryFields?: Readonly<Record<string, string>>;
  readonly idempotent?: boolean;
  readonly body?: OperationBody;
  readonly responses: Readonly<Record<number, OperationResponse>>;
  /** Error statuses beyond the ones every operation of its kind has (see document.ts). */
  readonly errors?: readonly number[];
}

const TAGS = {
  service: 'Service',
  auth: 'Authentication',
  account: 'Account',
  keys: 'API keys',
  plans: 'Plans',
  targets: 'Targets',
  scans: 'Scans',
  scanners: 'Scanners',
  findings: 'Findings',
  reports: 'Reports',
  templates: 'Nuclei templates',
  operator: 'Operator',
} as const;

export const TAG_DESCRIPTIONS: Readonly<Record<string, string>> = {
  [TAGS.service]: 'Health and this document.',
  [TAGS.auth]: 'Register, log in, refresh and change the password (JWT).',
  [TAGS.account]: 'Your profile, usage, plan and credits.',
  [TAGS.keys]: 'API keys: use one exactly like an access token (`Authorization: Bearer sk_…`).',
  [TAGS.plans]: 'Plans and scan prices: public ("try it now").',
  [TAGS.targets]:
    'What you may scan: IPs, hostnames, URLs and CIDR ranges. `/websites/` is the same resource under its older name.',
  [TAGS.scans]: 'Start, follow and cancel scans; read their findings and compare two scans.',
  [TAGS.scanners]: "One start and one result endpoint per scanner, with the scanner's own scan_config.",
  [TAGS.findings]: 'Findings across scans, with their lifecycle (new, open, fixed, reopened).',
  [TAGS.reports]:
    'Exports of a completed scan (PDF, JSON, CSV, SARIF 2.1.0), built from its event stream and stamped with the ' +
    "SHA-256 digest of those events; anyone with the owner's credentials can verify a report's digest.",
  [TAGS.templates]:
    'Your own nuclei templates (YAML, an http subset: docs/scanners/nuclei.md): upload them, then run them with ' +
    '`scan_config.templates` on a nuclei scan. Nobody else can see or run them.',
  [TAGS.operator]:
    'The operator API (billing integration, support): `Authorization: Bearer $SECABLY_ADMIN_TOKEN`. Failed ' +
    'authentications are counted per address: past the limit, that address gets 429 until the hour ends.',
};

const targetId = { description: 'The target id.' };

/** 403 of what an API key may not do (change the password, create keys). */
const sessionRequired: OperationResponse = {
  description: 'An API key was used: this needs a password session (sign in and use the access token).',
  schema: responses.ErrorBody,
  example: {
    error: 'An API key cannot do this: sign in with your password and use the access token.',
    code: 'session_required',
  },
};

const REPORT_HEADERS = {
  'Content-Disposition': true,
  'X-Secably-Report-Stream': true,
  'X-Secably-Report-Revision': true,
  'X-Secably-Report-Digest': true,
} as const;

/** The SARIF 2.1.0 log, in outline (its full schema is OASIS's). */
const SARIF_LOG: JsonSchema = {
  type: 'object',
  description:
    'A SARIF 2.1.0 log (OASIS; schema: https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/' +
    'sarif-schema-2.1.0.json): one run, one result per finding (ruleId = rule_id, level from the risk, ' +
    "partialFingerprints['secablyFindingId/v1'] = fingerprint), the report's provenance in " +
    '`runs[0].properties.secablyReport`. Details: docs/reports.md.',
  required: ['version', 'runs'],
  properties: {
    $schema: { type: 'string' },
    version: { const: '2.1.0' },
    runs: {
      type: 'array',
      minItems: 1,
      maxItems: 1,
      items: {
        type: 'object',
        required: ['tool', 'results', 'properties'],
        properties: {
          tool: { type: 'object', required: ['driver'] },
          results: { type: 'array', items: { type: 'object', required: ['ruleId', 'level', 'message'] } },
          properties: {
            type: 'object',
            required: ['secablyReport'],
            properties: {
              secablyReport: {
                type: 'object',
                required: ['stream', 'last_revision', 'digest', 'digest_algorithm'],
                properties: {
                  stream: { type: 'string' },
                  last_revision: { type: 'integer', minimum: 0 },
                  digest: { type: 'string', pattern: '^[0-9a-f]{64}$' },
                  digest_algorithm: { const: 'sha256' },
                },
              },
            },
          },
        },
      },
    },
  },
};

const CSV_REPORT: JsonSchema = {
  type: 'string',
  description:
    'RFC 4180 (CRLF, UTF-8 with a byte order mark), a header row, then one row per finding in reported order: ' +
    'risk, name, location, rule_id, engine, confidence, cvss_score, cvss_vector, cwe, cve, description, solution, ' +
    'evidence, references, sources, fingerprint, scan_id, target, scanner_type, report_stream, report_revision, ' +
    "report_digest. A cell that a spreadsheet would evaluate (=, +, -, @, tab, CR) or that starts with ' gets a " +
    "leading ': strip one to read the value back.",
};

/** The 200 of an export: the file, in the format asked for. */
const exportFile: OperationResponse = {
  description:
    'The report as an attachment (`Content-Disposition: attachment; filename="secably-<target>-<scanner>-' +
    '<YYYY-MM-DD>-<scan id prefix>.<ext>"`), in the format asked for; `X-Secably-Report-*` name the events it ' +
    'was built from and their SHA-256 digest. JSON, CSV and SARIF are streamed. The file answers carry no ' +
    'X-RateLimit-* headers (the request still counts).',
  content: {
    'application/pdf': {},
    'application/json': { jsonSchema: { $ref: '#/components/schemas/ScanReport' }, example: example.scanReport },
    'text/csv': { jsonSchema: CSV_REPORT, example: example.csvReport },
    'application/sarif+json': { jsonSchema: SARIF_LOG, example: example.sarifReport },
  },
  headers: REPORT_HEADERS,
};

const exportErrors: Readonly<Record<number, OperationResponse>> = {
  409: {
    description:
      'Only completed scans export: `scan_not_completed`, with `details.status` (and `details.error` of a failed scan).',
    schema: responses.ErrorBody,
    example: {
      error: 'The scan has not finished (running); only completed scans can be exported.',
      code: 'scan_not_completed',
      details: { status: 'running' },
    },
  },
  503: {
    description:
      'PDF only (json, csv and sarif still work): `pdf_unavailable` (no Chromium on this server), `pdf_busy` ' +
      '(the render queue is full: retry after `Retry-After` seconds) or `pdf_timeout` (the render took too long).',
    schema: responses.ErrorBody,
    example: {
      error:
        'PDF export is unavailable on this server: no Chromium browser to render it. The json, csv and sarif formats work.',
      code: 'pdf_unavailable',
    },
    headers: {
      'Retry-After': {
        description: 'pdf_busy only: seconds to wait before retrying.',
        schema: { type: 'integer', minimum: 1 },
      },
    },
  },
};

const formatChoice = `The format: ${EXPORT_FORMATS.join(', ')}.`;
const templateId = { description: 'The template id (the `id` of its upload, not its YAML `id:`).' };
const YAML_BODY: MediaContent = {
  jsonSchema: { type: 'string', minLength: 1, description: 'The template YAML itself.' },
  example: example.NUCLEI_TEMPLATE_YAML,
};
const scanId = { description: 'The scan id.' };

const targetFields = {
  name: 'A name for you (1-200 characters).',
  target_value: 'An IP (v4 or v6), hostname, http(s) URL or CIDR range; stored normalized and never changed.',
  target_type: 'ip, hostname, url or range; inferred from target_value when absent.',
  description: 'Notes (at most 2,000 characters); null means none.',
};

const pageFields = { page: 'Page number, from 1.', page_size: 'Items per page, 1-100 (default 20).' };

const findingFilters = {
  status: 'Only findings in this lifecycle status.',
  risk: 'Only findings of this risk.',
  scanner_type: 'Only findings of this scanner.',
  ordering: 'Sort order: last_seen, first_seen or risk; a leading "-" reverses it (default -last_seen).',
  ...pageFields,
};

const capitalized = (type: string) =>
  type.charAt(0).toUpperCase() + type.slice(1).replace(/[-_](.)/g, (_, c: string) => c.toUpperCase());

/** `components.schemas` name of a scanner's scan_config. */
export const scanConfigName = (type: string) => `${capitalized(type)}ScanConfig`;
const scanConfigRef = (type: string) => ({ $ref: `#/components/schemas/${scanConfigName(type)}` });

/** target_id or website_id (its older name), exactly one: both present match both branches, which oneOf refuses. */
const ONE_TARGET = {
  oneOf: [
    { title: 'by target_id', type: 'object', required: ['target_id'] },
    { title: 'by website_id', type: 'object', required: ['website_id'] },
  ],
};

/** A body whose scan_config depends on scanner_type: one of the scanners' schemas. */
function scanConfigByType(scanners: ScannerRegistry, needsTarget: boolean) {
  return (schema: JsonSchema): JsonSchema => {
    const properties = schema.properties as Record<string, JsonSchema>;
    return {
      ...schema,
      properties: {
        ...properties,
        scan_config: {
          description:
            "The settings of the scanner scanner_type names (its <Scanner>ScanConfig: see that scanner's " +
            'start endpoint); absent: its defaults.',
          anyOf: scanners.types.map(scanConfigRef),
        },
      },
      ...(needsTarget ? ONE_TARGET : {}),
    };
  };
}

/** POST /<type>/scan/: the target, and the scanner's settings in scan_config or at the top level. */
function scannerBody(plugin: AnyScannerPlugin, configSchema: JsonSchema) {
  return (schema: JsonSchema): JsonSchema => {
    const properties = schema.properties as Record<string, JsonSchema>;
    const flat = (configSchema.properties ?? {}) as Record<string, JsonSchema>;
    const flatDocumented = configSchema.type === 'object' && configSchema.additionalProperties === false;
    return {
      ...schema,
      properties: {
        ...properties,
        scan_config: { ...scanConfigRef(plugin.type), description: `The ${plugin.title} settings.` },
        ...(flatDocumented ? flat : {}),
      },
      ...(flatDocumented ? { additionalProperties: false } : {}),
      ...ONE_TARGET,
    };
  };
}

function scannerOperations(
  scanners: ScannerRegistry,
  configSchemas: Readonly<Record<string, JsonSchema>>,
): Operation[] {
  return scanners.plugins.flatMap((plugin): Operation[] => {
    const prices = plugin.profiles
      .map((p) => `${p.name}: ${p.credits} credit${p.credits === 1 ? '' : 's'}, ~${p.typicalMinutes} min`)
      .join('; ');
    const available = plugin.loadRunner ? '' : '\n\n**Not available yet**: its scans answer 501 and charge nothing.';
    return [
      {
        method: 'post',
        path: `/${plugin.type}/scan/`,
        operationId: `start${capitalized(plugin.type)}Scan`,
        tags: [TAGS.scanners],
        summary: `Start a ${plugin.title} scan`,
        description:
          `${plugin.description}\n\nProfiles: ${prices}. Targets: ${plugin.targetTypes.join(', ')}. ` +
          'Send the settings in `scan_config` or at the top level of the body, not both.' +
          available,
        auth: 'user',
        idempotent: true,
        body: {
          schema: ScannerScanBody,
          fields: {
            target_id: 'The target to scan.',
            website_id: 'The same, under its older name: send one of the two.',
          },
          refine: scannerBody(plugin, configSchemas[plugin.type] ?? {}),
          example: { target_id: example.TARGET_ID, scan_config: example.scanConfigExample(plugin) },
        },
        responses: {
          201: {
            description: 'The scan is queued.',
            schema: responses.ScanStarted,
            example: example.scanStarted(plugin),
          },
        },
        errors: [402, 403, 404, 409, 501],
      },
      {
        method: 'get',
        path: `/${plugin.type}/scan/{id}/`,
        operationId: `get${capitalized(plugin.type)}ScanResult`,
        tags: [TAGS.scanners],
        summary: `A ${plugin.title} scan and its result`,
        description: `The scan with \`scan_result\` in the ${plugin.title} shape. A scan of another scanner is a 404.`,
        auth: 'user',
        pathId: scanId,
        responses: {
          200: {
            description: 'The scan.',
            schema: responses.scannerResult(plugin),
            example: example.scannerResult(plugin),
          },
        },
      },
    ];
  });
}

/** Every operation of an app with these scanners, in the document's order. */
export function operations(
  scanners: ScannerRegistry,
  configSchemas: Readonly<Record<string, JsonSchema>>,
): Operation[] {
  const scan = scanSchemas(scanners);
  const AllFindingsQuery = findingsQuery(scanners.types, true);
  const TargetFindingsQuery = findingsQuery(scanners.types, false);

  const targetOperations = (['targets', 'websites'] as const).flatMap((resource): Operation[] => {
    const older = resource === 'websites';
    const name = older ? 'Website' : 'Target';
    const note = older ? ' (the older name of /targets/: the same resource)' : '';
    return [
      {
        method: 'get',
        path: `/${resource}/`,
        operationId: `list${name}s`,
        tags: [TAGS.targets],
        summary: `List your targets${note}`,
        description: 'Newest first, paged.',
        auth: 'user',
        query: TargetListQuery,
        queryFields: {
          ...pageFields,
          active: 'Only active (true) or inactive (false) targets.',
          target_type: 'Only targets of this type.',
        },
        responses: {
          200: {
            description: 'A page of targets.',
            schema: responses.TargetPage,
            example: example.page([example.target]),
          },
        },
      },
      {
        method: 'post',
        path: `/${resource}/`,
        operationId: `create${name}`,
        tags: [TAGS.targets],
        summary: `Add a target${note}`,
        description: older
          ? "The reference client's `{url, name}` (a URL target), or `target_value` as on /targets/."
          : 'The value is checked (public addresses only, unless the service allows more) and fixed once added. ' +
            "Your plan's target limit applies (403).",
        auth: 'user',
        body: older
          ? {
              schema: NewWebsiteBody,
              fields: { ...targetFields, url: 'A URL target (send url or target_value, not both).' },
              refine: (schema) => ({
                ...schema,
                oneOf: [
                  { required: ['url'], not: { required: ['target_value'] } },
                  { required: ['target_value'], not: { required: ['url'] } },
                ],
              }),
              example: { name: 'Shop', url: 'https://shop.example.com/' },
            }
          : {
              schema: NewTargetBody,
              fields: targetFields,
              example: { name: 'Shop', target_value: 'https://shop.example.com/', description: 'Production shop' },
            },
        responses: { 201: { description: 'The target.', schema: responses.Target, example: example.target } },
        errors: [403, 409],
      },
      {
        method: 'get',
        path: `/${resource}/{id}/`,
        operationId: `get${name}`,
        tags: [TAGS.targets],
        summary: `A target${note}`,
        auth: 'user',
        pathId: targetId,
        responses: { 200: { description: 'The target.', schema: responses.Target, example: example.target } },
      },
      {
        method: 'patch',
        path: `/${resource}/{id}/`,
        operationId: `update${name}`,
        tags: [TAGS.targets],
        summary: `Rename, describe, activate or deactivate a target${note}`,
        description: 'The value cannot change (scan history would describe another host): create a new target.',
        auth: 'user',
        pathId: targetId,
        body: {
          schema: TargetPatch,
          fields: {
            name: targetFields.name,
            description: targetFields.description,
            active: 'false: the target cannot be scanned until it is active again.',
            target_value: 'Refused: the value cannot change.',
            target_type: 'Refused: the value cannot change.',
            url: 'Refused: the value cannot change.',
          },
          example: { name: 'Shop (production)', active: true },
        },
        responses: { 200: { description: 'The target.', schema: responses.Target, example: example.target } },
      },
      {
        method: 'delete',
        path: `/${resource}/{id}/`,
        operationId: `delete${name}`,
        tags: [TAGS.targets],
        summary: `Delete a target${note}`,
        description:
          'Its scans that have not ended (pending, queued, running) are cancelled and refunded and listed in ' +
          '`cancelled_scans`; its scans and findings stay readable; its slot on your plan is free again.',
        auth: 'user',
        pathId: targetId,
        responses: {
          200: {
            description: 'Deleted.',
            schema: responses.TargetDeleted,
            example: { id: example.TARGET_ID, deleted: true, cancelled_scans: [example.SCAN_ID] },
          },
        },
        errors: [409],
      },
      {
        method: 'post',
        path: `/${resource}/{id}/scan/`,
        operationId: `scan${name}`,
        tags: [TAGS.scans],
        summary: `Scan a target${note}`,
        description: "scanner_type defaults to nmap. Answers 200 (the reference's status for this endpoint).",
        auth: 'user',
        pathId: targetId,
        idempotent: true,
        body: {
          schema: scan.TargetScanBody,
          fields: { scanner_type: 'The scanner (default nmap).' },
          refine: scanConfigByType(scanners, false),
          example: { scanner_type: 'nmap', scan_config: { scan_type: 'quick' } },
        },
        responses: {
          200: { description: 'The scan is queued.', schema: responses.ScanStarted, example: example.scanStarted() },
        },
        errors: [402, 403, 409, 501],
      },
      {
        method: 'get',
        path: `/${resource}/{id}/findings/`,
        operationId: `list${name}Findings`,
        tags: [TAGS.findings],
        summary: `The findings of a target across its scans${note}`,
        auth: 'user',
        pathId: targetId,
        query: TargetFindingsQuery,
        queryFields: findingFilters,
        responses: {
          200: {
            description: 'A page of findings.',
            schema: responses.TrackedFindingPage,
            example: example.page([example.trackedFinding]),
          },
        },
      },
    ];
  });

  return [
    {
      method: 'get',
      path: '/healthz',
      server: '/',
      operationId: 'health',
      tags: [TAGS.service],
      summary: 'Health',
      description: '200 once the read models have caught up with the event store; 503 before.',
      auth: 'public',
      rateLimited: false,
      responses: {
        200: { description: 'Ready.', schema: responses.Health, example: { status: 'ok' } },
        503: {
          description: 'Starting: the read models are catching up.',
          schema: responses.Health,
          example: { status: 'starting' },
        },
      },
    },
    {
      method: 'get',
      path: '/openapi.json',
      operationId: 'openApiDocument',
      tags: [TAGS.service],
      summary: 'This document (OpenAPI 3.1)',
      description: 'Generated from the schemas the routes validate with. Interactive docs: /docs.',
      auth: 'public',
      rateLimited: false,
      responses: {
        200: {
          description: 'The OpenAPI 3.1 document.',
          jsonSchema: {
            type: 'object',
            required: ['openapi', 'info', 'paths'],
            properties: { openapi: { type: 'string', pattern: '^3\\.1\\.\\d+$' } },
          },
        },
      },
    },
    {
      method: 'get',
      path: '/plans/',
      operationId: 'listPlans',
      tags: [TAGS.plans],
      summary: 'Plans and scan prices',
      description: 'Public: no credentials needed ("try it now").',
      auth: 'public',
      responses: { 200: { description: 'The plans.', schema: responses.Plans, example: plansBody(scanners) } },
    },
    {
      method: 'post',
      path: '/auth/register/',
      operationId: 'register',
      tags: [TAGS.auth],
      summary: 'Register',
      description:
        'Creates a user on the free plan and logs it in. Password: 10-128 characters, not containing the e-mail ' +
        'address, and hard to guess: its strength is estimated (zxcvbn: leaked and common passwords, words, names, ' +
        'keyboard patterns, your own e-mail and names) and a weak one is a 400 saying why and how to do better. ' +
        'Unknown fields are ignored. 5 registrations per hour per address.',
      auth: 'public',
      body: {
        schema: RegisterBody,
        fields: { password_confirm: 'The password again.' },
        example: {
          email: 'ada@example.com',
          first_name: 'Ada',
          last_name: 'Lovelace',
          password: 'analytical engine 1843',
          password_confirm: 'analytical engine 1843',
        },
      },
      responses: {
        201: { description: 'Registered and logged in.', schema: responses.Registered, example: example.registered },
      },
      errors: [409],
    },
    {
      method: 'post',
      path: '/auth/login/',
      operationId: 'login',
      tags: [TAGS.auth],
      summary: 'Log in',
      description:
        'A new session: an access token and a refresh token. 20 attempts per hour per address; and per account, ' +
        'after 5 failed attempts each further one waits (30 s, doubling up to 15 min; a 429 `login_throttled` ' +
        'with `Retry-After` until then). A success clears the wait; addresses the account logged in from keep ' +
        'their own count, so a guesser elsewhere cannot lock the owner out.',
      auth: 'public',
      body: { schema: LoginBody, example: { email: 'ada@example.com', password: 'analytical engine 1843' } },
      responses: { 200: { description: 'Logged in.', schema: responses.LoggedIn, example: example.loggedIn } },
    },
    {
      method: 'post',
      path: '/auth/refresh/',
      operationId: 'refresh',
      tags: [TAGS.auth],
      summary: 'Refresh the session',
      description:
        'A new access **and** refresh token. Each refresh token works once: presenting an old one again revokes ' +
        'that whole login.',
      auth: 'public',
      body: { schema: RefreshBody, example: { refresh: example.REFRESH_TOKEN } },
      responses: { 200: { description: 'The new tokens.', schema: responses.SessionTokens, example: example.tokens } },
    },
    {
      method: 'post',
      path: '/auth/change-password/',
      operationId: 'changePassword',
      tags: [TAGS.auth],
      summary: 'Change the password',
      description:
        'Signs out every session (their tokens stop working at once), revokes every API key (listed in ' +
        '`revoked_api_keys`) and returns a new session. The new password must be strong (see register: a weak ' +
        'one is a 400 on new_password saying why). Needs a password session: an API key gets 403 ' +
        '`session_required`.',
      auth: 'user',
      body: {
        schema: ChangePasswordBody,
        example: {
          old_password: 'analytical engine 1843',
          new_password: 'difference engine 1822',
          new_password_confirm: 'difference engine 1822',
        },
      },
      responses: {
        200: { description: 'Changed.', schema: responses.PasswordChanged, example: example.passwordChanged },
        403: sessionRequired,
      },
    },
    {
      method: 'get',
      path: '/profile/',
      operationId: 'getProfile',
      tags: [TAGS.account],
      summary: 'Your profile',
      auth: 'user',
      responses: { 200: { description: 'The profile.', schema: responses.Profile, example: example.profile } },
    },
    {
      method: 'patch',
      path: '/profile/',
      operationId: 'updateProfile',
      tags: [TAGS.account],
      summary: 'Change your name',
      auth: 'user',
      body: { schema: ProfilePatch, example: { first_name: 'Augusta Ada' } },
      responses: { 200: { description: 'The profile.', schema: responses.Profile, example: example.profile } },
    },
    {
      method: 'get',
      path: '/stats/',
      operationId: 'getStats',
      tags: [TAGS.account],
      summary: 'Usage and recent activity',
      auth: 'user',
      responses: { 200: { description: 'The statistics.', schema: responses.Stats, example: example.stats } },
    },
    {
      method: 'get',
      path: '/subscription/',
      operationId: 'getSubscription',
      tags: [TAGS.account],
      summary: 'Your plan, its limits and your usage against them',
      auth: 'user',
      responses: {
        200: { description: 'The subscription.', schema: responses.Subscription, example: example.subscription },
      },
    },
    {
      method: 'get',
      path: '/api-keys/',
      operationId: 'listApiKeys',
      tags: [TAGS.keys],
      summary: 'Your API keys',
      description: 'Newest first; revoked keys too (active: false). The keys themselves are never shown again.',
      auth: 'user',
      responses: {
        200: {
          description: 'The keys.',
          schema: responses.ApiKeyList,
          example: { count: 1, results: [example.apiKey] },
        },
      },
    },
    {
      method: 'post',
      path: '/api-keys/',
      operationId: 'createApiKey',
      tags: [TAGS.keys],
      summary: 'Create an API key',
      description:
        'The key is in this answer only: store it now. Use it as `Authorization: Bearer sk_…`. Needs a password ' +
        'session: an API key cannot create keys (403 `session_required`).',
      auth: 'user',
      body: {
        schema: CreateKeyBody,
        fields: { name: 'What the key is for (1-100 characters).' },
        example: { name: 'laptop' },
      },
      responses: {
        201: { description: 'The key.', schema: responses.ApiKeyCreated, example: example.apiKeyCreated },
        403: {
          ...sessionRequired,
          description:
            'An API key was used (`session_required`: sign in with your password), or you have the most active ' +
            'keys allowed (`api_key_limit`).',
        },
      },
    },
    {
      method: 'delete',
      path: '/api-keys/{id}/',
      operationId: 'revokeApiKey',
      tags: [TAGS.keys],
      summary: 'Revoke an API key',
      description: 'It stops working at once.',
      auth: 'user',
      pathId: { description: 'The key id.' },
      responses: {
        200: {
          description: 'Revoked.',
          schema: responses.ApiKey,
          example: { ...example.apiKey, revoked_at: example.LATER, active: false },
        },
      },
    },
    {
      method: 'get',
      path: '/account/credits/',
      operationId: 'getCredits',
      tags: [TAGS.account],
      summary: 'Credit balance and ledger',
      description:
        'Every credit movement, newest first, from the events of the account stream. Paged with `limit` and ' +
        '`offset`, or with `page` and `page_size` as the other lists are: one pair or the other, not both (400).',
      auth: 'user',
      query: HistoryQuery,
      queryFields: {
        limit: 'Ledger entries per page (1-500, default 100); with offset.',
        offset: 'Entries to skip (default 0).',
        page: 'Page number, from 1; with page_size (not with limit or offset).',
        page_size: 'Entries per page (1-500, default 100).',
      },
      responses: {
        200: { description: 'The balance and ledger.', schema: responses.Credits, example: example.credits },
      },
    },
    {
      method: 'post',
      path: '/scans/create/',
      operationId: 'createScan',
      tags: [TAGS.scans],
      summary: 'Start a scan',
      description:
        'Any scanner: `scanner_type` picks it, `scan_config` is its settings (see the scanner endpoints). ' +
        'The credits are reserved now and refunded if the scan fails or is cancelled. The answer says ' +
        '`status: "pending"`: the scan is queued a moment later. Send an `Idempotency-Key` to retry safely.',
      auth: 'user',
      idempotent: true,
      body: {
        schema: scan.CreateScanBody,
        fields: {
          target_id: 'The target to scan.',
          website_id: 'The same, under its older name: send one of the two.',
          scanner_type: 'The scanner.',
        },
        refine: scanConfigByType(scanners, true),
        example: { target_id: example.TARGET_ID, scanner_type: 'nmap', scan_config: { scan_type: 'quick' } },
      },
      responses: {
        201: { description: 'The scan is queued.', schema: responses.ScanStarted, example: example.scanStarted() },
      },
      errors: [402, 403, 404, 409, 501],
    },
    {
      method: 'get',
      path: '/scans/',
      operationId: 'listScans',
      tags: [TAGS.scans],
      summary: 'Your scans',
      description: 'Newest first, paged.',
      auth: 'user',
      query: scan.ListQuery,
      queryFields: {
        status: 'Only scans in this status.',
        scanner_type: 'Only scans of this scanner.',
        target_id: 'Only scans of this target.',
        ...pageFields,
      },
      responses: {
        200: { description: 'A page of scans.', schema: responses.ScanPage, example: example.page([example.scan]) },
      },
    },
    {
      method: 'get',
      path: '/scans/{id}/',
      operationId: 'getScan',
      tags: [TAGS.scans],
      summary: 'A scan and its findings',
      auth: 'user',
      pathId: scanId,
      responses: { 200: { description: 'The scan.', schema: responses.Scan, example: example.scan } },
    },
    {
      method: 'post',
      path: '/scans/{id}/cancel/',
      operationId: 'cancelScan',
      tags: [TAGS.scans],
      summary: 'Cancel a scan',
      description: 'Stops it if it runs; its credits are refunded. A scan that has ended is a 409.',
      auth: 'user',
      pathId: scanId,
      responses: {
        200: {
          description: 'Cancelled.',
          schema: responses.ScanCancelled,
          example: {
            scan_id: example.SCAN_ID,
            status: 'cancelled',
            message: 'Scan cancelled; its credits are refunded.',
          },
        },
      },
      errors: [409],
    },
    {
      method: 'get',
      path: '/scans/{id}/findings/',
      operationId: 'listScanFindings',
      tags: [TAGS.findings],
      summary: 'Every finding of a scan',
      description: 'Most severe first, paged (the scan itself lists at most 1,000).',
      auth: 'user',
      pathId: scanId,
      query: ScanFindingsQuery,
      queryFields: { risk: 'Only findings of this risk.', ...pageFields },
      responses: {
        200: {
          description: 'A page of findings.',
          schema: responses.FindingPage,
          example: example.page([example.finding]),
        },
      },
    },
    {
      method: 'get',
      path: '/scans/{id}/diff/',
      operationId: 'diffScans',
      tags: [TAGS.findings],
      summary: 'What changed between two scans',
      description: 'Findings new in this scan and fixed since the other. Both scans must have completed (409).',
      auth: 'user',
      pathId: scanId,
      query: DiffQuery,
      queryFields: { against: 'The scan to compare with (usually an earlier one of the same target).' },
      responses: { 200: { description: 'The difference.', schema: responses.ScanDiff, example: example.diff } },
      errors: [409],
    },
    {
      method: 'post',
      path: '/scans/{id}/export/',
      operationId: 'exportScan',
      tags: [TAGS.reports],
      summary: 'Export a completed scan (PDF, JSON, CSV or SARIF)',
      description:
        "Built from the scan's event stream, never from a read model. The PDF is a report for people (cover, " +
        'executive summary, findings table, finding details, scan metadata and how to verify it); JSON is the whole ' +
        'structured result (ScanReport); CSV one row per finding; SARIF 2.1.0 for code scanning tools, DefectDojo ' +
        'and SIEMs. Only completed scans export (409). A PDF needs Chromium on the server (503 otherwise).',
      auth: 'user',
      pathId: scanId,
      body: { schema: ExportBody, fields: { format: formatChoice }, example: { format: 'pdf' } },
      responses: { 200: exportFile, ...exportErrors },
    },
    {
      method: 'get',
      path: '/scans/{id}/export/',
      operationId: 'downloadScanExport',
      tags: [TAGS.reports],
      summary: 'Download a completed scan as a file (for browsers and `curl -OJ`)',
      description: 'The same as POST /scans/{id}/export/, with the format in the query.',
      auth: 'user',
      pathId: scanId,
      query: ExportQuery,
      queryFields: { format: formatChoice },
      responses: { 200: exportFile, ...exportErrors },
    },
    {
      method: 'get',
      path: '/scans/{id}/export/verify/',
      operationId: 'verifyScanExport',
      tags: [TAGS.reports],
      summary: "Verify a report's digest against the event store",
      description:
        "Reads the scan's event stream as the store holds it now and says whether the digest a report states is " +
        'that of its events (every prefix is checked: a report of a stream that has grown since still matches, with ' +
        '`current: false`). How the digest is computed: docs/reports.md.',
      auth: 'user',
      pathId: scanId,
      query: VerifyQuery,
      queryFields: {
        digest: 'The digest as the report prints it: 64 hex digits, with or without a `sha256:` prefix.',
      },
      responses: {
        200: {
          description: 'The check (a digest that does not match is a 200 too, with `matches: false`).',
          schema: responses.ExportVerification,
          example: example.exportVerification,
        },
      },
    },
    ...scannerOperations(scanners, configSchemas),
    {
      method: 'post',
      path: '/nuclei/templates/',
      operationId: 'uploadNucleiTemplate',
      tags: [TAGS.templates],
      summary: 'Upload a nuclei template',
      description:
        'The YAML itself (Content-Type application/x-yaml, application/yaml, text/yaml or text/x-yaml), or JSON ' +
        '`{"template": "<yaml>"}`. It is loaded by the engine first: bad YAML or anything outside the supported ' +
        'subset is a 400 `invalid_template` naming the line and key (`details.fields.template`, `details.issues`); ' +
        "a template larger than your plan allows is a 400 `template_too_large`; the plan's count a 403 " +
        '`template_limit_reached`; a YAML `id:` you already have a 409 `template_id_taken`. Another content type is ' +
        'a 415.',
      auth: 'user',
      body: {
        schema: UploadBody,
        fields: { template: 'The template YAML (the format: docs/scanners/nuclei.md).' },
        example: { template: example.NUCLEI_TEMPLATE_YAML },
        alternatives: {
          'application/x-yaml': YAML_BODY,
          'application/yaml': YAML_BODY,
          'text/yaml': YAML_BODY,
          'text/x-yaml': YAML_BODY,
        },
      },
      responses: {
        201: { description: 'The template.', schema: responses.NucleiTemplate, example: example.nucleiTemplate },
        400: {
          description:
            'Invalid input: `invalid_template` (what the engine refused, by line), `template_too_large` ' +
            '(`details.max_template_bytes`) or `validation_error`.',
          schema: responses.ValidationErrorBody,
          example: {
            error: 'The template cannot be used: the dns protocol is not supported: only http templates run here',
            code: 'invalid_template',
            details: {
              fields: { template: ['line 9: dns: the dns protocol is not supported: only http templates run here'] },
              issues: [
                { line: 9, path: 'dns', message: 'the dns protocol is not supported: only http templates run here' },
              ],
            },
          },
        },
        403: {
          description: "Your plan's template count is reached (`template_limit_reached`).",
          schema: responses.ErrorBody,
          example: {
            error: 'Your plan allows 5 nuclei templates; delete one or upgrade your plan.',
            code: 'template_limit_reached',
            details: { limit: 5, count: 5, upgrade_url: '/pricing/' },
          },
        },
        409: {
          description: 'You already have a template with this YAML `id:` (`template_id_taken`).',
          schema: responses.ErrorBody,
          example: {
            error: 'You already have a template with id "acme-internal-status"; delete it first or change the id.',
            code: 'template_id_taken',
            details: { template_id: 'acme-internal-status', existing: '2b7e1516-28ae-4d2a-a6f7-15880927cf4f' },
          },
        },
        415: {
          description: 'The body is neither YAML nor JSON.',
          schema: responses.ErrorBody,
          example: {
            error: 'Send the template as YAML (Content-Type: application/x-yaml) or as JSON {"template": "<yaml>"}.',
            code: 'unsupported_media_type',
          },
        },
      },
    },
    {
      method: 'get',
      path: '/nuclei/templates/',
      operationId: 'listNucleiTemplates',
      tags: [TAGS.templates],
      summary: 'Your nuclei templates',
      description: "Newest first, without their YAML; with your plan's limits.",
      auth: 'user',
      responses: {
        200: {
          description: 'The templates.',
          schema: responses.NucleiTemplateList,
          example: example.nucleiTemplateList,
        },
      },
    },
    {
      method: 'get',
      path: '/nuclei/templates/{id}/',
      operationId: 'getNucleiTemplate',
      tags: [TAGS.templates],
      summary: 'A nuclei template, with its YAML',
      auth: 'user',
      pathId: templateId,
      responses: {
        200: { description: 'The template.', schema: responses.NucleiTemplate, example: example.nucleiTemplate },
      },
    },
    {
      method: 'delete',
      path: '/nuclei/templates/{id}/',
      operationId: 'deleteNucleiTemplate',
      tags: [TAGS.templates],
      summary: 'Delete a nuclei template',
      description: 'Its slot on your plan is free again. Scans already requested still run the copy they carry.',
      auth: 'user',
      pathId: templateId,
      responses: {
        200: {
          description: 'Deleted.',
          schema: responses.NucleiTemplateDeleted,
          example: example.nucleiTemplateDeleted,
        },
      },
    },
    ...targetOperations,
    {
      method: 'get',
      path: '/findings/',
      operationId: 'listFindings',
      tags: [TAGS.findings],
      summary: 'Your findings across scans',
      description: 'One entry per weakness per target (its fingerprint), with its lifecycle.',
      auth: 'user',
      query: AllFindingsQuery,
      queryFields: { ...findingFilters, target_id: 'Only findings of this target.' },
      responses: {
        200: {
          description: 'A page of findings.',
          schema: responses.TrackedFindingPage,
          example: example.page([example.trackedFinding]),
        },
      },
    },
    {
      method: 'get',
      path: '/findings/{id}/',
      operationId: 'getFinding',
      tags: [TAGS.findings],
      summary: 'A finding and its history',
      auth: 'user',
      pathId: { description: 'The finding id (its fingerprint: 32 hex characters).', pattern: '^[0-9a-f]{32}$' },
      responses: {
        200: {
          description: 'The finding.',
          schema: responses.TrackedFindingDetail,
          example: example.trackedFindingDetail,
        },
      },
    },
    {
      method: 'post',
      path: '/admin/users/{id}/subscription/',
      operationId: 'adminChangePlan',
      tags: [TAGS.operator],
      summary: "Change a user's plan",
      description: "The new plan's monthly credits apply at once (credits already used this month stay used).",
      auth: 'admin',
      pathId: { description: 'The user id.' },
      body: { schema: PlanBody, example: { plan: 'startup' } },
      responses: {
        200: { description: 'Changed.', schema: responses.AdminPlanChanged, example: example.adminPlanChanged },
      },
    },
    {
      method: 'post',
      path: '/admin/users/{id}/credits/',
      operationId: 'adminAddCredits',
      tags: [TAGS.operator],
      summary: 'Add purchased credits',
      description: 'Purchased credits never expire and are spent after the monthly ones.',
      auth: 'admin',
      pathId: { description: 'The user id.' },
      body: {
        schema: CreditsBody,
        fields: { reason: 'Why (e.g. an invoice id); kept in the ledger.' },
        example: { credits: 50, reason: 'invoice 2025-0042' },
      },
      responses: {
        200: { description: 'Added.', schema: responses.AdminCreditsAdded, example: example.adminCreditsAdded },
      },
    },
  ];
}
