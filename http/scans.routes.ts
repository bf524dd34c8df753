import { Hono, type Context, type MiddlewareHandler } from 'hono';
import { z } from 'zod';
import { cancelScan } from '../commands/cancelScan.js';
import { requestHash, withIdempotency, type IdempotentAnswer } from '../commands/idempotency.js';
import { requestScan } from '../commands/requestScan.js';
import { SCAN_STATUSES, type ScannerType } from '../domain/scans/scan.events.js';
import type { ScannerRegistry } from '../scanners/registry.js';
import type { Finding } from '../domain/shared/finding.js';
import type { ScanDocument } from '../projections/scans.projection.js';
import { requireUser } from './authenticate.js';
import type { AppDeps, AppEnv } from './deps.js';
import { ApiError, errorBody, notFound, toApiError } from './errors.js';
import { pageOf, pageParams } from './paging.js';
import { jsonBody, pathId, queryParams } from './validation.js';

const uuid = z.string().uuid('must be a target id (UUID)');

/** The request schemas that depend on which scanners exist. */
export function scanSchemas(scanners: ScannerRegistry) {
  const types = scanners.types as [string, ...string[]];
  const scannerType = z.enum(types, { error: `scanner_type must be one of ${types.join(', ')}` });
  const CreateScanBody = z
    .object({
      target_id: uuid.optional(),
      website_id: uuid.optional(),
      scanner_type: scannerType,
      scan_config: z.record(z.string(), z.unknown(), { error: 'scan_config must be an object' }).optional(),
    })
    .strict()
    .superRefine((body, ctx) => {
      if (!body.target_id === !body.website_id) {
        ctx.addIssue({ code: 'custom', path: ['target_id'], message: 'Give target_id (or website_id), once.' });
      }
    });
  const TargetScanBody = z
    .object({
      scanner_type: scannerType.default(types.includes('nmap') ? 'nmap' : types[0]),
      scan_config: z.record(z.string(), z.unknown(), { error: 'scan_config must be an object' }).optional(),
    })
    .strict();
  const ListQuery = z
    .object({
      status: z.enum(SCAN_STATUSES).optional(),
      scanner_type: z.enum(types).optional(),
      target_id: uuid.optional(),
      ...pageParams,
    })
    .strict();
  return { CreateScanBody, TargetScanBody, ListQuery };
}

/** Scanner endpoints take the target and either `scan_config` or the config fields at the top level. */
export const ScannerScanBody = z
  .object({
    target_id: uuid.optional(),
    website_id: uuid.optional(),
    scan_config: z.record(z.string(), z.unknown(), { error: 'scan_config must be an object' }).optional(),
  })
  .catchall(z.unknown())
  .superRefine((body, ctx) => {
    if (!body.target_id === !body.website_id) {
      ctx.addIssue({ code: 'custom', path: ['target_id'], message: 'Give target_id (or website_id), once.' });
    }
  });

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

function idempotencyKey(c: Context): string | undefined {
  const key = c.req.header('idempotency-key');
  if (key === undefined) return undefined;
  if (!IDEMPOTENCY_KEY.test(key)) {
    throw new ApiError(400, 'Idempotency-Key must be 1-255 visible ASCII characters.', 'validation_error', {
      fields: { 'Idempotency-Key': ['1-255 visible ASCII characters'] },
    });
  }
  return key;
}

/** How a refusal becomes an answer worth remembering under an Idempotency-Key (4xx only). */
function refusal(error: unknown): IdempotentAnswer | undefined {
  const apiError = toApiError(error);
  if (!apiError || apiError.status >= 500 || apiError.status === 429) return undefined;
  return { status: apiError.status, body: errorBody(apiError) };
}

/** The 402 body carries its figures at the top level, as the reference shows. */
function paymentRequired(error: unknown): unknown {
  const apiError = toApiError(error);
  if (apiError?.status === 402 && apiError.details) {
    return new ApiError(402, 'Insufficient scan credits', apiError.code, undefined, apiError.details);
  }
  return error;
}

const RISK_KEYS = ['Critical', 'High', 'Medium', 'Low', 'Informational'] as const;

