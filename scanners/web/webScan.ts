/**
 * The native web scan engine (`zap`): spider + ZAP's passive rules (baseline), plus the
 * active checks (full), on the pinned, bounded HTTP client (scanners/shared/httpClient.ts):
 * every request goes to `address` with the target's name in Host and SNI, never off the
 * origin. Returns normalized findings and the `scan_result` (webResult.ts).
 *
 * Also used by the OpenVAS-style scanner for the web ports it finds (`scanWebApp`).
 */
import { randomBytes } from 'node:crypto';
import type { ScannerFinding } from '../../domain/shared/finding.js';
import { ScanAbortedError, TargetUnreachableError } from '../shared/errors.js';
import {
  createHttpClient,
  formatOrigin,
  HttpBudgetError,
  HttpRequestError,
  type HttpClient,
} from '../shared/httpClient.js';
import type { RaisedAlert } from './alerts.js';
import { createAlertReport } from './alertReport.js';
import { createCookieJar } from './cookieJar.js';
import { endpointsOf, insertionPointsOf, type InsertionPoint } from './endpoints.js';
import { checkInsertionPoint, type ActiveContext } from './injectionChecks.js';
import { passiveAlerts } from './passiveRules.js';
import {
  backupFiles,
  csrfTokenChecks,
  directoryListings,
  exposedFiles,
  httpMethods,
  storedXssSweep,
  type SiteContext,
} from './siteChecks.js';
import { crawl, directoryOf, type CrawlResult } from './spider.js';
import { boundedResult, WebScanResultSchema, type WebScanResult } from './webResult.js';
import { ACTIVE_RULES, PASSIVE_RULES } from './zapRules.js';

export interface WebScanInput {
  /** The checked IP to connect to (never a name). */
  readonly address: string;
  /** The origin to scan, named as the user named it (Host header, SNI, locations). */
  readonly origin: { readonly scheme: 'http' | 'https'; readonly hostname: string; readonly port: number };
  /** Where to start (default '/'); the spider stays under its directory. May carry a query. */
  readonly startPath?: string;
  readonly mode: 'baseline' | 'full';
  readonly spider: boolean;
  readonly signal: AbortSignal;
  readonly onProgress?: (progress: { percent: number; phase: string }) => void;
  readonly budget?: { readonly maxRequests?: number; readonly totalTimeMs?: number };
  /** Notes to carry into the result (e.g. why the scheme differs from the target's). */
  readonly notes?: readonly string[];
  /** Requests sent before the scan for it (probing the scheme), added to `requests_sent`. */
  readonly extraRequests?: number;
  /** Caps for tests and benchmarks (defaults by mode). */
  readonly limits?: Partial<WebScanLimits>;
}

export interface WebScanLimits {
  readonly maxPages: number;
  readonly maxDepth: number;
  readonly maxRequests: number;
  readonly totalTimeMs: number;
  readonly concurrency: number;
  readonly maxResponseBytes: number;
  readonly requestTimeoutMs: number;
  /** Insertion points (parameters) attacked at most (full). */
  readonly maxInsertionPoints: number;
}

export const DEFAULT_LIMITS: Readonly<Record<'baseline' | 'full', WebScanLimits>> = {
  baseline: {
    maxPages: 500,
    maxDepth: 10,
    maxRequests: 2_500,
    totalTimeMs: 15 * 60_000,
    concurrency: 4,
    maxResponseBytes: 1024 * 1024,
    requestTimeoutMs: 15_000,
    maxInsertionPoints: 0,
  },
  full: {
    maxPages: 1_000,
    maxDepth: 10,
    maxRequests: 25_000,
    totalTimeMs: 60 * 60_000,
    concurrency: 4,
    maxResponseBytes: 1024 * 1024,
    requestTimeoutMs: 15_000,
    maxInsertionPoints: 500,
  },
};

function randomToken(length = 10): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  const bytes = randomBytes(Math.max(1, length));
  let out = '';
  for (let i = 0; i < length; i++) out += alphabet[bytes[i]! % alphabet.length];
  return out;
}

