/**
 * What the handlers answer, in zod, for the OpenAPI document. Each schema mirrors a
 * view of `http/*.routes.ts` (`profileView`, `targetView`, `scanView`, `findingView`,
 * `trackedFindingView`, …); `test/http/openapi.test.ts` checks real answers of the app
 * against them, so a view that changes without its schema fails a test.
 */
import { z } from 'zod';
import { PLAN_IDS } from '../../domain/accounts/plans.js';
import { FINDING_STATUSES } from '../../domain/findings/findingLifecycle.js';
import { SCAN_STATUSES } from '../../domain/scans/scan.events.js';
import { CONFIDENCES, RISKS } from '../../domain/shared/finding.js';
import { TARGET_TYPES } from '../../domain/targets/targetValue.js';
import { NUCLEI_SEVERITIES } from '../../scanners/nuclei/templateParser.js';
import type { AnyScannerPlugin } from '../../scanners/shared/scanner.js';
import { described, named } from './registry.js';

const timestamp = () => z.iso.datetime({ offset: true });
const nullableTimestamp = () => timestamp().nullable();
const uuid = () => z.uuid();
const count = () => z.number().int().min(0);
/** null means unlimited. */
const limit = (what: string) => described(count().nullable(), `${what}; null means unlimited.`);

export const PlanId = named('PlanId', z.enum(PLAN_IDS), 'A subscription plan.');
export const Risk = named('Risk', z.enum(RISKS), 'Risk of a finding, most severe first.');
export const ScanStatus = named(
  'ScanStatus',
  z.enum(SCAN_STATUSES),
  'pending → queued → running → completed | failed | cancelled.',
);
export const FindingStatus = named(
  'FindingStatus',
  z.enum(FINDING_STATUSES),
  'new (first seen), open (seen again), fixed (a later scan that looked there did not see it), reopened.',
);

// ---------------------------------------------------------------- errors

export const ErrorBody = named(
  'Error',
  z.object({
    error: described(z.string(), 'What went wrong, for a human.'),
    code: described(z.string(), 'What went wrong, for a program (e.g. `not_found`, `target_inactive`).'),
    details: described(z.record(z.string(), z.unknown()), 'More about it, when there is more.').optional(),
  }),
  'Every error: `{error, code, details?}` with the status that fits.',
);

export const ValidationErrorBody = named(
  'ValidationError',
  z.object({
    error: z.string(),
    code: z.string(),
    details: z
      .object({
        fields: described(
          z.record(z.string(), z.array(z.string())),
          'Messages per field; nested fields are dotted (`scan_config.port_range`); `_` is the body as a whole.',
        ).optional(),
        max_depth: described(
          z.number().int().optional(),
          'json_too_deep: the deepest nesting of objects and arrays a body may have.',
        ),
      })
      .catchall(z.unknown())
      .optional(),
  }),
  'A 400: the request is not valid. `details.fields` names each field in error (json_too_deep: ' +
    '`details.max_depth` instead).',
);

export const PaymentRequiredBody = named(
  'InsufficientCredits',
  z.object({
    error: z.literal('Insufficient scan credits'),
    code: z.literal('insufficient_credits'),
    required: described(count(), 'Credits this scan costs.'),
    available: described(count(), 'Credits you have now (monthly + purchased).'),
    monthly_credits: described(count(), "This month's credits left."),
    purchased_credits: described(count(), 'Purchased credits left (they never expire).'),
    scanner_type: z.string(),
    scan_profile: z.string(),
    upgrade_url: z.string(),
  }),
  'A 402: the scan costs more credits than you have. Nothing was charged.',
);

export const RateLimitedBody = named(
  'RateLimited',
  z.object({
    error: z.string(),
    code: described(
      z.enum(['rate_limited', 'monthly_quota_exceeded', 'login_throttled']),
      "rate_limited: an hourly limit; monthly_quota_exceeded: the plan's monthly requests; login_throttled: " +
        'too many failed logins for this account (a wait that grows from 30 s to at most 15 min).',
    ),
    details: z.object({
      tier: described(
        z.string().optional(),
        'The limit that was hit: general, registration, login, scan_operations, monthly_quota or ' +
          'operator_authentication (failed operator tokens per address).',
      ),
      limit: z.number().int().optional(),
      retry_after: described(z.number().int(), 'Seconds to wait (also the Retry-After header).'),
    }),
  }),
  'A 429: a rate limit or the monthly request quota is used up; retry after `Retry-After` seconds.',
);