/** GET /scans/{id}/: the reference's fields, then ours. */
export function scanView(scan: ScanDocument, scanners?: ScannerRegistry) {
  return {
    id: scan._id,
    website_name: scan.website_name,
    website_url: scan.website_url,
    status: scan.status,
    risk_level: scan.risk_level,
    vulnerabilities_found: scan.vulnerabilities_found,
    security_score: scan.security_score,
    vulnerabilities_by_risk: Object.fromEntries(RISK_KEYS.map((k) => [k, scan.vulnerabilities_by_risk[k] ?? 0])),
    vulnerabilities_list: scan.findings.map(findingView),
    /** Every finding of the scan (vulnerabilities_list holds the most severe FINDINGS_LIST_CAP). */
    findings_count: scan.findings_count ?? scan.findings.length,
    vulnerabilities_list_truncated: scan.findings_truncated ?? false,
    /** Against the previous completed scan of the same target, scanner and coverage. */
    new_findings: scan.new_findings ?? null,
    fixed_findings: scan.fixed_findings ?? null,
    compared_with: scan.compared_with ?? null,
    target_id: scan.target_id,
    scanner_type: scan.scanner_type,
    scan_type: scan.scan_type,
    scan_config: publicConfig(scan, scanners),
    progress: scan.progress,
    credits_used: scan.credits,
    created_at: scan.created_at,
    started_at: scan.started_at,
    completed_at: scan.completed_at,
    duration: scan.duration,
    error: scan.error,
  };
}

/** The scan_config as its plug-in shows it (what it added at request time stays internal). */
function publicConfig(scan: ScanDocument, scanners: ScannerRegistry | undefined): Record<string, unknown> {
  const plugin = scanners?.get(scan.scanner_type);
  return plugin?.publicConfig ? plugin.publicConfig(scan.scan_config) : scan.scan_config;
}

/** A finding as the API shows it: the reference's fields first, then ours. */
export function findingView(f: Finding) {
  return {
    name: f.name,
    risk: f.risk,
    description: f.description,
    solution: f.solution,
    location: f.location,
    evidence: f.evidence,
    fingerprint: f.fingerprint,
    rule_id: f.rule_id,
    engine: f.engine,
    confidence: f.confidence,
    ...(f.cwe ? { cwe: f.cwe } : {}),
    ...(f.cve ? { cve: f.cve } : {}),
    ...(f.cvss ? { cvss: f.cvss } : {}),
    ...(f.references ? { references: f.references } : {}),
    ...(f.sources ? { sources: f.sources } : {}),
  };
}

/** GET /<scanner>/scan/{id}/: the per-scanner result shape of the reference. */
function scannerResultView(scan: ScanDocument) {
  return {
    id: scan._id,
    status: scan.status,
    target: scan.website_url,
    target_id: scan.target_id,
    scan_type: scan.scan_type,
    started_at: scan.started_at,
    completed_at: scan.completed_at,
    duration: scan.duration,
    security_score: scan.security_score,
    risk_level: scan.risk_level,
    vulnerabilities_found: scan.vulnerabilities_found,
    new_findings: scan.new_findings ?? null,
    fixed_findings: scan.fixed_findings ?? null,
    progress: scan.progress,
    scan_result: scan.scan_result,
    error: scan.error,
  };
}

