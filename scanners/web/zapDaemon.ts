/**
 * A real OWASP ZAP, when the operator runs one: with `ZAP_API_URL` (and `ZAP_API_KEY`)
 * set, a `zap` scan drives that daemon through its JSON API instead of the native
 * engine — spider (when asked), wait for the passive scanner, active scan (full), then
 * read the alerts — and maps them exactly as the native engine's (alertReport.ts):
 * same rule ids (`zap.<alertRef>`), locations, risks; engine 'zap-daemon'.
 *
 * The daemon talks to the target itself (it resolves the name and connects on its own):
 * it is the operator's own deployment, outside the pinned client's guarantees.
 *
 * API calls used (all GET, JSON, key in the `X-ZAP-API-Key` header):
 *   core/view/version, core/action/accessUrl, spider/action/scan, spider/view/status,
 *   spider/view/results, spider/action/stop, pscan/view/recordsToScan, ascan/action/scan,
 *   ascan/view/status, ascan/action/stop, core/view/alerts (paged), core/view/numberOfMessages,
 *   pscan/view/scanners, ascan/view/scanners.
 */
import type { ScannerFinding } from '../../domain/shared/finding.js';
import { ScanAbortedError, ScannerUnavailableError } from '../shared/errors.js';
import type { RaisedAlert } from './alerts.js';
import { createAlertReport } from './alertReport.js';
import { boundedResult, WebScanResultSchema, type WebScanResult } from './webResult.js';
import { ZAP_ALERTS, type ZapAlertDefinition, type ZapConfidence, type ZapRisk } from './zapRules.js';

export interface ZapDaemonSettings {
  /** e.g. http://zap:8080 */
  readonly apiUrl: string;
  readonly apiKey?: string | undefined;
  /** Pause between status polls (default 2 s). */
  readonly pollIntervalMs?: number;
}

export interface ZapDaemonScanInput {
  /** The start URL, named by the target's host name. */
  readonly startUrl: string;
  readonly mode: 'baseline' | 'full';
  readonly spider: boolean;
  readonly signal: AbortSignal;
  readonly onProgress?: (progress: { percent: number; phase: string }) => void;
  /** The whole scan's time budget; scans still running then are stopped. */
  readonly totalTimeMs: number;
}

/** One alert as ZAP's API returns it (core/view/alerts). */
export interface ZapApiAlert {
  readonly pluginId: string;
  readonly alertRef?: string;
  readonly alert?: string;
  readonly name?: string;
  readonly risk: string;
  readonly confidence: string;
  readonly cweid?: string;
  readonly wascid?: string;
  readonly url: string;
  readonly method?: string;
  readonly param?: string;
  readonly attack?: string;
  readonly evidence?: string;
  readonly other?: string;
  readonly description?: string;
  readonly solution?: string;
  readonly reference?: string;
}

const RISKS: Record<string, ZapRisk> = { informational: 0, info: 0, low: 1, medium: 2, high: 3 };
const CONFIDENCES: Record<string, ZapConfidence | 0> = {
  'false positive': 0,
  low: 1,
  medium: 2,
  high: 3,
  confirmed: 4,
  'user confirmed': 4,
};

export class ZapApiError extends Error {
  override name = 'ZapApiError';
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new ScanAbortedError('zap scan aborted'));
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(new ScanAbortedError('zap scan aborted'));
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** A small client of ZAP's JSON API. */
export function zapApi(settings: ZapDaemonSettings, signal?: AbortSignal) {
  const base = settings.apiUrl.replace(/\/+$/, '');
  return async function call(path: string, params: Record<string, string> = {}): Promise<Record<string, unknown>> {
    const query = new URLSearchParams(params).toString();
    const url = `${base}/JSON/${path}/${query ? `?${query}` : ''}`;
    let response: Response;
    try {
      response = await fetch(url, {
        headers: { accept: 'application/json', ...(settings.apiKey ? { 'x-zap-api-key': settings.apiKey } : {}) },
        signal: signal ? AbortSignal.any([signal, AbortSignal.timeout(60_000)]) : AbortSignal.timeout(60_000),
      });
    } catch (error) {
      if (signal?.aborted) throw new ScanAbortedError('zap scan aborted');
      throw new ScannerUnavailableError(`the ZAP daemon at ${base} did not answer: ${(error as Error).message}`);
    }
    const text = await response.text();
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(text) as Record<string, unknown>;
    } catch {
      throw new ZapApiError(`ZAP API ${path}: HTTP ${response.status}, not JSON`);
    }
    if (!response.ok || typeof body.code === 'string') {
      const message = `ZAP API ${path}: ${String(body.message ?? body.code ?? response.status)}`;
      if (response.status === 401 || response.status === 403 || body.code === 'bad_api_key') {
        throw new ScannerUnavailableError(`${message} (check ZAP_API_KEY)`);
      }
      throw new ZapApiError(message);
    }
    return body;
  };
}