export const InternalErrorBody = named(
  'InternalError',
  z.object({ error: z.string(), code: z.literal('internal_error'), request_id: z.string() }),
  'A 500: a bug on our side; quote request_id (also the X-Request-Id header) when you report it.',
);

// ---------------------------------------------------------------- public

export const Health = named('Health', z.object({ status: z.enum(['ok', 'starting']) }));

export const Plans = named(
  'Plans',
  z.object({
    plans: z.array(
      z.object({
        id: PlanId,
        name: z.string(),
        price_usd_per_month: z.number().min(0),
        api_requests_per_month: limit('API requests per calendar month (UTC)'),
        scan_credits_per_month: count(),
        targets_limit: limit('Targets you may hold'),
      }),
    ),
    scan_costs: z.array(
      named(
        'ScanPrice',
        z.object({
          scanner_type: z.string(),
          scan_profile: z.string(),
          credits: count(),
          typical_minutes: z.number().min(0),
          description: z.string(),
        }),
        'A row of the price list: what one scan of a scanner profile costs.',
      ),
    ),
    notes: z.object({ unlimited: z.string(), credits: z.string() }),
  }),
  'The plans and what each scan costs.',
);

// ---------------------------------------------------------------- accounts

const sessionTokens = {
  access: described(z.string(), 'Access token (JWT, 15 minutes): `Authorization: Bearer <access>`.'),
  refresh: described(z.string(), 'Refresh token (JWT, 7 days, works once): POST /auth/refresh/.'),
  access_expires_at: timestamp(),
  refresh_expires_at: timestamp(),
};

export const SessionTokens = named('SessionTokens', z.object(sessionTokens), 'A new access and refresh token.');

export const Registered = named(
  'Registered',
  z.object({
    message: z.string(),
    user: z.object({
      id: uuid(),
      email: z.email(),
      first_name: z.string(),
      last_name: z.string(),
      date_joined: timestamp(),
      subscription_type: PlanId,
    }),
    ...sessionTokens,
  }),
);

export const LoggedIn = named(
  'LoggedIn',
  z.object({
    ...sessionTokens,
    user: z.object({
      user_email: z.string(),
      subscription_type: PlanId,
      sites_limit: limit('Targets you may hold'),
      scans_per_month: described(count(), 'Scan credits per month.'),
    }),
  }),
);

export const PasswordChanged = named(
  'PasswordChanged',
  z.object({
    message: z.string(),
    ...sessionTokens,
    revoked_api_keys: described(
      z.array(uuid()),
      'The ids of the API keys this change revoked (every active one): create new ones.',
    ),
  }),
  'Every other session is signed out and every API key revoked; these tokens are the new session.',
);

export const Profile = named(
  'Profile',
  z.object({
    user_email: z.string(),
    user_first_name: z.string(),
    user_last_name: z.string(),
    subscription_type: PlanId,
    sites_limit: limit('Targets you may hold'),
    scans_per_month: described(count(), 'Scan credits per month.'),
    monthly_usage: described(count(), 'Scans started this calendar month (UTC).'),
    can_add_site: z.boolean(),
    sites_count: count(),
  }),
);

export const Stats = named(
  'Stats',
  z.object({
    user: z.object({ id: uuid(), email: z.string(), date_joined: timestamp() }),
    subscription: z.object({ type: PlanId, status: z.literal('active') }),
    usage: z.object({
      targets_count: count(),
      targets_limit: limit('Targets you may hold'),
      monthly_scans_used: count(),
      monthly_scans_limit: count(),
    }),
    recent_activity: z.object({
      latest_scans: described(
        z.array(
          z.object({
            id: uuid(),
            target_id: uuid(),
            scanner_type: z.string(),
            status: ScanStatus,
            risk_level: Risk.nullable(),
            created_at: timestamp(),
          }),
        ),
        'The five most recent scans.',
      ),
      active_targets: count(),
    }),
  }),
);