/** Runs `work` over `items` with `concurrency` at once; a budget error stops the rest. */
async function pool<T>(
  items: readonly T[],
  concurrency: number,
  work: (item: T) => Promise<void>,
): Promise<string | null> {
  let next = 0;
  let stopped: string | null = null;
  const workers = Array.from({ length: Math.max(1, concurrency) }, async () => {
    while (next < items.length && !stopped) {
      const item = items[next++]!;
      try {
        await work(item);
      } catch (error) {
        if (error instanceof HttpBudgetError) stopped = budgetLimit(error);
        else throw error;
      }
    }
  });
  await Promise.all(workers);
  return stopped;
}

function budgetLimit(error: HttpBudgetError): string {
  return /time/.test(error.message) ? 'time' : /bytes/.test(error.message) ? 'max_bytes' : 'max_requests';
}

export async function scanWebApp(input: WebScanInput): Promise<{ findings: ScannerFinding[]; result: WebScanResult }> {
  const started = Date.now();
  const limits: WebScanLimits = {
    ...DEFAULT_LIMITS[input.mode],
    ...input.limits,
    ...(input.budget?.maxRequests !== undefined ? { maxRequests: input.budget.maxRequests } : {}),
    ...(input.budget?.totalTimeMs !== undefined ? { totalTimeMs: input.budget.totalTimeMs } : {}),
  };
  const origin = { ...input.origin, hostname: input.origin.hostname.toLowerCase() };
  const originUrl = formatOrigin(origin);
  const startPath = input.startPath && input.startPath.startsWith('/') ? input.startPath : '/';
  const startUrl = `${originUrl}${startPath}`;
  let percent = 0;
  const progress = (value: number, phase: string) => {
    percent = Math.max(percent, Math.min(100, Math.round(value * 10) / 10));
    input.onProgress?.({ percent, phase });
  };
  progress(0, 'starting');

  const client: HttpClient = createHttpClient({
    origin,
    address: input.address,
    signal: input.signal,
    maxRequests: limits.maxRequests,
    concurrency: limits.concurrency,
    maxResponseBytes: limits.maxResponseBytes,
    requestTimeoutMs: limits.requestTimeoutMs,
    totalTimeMs: limits.totalTimeMs,
  });
  const report = createAlertReport({ startUrl, engine: 'zap' });
  const raise = (alert: RaisedAlert) => report.raise(alert);
  const jar = createCookieJar();
  const limitsReached = new Set<string>();
  const listedDirectories = new Set<string>();
  const full = input.mode === 'full';
  const spiderShare = full ? 30 : 95;

  try {
    let crawled: CrawlResult;
    try {
      crawled = await crawl({
        client,
        startUrl,
        follow: input.spider,
        maxPages: limits.maxPages,
        maxDepth: limits.maxDepth,
        concurrency: limits.concurrency,
        jar,
        signal: input.signal,
        // In full, the crawl keeps most of the time for the active checks.
        ...(full ? { deadline: started + limits.totalTimeMs * 0.4 } : {}),
        onExchange: (exchange) => {
          for (const alert of passiveAlerts(exchange, { now: Date.now() })) {
            if (alert.alertRef === '10033') listedDirectories.add(new URL(exchange.url).pathname);
            raise(alert);
          }
        },
        onPage: (pages) => progress((Math.min(pages, limits.maxPages) / limits.maxPages) * spiderShare, 'spider'),
      });
    } catch (error) {
      if (input.signal.aborted) throw new ScanAbortedError('web scan aborted');
      if (error instanceof HttpRequestError) {
        throw new TargetUnreachableError(`${startUrl} could not be fetched: ${error.message}`, 'target_unreachable');
      }
      if (error instanceof HttpBudgetError) throw new TargetUnreachableError(`${startUrl}: ${error.message}`);
      throw error;
    }
    for (const limit of crawled.limitsReached) limitsReached.add(limit);
    progress(spiderShare, full ? 'active scan' : 'passive scan');

    if (full && !limitsReached.has('time') && !limitsReached.has('max_requests')) {
      const storedProbes = new Map<string, InsertionPoint>();
      const activeContext: ActiveContext = { client, jar, raise, random: randomToken, storedProbes };
      const siteContext: SiteContext = { client, jar, raise, random: randomToken };
      const endpoints = endpointsOf(crawled.pages, crawled.forms, 250);
      const points = insertionPointsOf(endpoints, limits.maxInsertionPoints);
      const startDirectory = directoryOf(new URL(startUrl).pathname);
      const directories = [...new Set(['/', startDirectory])];
      // Exposed files first (few requests, high value), then the parameters, keeping 15 % of
      // the requests and time for the other site checks.
      let stop: string | null = null;
      try {
        progress(spiderShare, 'exposed files');
        await exposedFiles(siteContext, directories);
      } catch (error) {
        if (!(error instanceof HttpBudgetError)) throw error;
        stop = budgetLimit(error);
      }
      let done = 0;
      if (!stop) {
        stop = await pool(points, limits.concurrency, async (point) => {
          if (input.signal.aborted) throw new ScanAbortedError('web scan aborted');
          if (client.stats().requests > limits.maxRequests * 0.85) throw new HttpBudgetError('the requests budget');
          if (Date.now() - started > limits.totalTimeMs * 0.85) throw new HttpBudgetError('the time budget');
          await checkInsertionPoint(activeContext, point);
          done++;
          progress(spiderShare + (done / Math.max(1, points.length)) * 45, 'active scan');
        });
      }
      if (stop) limitsReached.add(stop);
      const siteChecks: [string, () => Promise<void>][] = [
        ['backup files', () => backupFiles(siteContext, crawled.pages)],
        ['directory browsing', () => directoryListings(siteContext, crawled.pages, listedDirectories)],
        [
          'http methods',
          () =>
            httpMethods(
              siteContext,
              new URL(startUrl).pathname,
              crawled.pages.filter((p) => p.status === 401 || p.status === 403),
            ),
        ],
        ['csrf tokens', () => csrfTokenChecks(siteContext, crawled.forms, endpoints)],
        ['stored xss', () => storedXssSweep(siteContext, crawled.pages, storedProbes)],
      ];
      let index = 0;
      for (const [phase, check] of siteChecks) {
        if (client.stats().requests >= limits.maxRequests) break;
        if (input.signal.aborted) throw new ScanAbortedError('web scan aborted');
        progress(75 + (index / siteChecks.length) * 24, phase);
        try {
          await check();
        } catch (error) {
          if (error instanceof HttpBudgetError) {
            limitsReached.add(budgetLimit(error));
            break;
          }
          throw error;
        }
        index++;
      }
    }
    if (input.signal.aborted) throw new ScanAbortedError('web scan aborted');
    const stats = client.stats();

    const rulesRun = [
      ...PASSIVE_RULES.map((r) => ({ ...r, type: 'passive' as const })),
      ...(full ? ACTIVE_RULES.map((r) => ({ ...r, type: 'active' as const })) : []),
    ];
    const build = (instances: number, urls: number): WebScanResult => ({
      engine: 'zap',
      mode: input.mode,
      spider: input.spider,
      site: originUrl,
      start_url: startUrl,
      pages_crawled: crawled.pages.length,
      requests_sent: stats.requests + (input.extraRequests ?? 0),
      duration_ms: Date.now() - started,
      rules_run: rulesRun,
      alerts: report.reportAlerts(instances),
      urls: crawled.pages.slice(0, urls).map((p) => p.url),
      off_origin: crawled.offOrigin,
      limits_reached: [...limitsReached],
      truncated: crawled.pages.length > urls,
      notes: [...(input.notes ?? [])],
    });
    const result = boundedResult((instances) => build(instances, 200));
    progress(100, 'done');
    return { findings: report.findings(), result: WebScanResultSchema.parse(result) };
  } finally {
    client.close();
  }
}
