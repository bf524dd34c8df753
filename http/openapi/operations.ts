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
import { DiffQuery, findingsQuery, ScanFindingsQuery } from '../findings.routes.js';
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

export interface OperationResponse {
  readonly description: string;
  /** The JSON body (converted with `io: 'output'`). */
  readonly schema?: z.ZodType;
  /** A body already in JSON Schema (the document itself). */
  readonly jsonSchema?: JsonSchema;
  readonly example?: unknown;
}

export interface OperationBody {
  /** The route's own schema (converted with `io: 'input'`: what a client may send). */
  readonly schema: z.ZodType;
  /** Descriptions of its fields. */
  readonly fields?: Readonly<Record<string, string>>;
  /** What the JSON Schema of the route's schema cannot say (e.g. one field of two, per-scanner configs). */
  readonly refine?: (schema: JsonSchema) => JsonSchema;
  readonly example: unknown;
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
  /** Passes through the rate limits (X-RateLimit-* headers, 429). Default: every public and user operation. */
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
  [TAGS.operator]: 'The operator API (billing integration, support): `Authorization: Bearer $SECABLY_ADMIN_TOKEN`.',
};

const targetId = { description: 'The target id.' };
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
        description: 'Its scans and findings stay readable; its slot on your plan is free again.',
        auth: 'user',
        pathId: targetId,
        responses: {
          200: {
            description: 'Deleted.',
            schema: responses.TargetDeleted,
            example: { id: example.TARGET_ID, deleted: true },
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
        'Creates a user on the free plan and logs it in. Password: 10-128 characters, not a common one, not ' +
        'containing the e-mail address. Unknown fields are ignored. 5 registrations per hour per address.',
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
      description: 'A new session: an access token and a refresh token. 20 attempts per hour per address.',
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
      description: 'Signs out every session (their tokens stop working at once) and returns a new one.',
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
      description: 'The key is in this answer only: store it now. Use it as `Authorization: Bearer sk_…`.',
      auth: 'user',
      body: {
        schema: CreateKeyBody,
        fields: { name: 'What the key is for (1-100 characters).' },
        example: { name: 'laptop' },
      },
      responses: { 201: { description: 'The key.', schema: responses.ApiKeyCreated, example: example.apiKeyCreated } },
      errors: [403],
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
      description: 'Every credit movement, newest first, straight from the account stream.',
      auth: 'user',
      query: HistoryQuery,
      queryFields: { limit: 'Ledger entries to return (1-500, default 100).', offset: 'Entries to skip (default 0).' },
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
        'The credits are reserved now and refunded if the scan fails or is cancelled before it ran. ' +
        'Send an `Idempotency-Key` to retry safely.',
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
    ...scannerOperations(scanners, configSchemas),
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