const creditFigures = {
  monthly_allowance: count(),
  monthly_remaining: count(),
  purchased: count(),
  available: described(count(), 'monthly_remaining + purchased.'),
  reserved: described(count(), 'Held by scans that have not ended yet.'),
};

export const Subscription = named(
  'Subscription',
  z.object({
    subscription_type: PlanId,
    status: z.literal('active'),
    plan: z.object({ id: PlanId, name: z.string(), price_usd_per_month: z.number().min(0) }),
    limits: z.object({
      api_requests_per_month: limit('API requests per calendar month (UTC)'),
      scan_credits_per_month: count(),
      targets: limit('Targets you may hold'),
    }),
    usage: z.object({ api_requests_this_month: count(), scans_this_month: count(), targets: count() }),
    credits: z.object(creditFigures),
    period: z.object({ start: timestamp(), end: timestamp() }),
  }),
);

const ledgerBase = { id: described(count(), 'Position of the event in the event store.'), at: timestamp() };
const LedgerEntry = named(
  'LedgerEntry',
  z.discriminatedUnion('type', [
    z.object({ ...ledgerBase, type: z.literal('AccountOpened'), credits: z.literal(0), plan: PlanId }),
    z.object({ ...ledgerBase, type: z.literal('PlanChanged'), credits: z.literal(0), from: PlanId, to: PlanId }),
    z.object({
      ...ledgerBase,
      type: z.literal('MonthlyCreditsGranted'),
      credits: count(),
      period: described(z.string(), 'YYYY-MM (UTC).'),
      bucket: z.literal('monthly'),
    }),
    z.object({
      ...ledgerBase,
      type: z.literal('CreditsPurchased'),
      credits: count(),
      bucket: z.literal('purchased'),
      reason: z.string(),
    }),
    z.object({
      ...ledgerBase,
      type: z.literal('CreditsReserved'),
      credits: described(z.number().int().max(0), 'Negative: the credits held for the scan.'),
      scan_id: uuid(),
      from_monthly: count(),
      from_purchased: count(),
    }),
    z.object({
      ...ledgerBase,
      type: z.literal('CreditsSpent'),
      credits: z.literal(0),
      scan_id: uuid(),
      spent: count(),
    }),
    z.object({
      ...ledgerBase,
      type: z.literal('CreditsRefunded'),
      credits: count(),
      scan_id: uuid(),
      to_monthly: count(),
      to_purchased: count(),
      reason: z.string(),
    }),
  ]),
  'One credit movement, straight from an event of the account stream.',
);

export const Credits = named(
  'Credits',
  z.object({
    subscription_type: PlanId,
    balance: z.object({ period: described(z.string(), 'YYYY-MM (UTC).'), ...creditFigures }),
    history: z.object({
      count: described(count(), 'Ledger entries in all.'),
      limit: described(z.number().int().min(1).max(500), 'Entries per page (page_size and limit are the same).'),
      offset: described(count(), 'Entries skipped.'),
      page: z.number().int().min(1),
      page_size: z.number().int().min(1).max(500),
      next: described(z.string().nullable(), 'Link to the next page (as limit and offset), or null.'),
      previous: described(z.string().nullable(), 'Link to the previous page (as limit and offset), or null.'),
      results: described(z.array(LedgerEntry), 'Newest first.'),
    }),
  }),
  'The credit balance and the ledger behind it.',
);

// ---------------------------------------------------------------- API keys

export const ApiKey = named(
  'ApiKey',
  z.object({
    id: uuid(),
    name: z.string(),
    prefix: described(z.string(), 'The first characters of the key, to recognise it.'),
    created_at: timestamp(),
    revoked_at: nullableTimestamp(),
    active: z.boolean(),
  }),
);

export const ApiKeyList = named('ApiKeyList', z.object({ count: count(), results: z.array(ApiKey) }));

