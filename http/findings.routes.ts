import { Hono, type Context } from 'hono';
import { z } from 'zod';
import { compareScans, FINDING_STATUSES } from '../domain/findings/findingLifecycle.js';
import { RISKS } from '../domain/shared/finding.js';
import type { FindingDocument, ScanFindingDocument } from '../projections/findings.projection.js';
import type { ScanDocument } from '../projections/scans.projection.js';
import type { TargetDocument } from '../projections/targets.projection.js';
import { requireUser } from './authenticate.js';
import type { AppDeps, AppEnv } from './deps.js';
import { ApiError, notFound } from './errors.js';
import { pageOf, pageParams } from './paging.js';
import { findingView } from './scans.routes.js';
import { pathId, queryParams } from './validation.js';

const ORDERINGS = {
  '-last_seen': { last_seen: -1, _id: 1 },
  last_seen: { last_seen: 1, _id: 1 },
  '-first_seen': { first_seen: -1, _id: 1 },
  first_seen: { first_seen: 1, _id: 1 },
  risk: { risk_rank: 1, last_seen: -1, _id: 1 },
  '-risk': { risk_rank: -1, last_seen: -1, _id: 1 },
} as const;

/** Lists this many findings at most in a diff (the counts are always whole). */
export const DIFF_LIST_CAP = 1_000;

export function findingsQuery(scannerTypes: readonly string[], withTarget: boolean) {
  return z
    .object({
      status: z.enum(FINDING_STATUSES).optional(),
      risk: z.enum(RISKS).optional(),
      scanner_type: z.enum(scannerTypes as [string, ...string[]]).optional(),
      ...(withTarget ? { target_id: z.string().uuid('must be a target id (UUID)').optional() } : {}),
      ordering: z
        .enum(Object.keys(ORDERINGS) as [keyof typeof ORDERINGS], {
          error: `ordering must be one of ${Object.keys(ORDERINGS).join(', ')}`,
        })
        .default('-last_seen'),
      ...pageParams,
    })
    .strict();
}

export const ScanFindingsQuery = z.object({ risk: z.enum(RISKS).optional(), ...pageParams }).strict();
export const DiffQuery = z.object({ against: z.string().uuid('must be a scan id (UUID)') }).strict();

/** A finding across scans, as GET /findings/ lists it. */
export function trackedFindingView(doc: FindingDocument) {
  return {
    id: doc._id,
    ...findingView(doc),
    status: doc.status,
    target_id: doc.target_id,
    target_name: doc.target_name,
    target: doc.target_value,
    scanner_type: doc.scanner_type,
    first_seen: doc.first_seen,
    last_seen: doc.last_seen,
    first_scan_id: doc.first_scan_id,
    last_scan_id: doc.last_scan_id,
    scans_seen: doc.scans_seen,
    fixed_at: doc.fixed_at,
    fixed_in_scan_id: doc.fixed_in_scan_id,
  };
}

/**
 * Findings as their own resource: across scans with their lifecycle (new, open,
 * fixed, reopened), per target, per scan (every finding, paged), and the
 * difference between two scans.
 */