function queryHas(url: string, name: string): boolean {
  try {
    return new URL(url).searchParams.has(name);
  } catch {
    return false;
  }
}

/** A definition for an alert ZAP raised that our catalog does not know (its own texts). */
function definitionFromZap(alert: ZapApiAlert, alertRef: string): ZapAlertDefinition {
  return {
    pluginId: alert.pluginId,
    alertRef,
    name: (alert.name ?? alert.alert ?? `ZAP rule ${alert.pluginId}`).slice(0, 300),
    risk: RISKS[alert.risk.toLowerCase()] ?? 0,
    confidence: (CONFIDENCES[alert.confidence.toLowerCase()] || 2) as ZapConfidence,
    cwe: Number(alert.cweid) > 0 ? Number(alert.cweid) : 0,
    wasc: Number(alert.wascid) > 0 ? Number(alert.wascid) : 0,
    kind: 'passive',
    scope: alert.param && (alert.attack || queryHas(alert.url, alert.param)) ? 'param' : 'page',
    description: (alert.description ?? '').slice(0, 4000),
    solution: (alert.solution ?? '').slice(0, 4000),
    references: (alert.reference ?? '')
      .split(/\s+/)
      .filter((r) => /^https?:\/\//.test(r))
      .slice(0, 20),
  };
}

/** ZAP's alerts as raised alerts (false positives dropped), with the definitions they need. */
export function mapZapAlerts(alerts: readonly ZapApiAlert[]): {
  raised: RaisedAlert[];
  definitions: Map<string, ZapAlertDefinition>;
} {
  const raised: RaisedAlert[] = [];
  const definitions = new Map<string, ZapAlertDefinition>();
  for (const alert of alerts) {
    const confidence = CONFIDENCES[alert.confidence.toLowerCase()];
    if (confidence === 0) continue;
    const alertRef = alert.alertRef || alert.pluginId;
    if (!ZAP_ALERTS.has(alertRef) && !definitions.has(alertRef))
      definitions.set(alertRef, definitionFromZap(alert, alertRef));
    const definition = ZAP_ALERTS.get(alertRef) ?? definitions.get(alertRef)!;
    raised.push({
      alertRef,
      uri: alert.url,
      method: alert.method || 'GET',
      ...(alert.param ? { param: alert.param } : {}),
      ...(alert.attack ? { attack: alert.attack } : {}),
      ...(alert.evidence ? { evidence: alert.evidence } : {}),
      ...(alert.other ? { otherinfo: alert.other } : {}),
      risk: RISKS[alert.risk.toLowerCase()] ?? definition.risk,
      ...(confidence ? { confidence } : {}),
    });
  }
  return { raised, definitions };
}

/** Runs one scan on the ZAP daemon and maps its alerts. */
export async function scanWithZapDaemon(
  settings: ZapDaemonSettings,
  input: ZapDaemonScanInput,
): Promise<{ findings: ScannerFinding[]; result: WebScanResult }> {
  const started = Date.now();
  const deadline = started + input.totalTimeMs;
  const poll = settings.pollIntervalMs ?? 2_000;
  const call = zapApi(settings, input.signal);
  // Stopping a scan must work once the scan's own signal is aborted.
  const stop = (kind: 'spider' | 'ascan', scanId: string) =>
    zapApi(settings)(`${kind}/action/stop`, { scanId }).catch(() => undefined);
  const limits = new Set<string>();
  let percent = 0;
  const progress = (value: number, phase: string) => {
    percent = Math.max(percent, Math.min(100, Math.round(value)));
    input.onProgress?.({ percent, phase });
  };
  progress(0, 'starting');

  const version = String((await call('core/view/version')).version ?? 'unknown');
  await call('core/action/accessUrl', { url: input.startUrl, followRedirects: 'false' });

  /** Polls a scan's status to 100, stopping it on abort or at the deadline. */
  async function follow(kind: 'spider' | 'ascan', scanId: string, from: number, to: number): Promise<void> {
    try {
      for (;;) {
        if (input.signal.aborted) throw new ScanAbortedError('zap scan aborted');
        const status = Number((await call(`${kind}/view/status`, { scanId })).status ?? 0);
        progress(from + ((to - from) * Math.min(100, status)) / 100, kind === 'spider' ? 'spider' : 'active scan');
        if (status >= 100) return;
        if (Date.now() >= deadline) {
          limits.add('time');
          await stop(kind, scanId);
          return;
        }
        await sleep(poll, input.signal);
      }
    } catch (error) {
      if (error instanceof ScanAbortedError || input.signal.aborted) {
        await stop(kind, scanId);
        throw new ScanAbortedError('zap scan aborted');
      }
      throw error;
    }
  }

  let pages = 1;
  const full = input.mode === 'full';
  if (input.spider) {
    const scanId = String(
      (await call('spider/action/scan', { url: input.startUrl, recurse: 'true', subtreeOnly: 'true' })).scan,
    );
    await follow('spider', scanId, 0, full ? 30 : 80);
    const results = (await call('spider/view/results', { scanId })).results;
    pages = Array.isArray(results) ? results.length : pages;
  }
  // Let the passive scanner finish.
  for (;;) {
    const left = Number((await call('pscan/view/recordsToScan')).recordsToScan ?? 0);
    if (left <= 0) break;
    if (Date.now() >= deadline) {
      limits.add('time');
      break;
    }
    await sleep(poll, input.signal);
  }
  progress(full ? 35 : 90, 'passive scan');
  if (full && Date.now() < deadline) {
    const scanId = String(
      (await call('ascan/action/scan', { url: input.startUrl, recurse: 'true', inScopeOnly: 'false' })).scan,
    );
    await follow('ascan', scanId, 35, 95);
  }

  const origin = new URL(input.startUrl).origin;
  const alerts: ZapApiAlert[] = [];
  for (let start = 0; start < 10_000; start += 500) {
    const page = (await call('core/view/alerts', { baseurl: origin, start: String(start), count: '500' })).alerts;
    if (!Array.isArray(page) || page.length === 0) break;
    alerts.push(...(page as ZapApiAlert[]));
    if (page.length < 500) break;
  }
  const messages = Number((await call('core/view/numberOfMessages', { baseurl: origin })).numberOfMessages ?? 0);

  const rules = async (kind: 'pscan' | 'ascan', type: 'passive' | 'active') => {
    const scanners = (await call(`${kind}/view/scanners`)).scanners;
    if (!Array.isArray(scanners)) return [];
    return (scanners as { id?: unknown; name?: unknown; enabled?: unknown }[])
      .filter((s) => String(s.enabled) !== 'false')
      .slice(0, 300)
      .map((s) => ({ pluginid: String(s.id ?? ''), name: String(s.name ?? '').slice(0, 200), type }));
  };
  const rulesRun = [...(await rules('pscan', 'passive')), ...(full ? await rules('ascan', 'active') : [])];

  const { raised, definitions } = mapZapAlerts(alerts);
  const report = createAlertReport({ startUrl: input.startUrl, engine: 'zap-daemon', extraDefinitions: definitions });
  for (const alert of raised) report.raise(alert);
  const build = (instances: number): WebScanResult => ({
    engine: 'zap-daemon',
    mode: input.mode,
    spider: input.spider,
    site: origin,
    start_url: input.startUrl,
    pages_crawled: pages,
    requests_sent: Number.isFinite(messages) ? messages : 0,
    duration_ms: Date.now() - started,
    rules_run: rulesRun,
    alerts: report.reportAlerts(instances),
    urls: [],
    off_origin: { links: [], redirects: [], forms: [], scripts: [] },
    limits_reached: [...limits],
    truncated: false,
    zap_version: version,
    notes: ['Scanned by the ZAP daemon set in ZAP_API_URL (it connects to the target on its own).'],
  });
  const bounded = boundedResult(build);
  progress(100, 'done');
  return { findings: report.findings(), result: WebScanResultSchema.parse(bounded) };
}