export const ApiKeyCreated = named(
  'ApiKeyCreated',
  z.object({
    id: uuid(),
    name: z.string(),
    prefix: z.string(),
    key: described(
      z.string().regex(/^sk_[0-9a-f]{32}_[A-Za-z0-9_-]{43}$/),
      'The key: shown only now. Send it as `Authorization: Bearer sk_…`.',
    ),
    created_at: timestamp(),
    message: z.string(),
  }),
);

// ---------------------------------------------------------------- targets

const TargetType = named('TargetType', z.enum(TARGET_TYPES), 'ip, hostname, url or range (CIDR).');

export const Target = named(
  'Target',
  z.object({
    id: uuid(),
    url: described(z.string(), 'The target value as stored (also for IPs and hostnames).'),
    name: z.string(),
    scan_frequency: z.literal('manual'),
    active: z.boolean(),
    created_at: timestamp(),
    latest_scan: described(
      z
        .object({
          id: uuid(),
          scanner_type: z.string(),
          scan_type: z.string(),
          status: ScanStatus,
          created_at: timestamp(),
          completed_at: nullableTimestamp(),
          risk_level: Risk.nullable(),
          security_score: z.number().min(0).max(100).nullable(),
        })
        .nullable(),
      'The most recently requested scan; null before the first one.',
    ),
    risk_level: described(Risk.nullable(), "The latest completed scan's risk level; null before one completes."),
    can_scan: z.boolean(),
    target_value: described(z.string(), 'Normalized: canonical IP, lower-case hostname, normalized URL or CIDR.'),
    target_type: TargetType,
    description: z.string(),
    updated_at: timestamp(),
  }),
  'A target: an IP, hostname, URL or CIDR range you may scan (also served under its older name, website).',
);

/** A page of a collection: `count` in all, links to the next and previous pages. */
function page<Item extends z.ZodType>(id: string, item: Item) {
  return named(
    id,
    z.object({
      count: described(count(), 'Items in all pages.'),
      page: z.number().int().min(1),
      page_size: z.number().int().min(1).max(100),
      next: described(z.string().nullable(), 'Link to the next page (same query), or null.'),
      previous: described(z.string().nullable(), 'Link to the previous page, or null.'),
      results: z.array(item),
    }),
  );
}

export const TargetPage = page('TargetPage', Target);

export const TargetDeleted = named(
  'TargetDeleted',
  z.object({
    id: uuid(),
    deleted: z.literal(true),
    cancelled_scans: described(
      z.array(uuid()),
      'The scans of the target that had not ended (pending, queued, running): cancelled, their credits refunded.',
    ),
  }),
);

// ---------------------------------------------------------------- scans and findings

export const Finding = named(
  'Finding',
  z.object({
    name: z.string(),
    risk: Risk,
    description: described(z.string(), 'What it is and why it matters.'),
    solution: described(z.string(), 'How to fix it.'),
    location: described(z.string(), 'Where, relative to the target ("443/tcp", a URL, "host:port").'),
    evidence: z.string(),
    fingerprint: described(
      z.string(),
      "The finding's identity: the same weakness at the same place of the same target has the same fingerprint across scans.",
    ),
    rule_id: described(z.string(), "The engine's stable id of the check."),
    engine: z.string(),
    confidence: z.enum(CONFIDENCES),
    cwe: described(z.array(z.number().int().positive()), 'CWE ids.').optional(),
    cve: z.array(z.string()).optional(),
    cvss: z.object({ score: z.number().min(0).max(10), vector: z.string().optional() }).optional(),
    references: z.array(z.string()).optional(),
    sources: described(
      z.array(z.object({ engine: z.string(), rule_id: z.string() })),
      'Other engines that reported the same weakness.',
    ).optional(),
  }),
  'One weakness a scan found; the same shape for every scanner.',
);

const progress = z.object({ percent: z.number().min(0).max(100), phase: z.string() });
const scanError = described(
  z.object({ code: z.string(), reason: z.string() }).nullable(),
  'Why the scan failed; null otherwise.',
);
const securityScore = described(
  z.number().min(0).max(100).nullable(),
  '0-100, 100 meaning nothing found; null before the scan completes.',
);
const changeCount = (what: string) =>
  described(
    count().nullable(),
    `${what} against the previous completed scan of the same target, scanner and coverage; null when there is none.`,
  );