export function findingsRoutes(deps: AppDeps) {
  const app = new Hono<AppEnv>();
  const findings = deps.readModels.collection<FindingDocument>('findings');
  const scanFindings = deps.readModels.collection<ScanFindingDocument>('scan_findings');
  const scans = deps.readModels.collection<ScanDocument>('scans');
  const targets = deps.readModels.collection<TargetDocument>('targets');
  const AllQuery = findingsQuery(deps.scanners.types, true);
  const TargetQuery = findingsQuery(deps.scanners.types, false);

  async function ownedScan(c: Context<AppEnv>, userId: string, id: string): Promise<ScanDocument> {
    const scan = await scans.get(id);
    if (!scan || scan.user_id !== userId) throw notFound('Scan not found.');
    return scan;
  }

  function filterOf(userId: string, query: z.infer<typeof AllQuery>): Record<string, unknown> {
    const filter: Record<string, unknown> = { user_id: userId };
    if (query.status) filter.status = query.status;
    if (query.risk) filter.risk = query.risk;
    if (query.scanner_type) filter.scanner_type = query.scanner_type;
    if ('target_id' in query && query.target_id) filter.target_id = query.target_id;
    return filter;
  }

  app.get('/findings', async (c) => {
    const { userId } = requireUser(c);
    const query = queryParams(c, AllQuery);
    return c.json(
      await pageOf(
        findings,
        filterOf(userId, query),
        ORDERINGS[query.ordering],
        query,
        '/findings/',
        trackedFindingView,
      ),
    );
  });

  app.get('/findings/:id', async (c) => {
    const { userId } = requireUser(c);
    const id = c.req.param('id');
    if (!/^[0-9a-f]{32}$/.test(id)) throw notFound('Finding not found.');
    const doc = await findings.get(id);
    if (!doc || doc.user_id !== userId) throw notFound('Finding not found.');
    return c.json({ ...trackedFindingView(doc), history: doc.history });
  });

  for (const resource of ['targets', 'websites']) {
    app.get(`/${resource}/:id/findings`, async (c) => {
      const { userId } = requireUser(c);
      const targetId = pathId(c);
      const target = await targets.get(targetId);
      if (!target || target.user_id !== userId) throw notFound('Target not found.');
      const query = queryParams(c, TargetQuery);
      return c.json(
        await pageOf(
          findings,
          { ...filterOf(userId, query), target_id: targetId },
          ORDERINGS[query.ordering],
          query,
          `/${resource}/${targetId}/findings/`,
          trackedFindingView,
        ),
      );
    });
  }

  app.get('/scans/:id/findings', async (c) => {
    const { userId } = requireUser(c);
    const scan = await ownedScan(c, userId, pathId(c));
    const query = queryParams(c, ScanFindingsQuery);
    const filter: Record<string, unknown> = { scan_id: scan._id, attempt: scan.attempt };
    if (query.risk) filter.risk = query.risk;
    return c.json(
      await pageOf(scanFindings, filter, { risk_rank: 1, _id: 1 }, query, `/scans/${scan._id}/findings/`, findingView),
    );
  });

  app.get('/scans/:id/diff', async (c) => {
    const { userId } = requireUser(c);
    const scan = await ownedScan(c, userId, pathId(c));
    const { against } = queryParams(c, DiffQuery);
    const other = await ownedScan(c, userId, against.toLowerCase());
    for (const s of [scan, other]) {
      if (s.status !== 'completed') {
        throw new ApiError(
          409,
          `Scan ${s._id} has not completed (${s.status}); only completed scans compare.`,
          'scan_not_completed',
          {
            scan_id: s._id,
            status: s.status,
          },
        );
      }
    }
    const rows = async (s: ScanDocument) =>
      scanFindings.find({ scan_id: s._id, attempt: s.attempt }, { sort: { risk_rank: 1, _id: 1 } });
    const [mine, theirs] = await Promise.all([rows(scan), rows(other)]);
    const diff = compareScans(
      mine.map((f) => f.fingerprint),
      theirs.map((f) => f.fingerprint),
    );
    const added = new Set(diff.added);
    const fixed = new Set(diff.fixed);
    return c.json({
      scan_id: scan._id,
      against: other._id,
      same_target: scan.target_id === other.target_id,
      comparable:
        scan.target_id === other.target_id &&
        scan.scanner_type === other.scanner_type &&
        scan.coverage === other.coverage,
      counts: { new: diff.added.length, fixed: diff.fixed.length, unchanged: diff.unchanged.length },
      new: mine
        .filter((f) => added.has(f.fingerprint))
        .slice(0, DIFF_LIST_CAP)
        .map(findingView),
      fixed: theirs
        .filter((f) => fixed.has(f.fingerprint))
        .slice(0, DIFF_LIST_CAP)
        .map(findingView),
      truncated: diff.added.length > DIFF_LIST_CAP || diff.fixed.length > DIFF_LIST_CAP,
    });
  });

  return app;
}