export function scansRoutes(deps: AppDeps, limits: { scanOperations: MiddlewareHandler<AppEnv> }) {
  const app = new Hono<AppEnv>();
  const scans = deps.readModels.collection<ScanDocument>('scans');
  const { CreateScanBody, TargetScanBody, ListQuery } = scanSchemas(deps.scanners);

  async function ownedScan(c: Context<AppEnv>, userId: string): Promise<ScanDocument> {
    const scan = await scans.get(pathId(c));
    if (!scan || scan.user_id !== userId) throw notFound('Scan not found.');
    return scan;
  }

  async function start(
    c: Context<AppEnv>,
    input: { targetId: string; scannerType: ScannerType; scanConfig: unknown },
    successStatus: 200 | 201,
  ) {
    const { userId } = requireUser(c);
    const key = idempotencyKey(c);
    const hash = requestHash({ path: c.req.path, ...input });
    const answer = await withIdempotency(
      deps,
      userId,
      key,
      hash,
      async (scanId) => {
        const started = await requestScan(deps, userId, input, scanId).catch((error: unknown) => {
          throw paymentRequired(error);
        });
        return {
          status: successStatus,
          body: {
            scan_id: started.scanId,
            // What the command wrote (ScanRequested): the dispatcher queues it a moment later.
            status: 'pending',
            message: 'Scan started successfully',
            scan_type: started.profile,
            scanner_type: input.scannerType,
            target_id: input.targetId,
            estimated_duration: `~${started.estimatedMinutes} min`,
            credits_used: started.credits,
            credits_remaining: started.creditsRemaining,
            created_at: started.createdAt,
          },
        };
      },
      (error) => refusal(paymentRequired(error)),
    );
    if (answer.status >= 400) {
      const body = answer.body as { error?: string; code?: string; details?: Record<string, unknown> };
      const { error: message, code, details, ...extra } = body;
      throw new ApiError(answer.status as 400, message ?? 'Request failed.', code, details, extra);
    }
    return c.json(answer.body, answer.status as 200 | 201);
  }

  app.post('/scans/create', limits.scanOperations, async (c) => {
    requireUser(c);
    const body = await jsonBody(c, CreateScanBody);
    return start(
      c,
      { targetId: (body.target_id ?? body.website_id)!, scannerType: body.scanner_type, scanConfig: body.scan_config },
      201,
    );
  });

  for (const resource of ['targets', 'websites']) {
    app.post(`/${resource}/:id/scan`, limits.scanOperations, async (c) => {
      requireUser(c);
      const targetId = pathId(c);
      const body = await jsonBody(c, TargetScanBody);
      return start(c, { targetId, scannerType: body.scanner_type, scanConfig: body.scan_config }, 200);
    });
  }

  // Every scanner has its own start and result endpoints: /<type>/scan/ and /<type>/scan/{id}/.
  for (const scannerType of deps.scanners.types) {
    app.post(`/${scannerType}/scan`, limits.scanOperations, async (c) => {
      requireUser(c);
      const { target_id, website_id, scan_config, ...flat } = await jsonBody(c, ScannerScanBody);
      if (scan_config && Object.keys(flat).length > 0) {
        throw new ApiError(
          400,
          'Send the scan settings either in scan_config or at the top level, not both.',
          'validation_error',
          {
            fields: { scan_config: ['given twice'] },
          },
        );
      }
      return start(c, { targetId: (target_id ?? website_id)!, scannerType, scanConfig: scan_config ?? flat }, 201);
    });

    app.get(`/${scannerType}/scan/:id`, async (c) => {
      const { userId } = requireUser(c);
      const scan = await ownedScan(c, userId);
      if (scan.scanner_type !== scannerType) throw notFound('Scan not found.');
      return c.json(scannerResultView(scan));
    });
  }

  app.get('/scans', async (c) => {
    const { userId } = requireUser(c);
    const query = queryParams(c, ListQuery);
    const filter: Record<string, unknown> = { user_id: userId };
    if (query.status) filter.status = query.status;
    if (query.scanner_type) filter.scanner_type = query.scanner_type;
    if (query.target_id) filter.target_id = query.target_id;
    return c.json(
      await pageOf(scans, filter, { created_at: -1, _id: -1 }, query, '/scans/', (doc) => scanView(doc, deps.scanners)),
    );
  });

  app.get('/scans/:id', async (c) => {
    const { userId } = requireUser(c);
    return c.json(scanView(await ownedScan(c, userId), deps.scanners));
  });

  app.post('/scans/:id/cancel', async (c) => {
    const { userId } = requireUser(c);
    const scan = await ownedScan(c, userId);
    await cancelScan(deps, userId, scan._id);
    const after = await scans.get(scan._id);
    return c.json({
      scan_id: scan._id,
      status: after?.status ?? 'cancelled',
      message: 'Scan cancelled; its credits are refunded.',
    });
  });

  return app;
}