export const Scan = named(
  'Scan',
  z.object({
    id: uuid(),
    website_name: described(z.string(), "The target's name."),
    website_url: described(z.string(), "The target's value."),
    status: ScanStatus,
    risk_level: described(Risk.nullable(), 'The most severe finding; null before the scan completes.'),
    vulnerabilities_found: count(),
    security_score: securityScore,
    vulnerabilities_by_risk: z.object({
      Critical: count(),
      High: count(),
      Medium: count(),
      Low: count(),
      Informational: count(),
    }),
    vulnerabilities_list: described(
      z.array(Finding),
      'The most severe findings (at most 1,000; every one: GET /scans/{id}/findings/).',
    ),
    findings_count: count(),
    vulnerabilities_list_truncated: z.boolean(),
    new_findings: changeCount('Findings new'),
    fixed_findings: changeCount('Findings fixed'),
    compared_with: described(uuid().nullable(), 'The scan new_findings and fixed_findings compare with.'),
    target_id: uuid(),
    scanner_type: z.string(),
    scan_type: described(z.string(), 'The priced profile (nmap: quick, fast or full).'),
    scan_config: described(z.record(z.string(), z.unknown()), 'The scan_config as validated, defaults filled.'),
    progress,
    credits_used: count(),
    created_at: timestamp(),
    started_at: nullableTimestamp(),
    completed_at: nullableTimestamp(),
    duration: described(z.number().min(0).nullable(), 'Seconds from start to end.'),
    error: scanError,
  }),
  'A scan and its findings.',
);

export const ScanPage = page('ScanPage', Scan);

export const ScanStarted = named(
  'ScanStarted',
  z.object({
    scan_id: uuid(),
    status: described(
      z.literal('pending'),
      'pending: the scan is requested; it is queued a moment later (follow it with GET /scans/{id}/).',
    ),
    message: z.string(),
    scan_type: described(z.string(), 'The priced profile.'),
    scanner_type: z.string(),
    target_id: uuid(),
    estimated_duration: described(z.string(), 'Typical duration, e.g. "~1 min".'),
    credits_used: count(),
    credits_remaining: count(),
    created_at: timestamp(),
  }),
  'The scan is accepted; poll GET /scans/{id}/ (or the scanner result endpoint) for its progress.',
);

export const ScanCancelled = named(
  'ScanCancelled',
  z.object({ scan_id: uuid(), status: ScanStatus, message: z.string() }),
);

/** GET /<type>/scan/{id}/: its `scan_result` is the plug-in's own result schema. */
export function scannerResult(plugin: AnyScannerPlugin) {
  return z.object({
    id: uuid(),
    status: ScanStatus,
    target: z.string(),
    target_id: uuid(),
    scan_type: z.string(),
    started_at: nullableTimestamp(),
    completed_at: nullableTimestamp(),
    duration: z.number().min(0).nullable(),
    security_score: securityScore,
    risk_level: Risk.nullable(),
    vulnerabilities_found: count(),
    new_findings: changeCount('Findings new'),
    fixed_findings: changeCount('Findings fixed'),
    progress,
    scan_result: described(plugin.resultSchema.nullable(), `The ${plugin.title} result; null until it completes.`),
    error: scanError,
  });
}

const trackedFields = {
  id: described(z.string().regex(/^[0-9a-f]{32}$/), 'The fingerprint.'),
  ...Finding.shape,
  status: FindingStatus,
  target_id: uuid(),
  target_name: z.string(),
  target: z.string(),
  scanner_type: z.string(),
  first_seen: timestamp(),
  last_seen: timestamp(),
  first_scan_id: uuid(),
  last_scan_id: uuid(),
  scans_seen: described(count(), 'How many scans reported it.'),
  fixed_at: nullableTimestamp(),
  fixed_in_scan_id: uuid().nullable(),
};

export const TrackedFinding = named(
  'TrackedFinding',
  z.object(trackedFields),
  'A finding of a target across its scans, with its lifecycle.',
);

export const TrackedFindingDetail = named(
  'TrackedFindingDetail',
  z.object({
    ...trackedFields,
    history: described(
      z.array(z.object({ at: timestamp(), scan_id: uuid(), status: FindingStatus })),
      'What happened to it, oldest first (the last 100 entries).',
    ),
  }),
);

export const TrackedFindingPage = page('TrackedFindingPage', TrackedFinding);
export const FindingPage = page('FindingPage', Finding);

export const ScanDiff = named(
  'ScanDiff',
  z.object({
    scan_id: uuid(),
    against: uuid(),
    same_target: z.boolean(),
    comparable: described(z.boolean(), 'Same target, scanner and coverage: the comparison means "fixed".'),
    counts: z.object({ new: count(), fixed: count(), unchanged: count() }),
    new: described(z.array(Finding), 'In this scan, not in the other (at most 1,000).'),
    fixed: described(z.array(Finding), 'In the other scan, not in this one (at most 1,000).'),
    truncated: z.boolean(),
  }),
);

// ---------------------------------------------------------------- exports

const sha256Hex = () => z.string().regex(/^[0-9a-f]{64}$/);

export const ExportVerification = named(
  'ExportVerification',
  z.object({
    scan_id: uuid(),
    stream: described(z.string(), 'The event stream the report names: scan-<id>.'),
    digest: described(sha256Hex(), 'The digest checked (lower case, without a sha256: prefix).'),
    digest_algorithm: z.literal('sha256'),
    matches: described(
      z.boolean(),
      'The digest is that of the events 0…covers_revision the store holds now: the report was built from them.',
    ),
    covers_revision: described(
      count().nullable(),
      'The last revision the digest covers; null when it matches no prefix of the stream.',
    ),
    last_revision: described(z.number().int().min(-1), 'The last revision of the stream now.'),
    current: described(z.boolean(), 'matches, and the stream has not grown since the report.'),
    checked_at: timestamp(),
    message: z.string(),
  }),
  'Whether a report digest matches the events the store holds now (docs/reports.md).',
);

// ---------------------------------------------------------------- nuclei templates

const templateSummary = {
  id: described(uuid(), 'The id of the upload: use it in scan_config.templates of a nuclei scan.'),
  template_id: described(z.string(), "The YAML's own `id:` (unique in your library)."),
  name: z.string(),
  severity: z.enum(NUCLEI_SEVERITIES),
  tags: z.array(z.string()),
  rule_id: described(z.string(), 'The rule_id of its findings: nuclei.user.<template_id>.'),
  requests: described(count(), 'Requests the template sends at most.'),
  size_bytes: count(),
  sha256: described(sha256Hex(), 'SHA-256 of the YAML.'),
  created_at: timestamp(),
};

export const NucleiTemplateSummary = named(
  'NucleiTemplateSummary',
  z.object(templateSummary),
  'One of your nuclei templates, without its YAML.',
);

export const NucleiTemplate = named(
  'NucleiTemplate',
  z.object({ ...templateSummary, yaml: described(z.string(), 'The template as uploaded.') }),
  'One of your nuclei templates, with its YAML.',
);

export const NucleiTemplateList = named(
  'NucleiTemplateList',
  z.object({
    count: count(),
    limit: described(count(), 'Templates your plan allows.'),
    max_template_bytes: described(count(), 'The largest template your plan allows, in bytes.'),
    results: described(z.array(NucleiTemplateSummary), 'Newest first.'),
  }),
);

export const NucleiTemplateDeleted = named('NucleiTemplateDeleted', z.object({ id: uuid(), deleted: z.literal(true) }));

// ---------------------------------------------------------------- operator API

const adminCredits = z.object({ available: count(), monthly_remaining: count(), purchased: count() });

export const AdminPlanChanged = named(
  'AdminPlanChanged',
  z.object({ user_id: uuid(), subscription_type: PlanId, credits: adminCredits }),
);

export const AdminCreditsAdded = named(
  'AdminCreditsAdded',
  z.object({ user_id: uuid(), added: z.number().int().min(1), credits: adminCredits }),
);
