/**
 * The template engine at work: runs compiled templates against one target through
 * the shared pinned HTTP client (scanners/shared/httpClient.ts) and returns
 * nuclei's result events and normalized findings.
 *
 * - Connects only to `address` (the checked IP); the origin's host name goes in
 *   `Host` and SNI and in every URL we report. Requests are built as
 *   `<origin><path>` with a path that always starts with '/', so no template can
 *   name another authority; the client refuses anything off the origin anyway and
 *   follows redirects only on the origin (a redirect elsewhere is recorded, not
 *   followed).
 * - `cache: true`: a request several templates send (same method, URL, headers,
 *   body and redirect policy) goes out once; `requests_saved_by_cache` counts the
 *   others.
 * - Bounded: requests (quick 400, full 1,500 by default), 6 in flight, 1 MiB kept
 *   per response, bytes in all, 10 s per request and a total time. Running out of
 *   budget ends the run early with what it found (`stats.stopped_early`).
 * - The first request (`GET {{BaseURL}}`) checks that the target speaks HTTP at
 *   all; if it cannot be reached, the scan fails with TargetUnreachableError.
 *
 * `runTemplateScan` is the engine's entry point for other scanners (the
 * OpenVAS-style scanner runs our templates through it).
 */
import type { ScannerFinding } from '../../domain/shared/finding.js';
import { ScanAbortedError, TargetUnreachableError } from '../shared/errors.js';
import {
  createHttpClient,
  formatOrigin,
  HttpBudgetError,
  HttpRequestError,
  OffTargetError,
  type HttpClient,
  type HttpOrigin,
  type HttpResponse,
} from '../shared/httpClient.js';
import { templatesForMode } from './bundledTemplates.js';
import { nucleiFindings, type LoadedTemplate, type TemplateMatch } from './nucleiFindings.js';
import {
  MAX_RESULT_BYTES,
  type NucleiResultEvent,
  type NucleiScanResult,
  type NucleiScanStats,
} from './nucleiResult.js';
import {
  matchContext,
  renderPlaceholders,
  runOperators,
  type MatchContext,
  type TemplateVariables,
} from './operators.js';
import type { CompiledTemplate, RequestSpec } from './templateParser.js';

export interface TemplateScanInput {
  /** The checked IP to connect to. */
  readonly address: string;
  /** Scheme, host name (Host header, SNI, reported URLs) and port. */
  readonly origin: { readonly scheme: 'http' | 'https'; readonly hostname: string; readonly port: number };
  /** The target's path ({{BaseURL}} = origin + this path, without a trailing slash or query). */
  readonly basePath?: string;
  readonly mode: 'quick' | 'full';
  readonly signal: AbortSignal;
  readonly onProgress?: (progress: { percent: number; phase: string }) => void;
  readonly budget?: { readonly maxRequests?: number; readonly totalTimeMs?: number };
}

export interface TemplateScanOutput {
  readonly findings: ScannerFinding[];
  readonly result: NucleiScanResult;
}

export interface RunTemplatesInput extends TemplateScanInput {
  readonly templates: readonly LoadedTemplate[];
  /** Users' templates that ran (for the result), and those that could not be loaded. */
  readonly userTemplates?: readonly { readonly id: string; readonly templateId: string; readonly sha256: string }[];
  readonly failed?: readonly { readonly templateId: string; readonly error: string }[];
  /** Client limits (tests and benchmarks). */
  readonly limits?: {
    readonly concurrency?: number;
    readonly requestTimeoutMs?: number;
    readonly maxResponseBytes?: number;
    readonly maxTotalBytes?: number;
  };
}

export const DEFAULT_MAX_REQUESTS = { quick: 400, full: 1500 } as const;
const DEFAULT_TOTAL_TIME_MS = { quick: 9 * 60_000, full: 28 * 60_000 } as const;
const MAX_TOTAL_BYTES = { quick: 64 * 1024 * 1024, full: 200 * 1024 * 1024 } as const;
/** Templates worked on at once (their requests share the client's 6 connections). */
const TEMPLATE_CONCURRENCY = 12;
const MAX_RESULTS = 1000;
const MAX_ERRORS = 50;

/** Runs our templates of a mode against a target. */
export function runTemplateScan(input: TemplateScanInput): Promise<TemplateScanOutput> {
  return runTemplates({ ...input, templates: templatesForMode(input.mode) });
}

/** The path of a target URL as {{BaseURL}} uses it: no query, no trailing slash ('' for the root). */
export function normalizeBasePath(path: string | undefined): string {
  const withoutQuery = (path ?? '').split(/[?#]/)[0]!;
  const trimmed = withoutQuery.replace(/\/+$/, '');
  if (trimmed === '') return '';
  return trimmed.startsWith('/') ? trimmed : `/${trimmed}`;
}

/** The values of nuclei's placeholders for a target (as nuclei computes them for a URL input). */
export function templateVariables(origin: HttpOrigin, basePath: string): TemplateVariables {
  const originUrl = formatOrigin(origin);
  const hostPart = originUrl.slice(originUrl.indexOf('//') + 2);
  const lastSlash = basePath.lastIndexOf('/');
  return {
    BaseURL: `${originUrl}${basePath}`,
    RootURL: originUrl,
    Hostname: hostPart,
    Host: origin.hostname,
    Port: String(origin.port),
    // nuclei: the directory of the input's path ("/test" for "/test/123", "/" for "/app", "" for none).
    Path: basePath === '' ? '' : lastSlash <= 0 ? '/' : basePath.slice(0, lastSlash),
  };
}

/** The request path (always starting with '/') of a request of a template. */
export function requestPath(
  spec: Pick<RequestSpec, 'base' | 'rest'>,
  basePath: string,
  variables: TemplateVariables,
): string {
  const rest = renderPlaceholders(spec.rest, variables);
  const root = (prefix: string) =>
    rest === '' ? prefix || '/' : rest.startsWith('?') ? `${prefix || '/'}${rest}` : `${prefix}${rest}`;
  if (spec.base === 'RootURL') return root('');
  if (spec.base === 'BaseURL') return root(basePath);
  return rest === '/' ? basePath || '/' : `${basePath}${rest}`;
}

function quoteShell(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

export function curlCommand(request: HttpResponse['request']): string {
  const parts = ['curl', '-X', quoteShell(request.method)];
  if (request.body !== undefined) parts.push('-d', quoteShell(request.body));
  for (const [name, value] of Object.entries(request.headers)) parts.push('-H', quoteShell(`${name}: ${value}`));
  parts.push(quoteShell(request.url));
  const command = parts.join(' ');
  return command.length > 2000 ? `${command.slice(0, 1999)}…` : command;
}

function resultInfo(template: CompiledTemplate): NucleiResultEvent['info'] {
  const { info } = template;
  return {
    name: info.name,
    author: [...info.author],
    tags: [...info.tags],
    severity: info.severity,
    ...(info.description ? { description: info.description } : {}),
    ...(info.remediation ? { remediation: info.remediation } : {}),
    ...(info.reference.length > 0 ? { reference: [...info.reference] } : {}),
    ...(info.classification
      ? {
          classification: {
            ...(info.classification['cve-id'] ? { 'cve-id': [...info.classification['cve-id']] } : {}),
            ...(info.classification['cwe-id'] ? { 'cwe-id': [...info.classification['cwe-id']] } : {}),
            ...(info.classification['cvss-metrics'] ? { 'cvss-metrics': info.classification['cvss-metrics'] } : {}),
            ...(info.classification['cvss-score'] !== undefined
              ? { 'cvss-score': info.classification['cvss-score'] }
              : {}),
            ...(info.classification.cpe ? { cpe: info.classification.cpe } : {}),
          },
        }
      : {}),
    ...(info.metadata ? { metadata: { ...info.metadata } } : {}),
  };
}

/** Cuts the result lists until the JSON fits the budget. */
export function boundResult(result: NucleiScanResult, maxBytes = MAX_RESULT_BYTES): NucleiScanResult {
  let bounded = result;
  let size = Buffer.byteLength(JSON.stringify(bounded));
  while (size > maxBytes && bounded.results.length > 0) {
    const keep = Math.max(0, Math.floor(bounded.results.length * Math.min(0.9, maxBytes / size)));
    bounded = { ...bounded, results: bounded.results.slice(0, keep), truncated: true };
    size = Buffer.byteLength(JSON.stringify(bounded));
  }
  return bounded;
}

/** Runs templates against one target. */
export async function runTemplates(input: RunTemplatesInput): Promise<TemplateScanOutput> {
  const started = Date.now();
  const origin: HttpOrigin = { ...input.origin, hostname: input.origin.hostname.toLowerCase() };
  const basePath = normalizeBasePath(input.basePath);
  const variables = templateVariables(origin, basePath);
  const originUrl = formatOrigin(origin);
  const client: HttpClient = createHttpClient({
    origin,
    address: input.address,
    signal: input.signal,
    cache: true,
    maxRequests: input.budget?.maxRequests ?? DEFAULT_MAX_REQUESTS[input.mode],
    totalTimeMs: input.budget?.totalTimeMs ?? DEFAULT_TOTAL_TIME_MS[input.mode],
    concurrency: input.limits?.concurrency ?? 6,
    requestTimeoutMs: input.limits?.requestTimeoutMs ?? 10_000,
    maxResponseBytes: input.limits?.maxResponseBytes ?? 1024 * 1024,
    maxTotalBytes: input.limits?.maxTotalBytes ?? MAX_TOTAL_BYTES[input.mode],
    maxRedirects: 10,
  });
  const contexts = new WeakMap<HttpResponse, MatchContext>();
  const contextOf = (response: HttpResponse) => {
    let context = contexts.get(response);
    if (!context) contexts.set(response, (context = matchContext(response)));
    return context;
  };
  const errors: { 'template-id': string; error: string }[] = (input.failed ?? []).map((f) => ({
    'template-id': f.templateId,
    error: f.error.slice(0, 1000),
  }));
  const recordError = (templateId: string, error: string) => {
    if (errors.length < MAX_ERRORS) errors.push({ 'template-id': templateId, error: error.slice(0, 1000) });
  };
  let stoppedEarly: string | undefined;
  const matches: TemplateMatch[] = [];
  const templates = input.templates;
  let done = 0;

  try {
    input.onProgress?.({ percent: 0, phase: 'connecting' });
    try {
      await client.request({ url: `${originUrl}${basePath || '/'}` });
    } catch (error) {
      if (error instanceof HttpRequestError) {
        throw new TargetUnreachableError(
          `${variables.BaseURL} did not answer over ${origin.scheme.toUpperCase()} (${error.message}); nothing was scanned`,
          'http_unreachable',
        );
      }
      throw error;
    }

    const runTemplate = async (loaded: LoadedTemplate): Promise<void> => {
      const { template } = loaded;
      blocks: for (const block of template.blocks) {
        for (const spec of block.requests) {
          if (stoppedEarly !== undefined) return;
          const url = `${originUrl}${requestPath(spec, basePath, variables)}`;
          const headers = Object.fromEntries(
            Object.entries(spec.headers).map(([name, value]) => [name, renderPlaceholders(value, variables)]),
          );
          let response: HttpResponse;
          try {
            response = await client.request({
              method: spec.method,
              url,
              ...(Object.keys(headers).length > 0 ? { headers } : {}),
              ...(spec.body !== undefined ? { body: renderPlaceholders(spec.body, variables) } : {}),
              followRedirects: block.redirects && block.maxRedirects > 0 ? block.maxRedirects : false,
            });
          } catch (error) {
            if (error instanceof ScanAbortedError) throw error;
            if (error instanceof HttpBudgetError) {
              stoppedEarly ??= error.message;
              return;
            }
            if (error instanceof HttpRequestError || error instanceof OffTargetError) continue; // counted by the client
            recordError(template.id, error instanceof Error ? error.message : String(error));
            continue;
          }
          const outcome = runOperators(block, contextOf(response), variables);
          if (outcome.events.length === 0) continue;
          const timestamp = new Date().toISOString();
          for (const event of outcome.events) {
            matches.push({
              loaded,
              method: spec.method,
              status: response.status,
              snippets: outcome.snippets,
              event: {
                'template-id': template.id,
                'template-path': loaded.source === 'user' ? `user/${loaded.ref}` : `secably/${loaded.ref}`,
                info: resultInfo(template),
                type: 'http',
                host: originUrl,
                'matched-at': url,
                ...(outcome.extracted.length > 0 ? { 'extracted-results': [...outcome.extracted] } : {}),
                ...(event.matcherName ? { 'matcher-name': event.matcherName } : {}),
                'matcher-status': true,
                'curl-command': curlCommand(response.request),
                timestamp,
              },
            });
          }
          if (template.stopAtFirstMatch) return;
          if (block.stopAtFirstMatch) continue blocks;
        }
      }
    };

    let next = 0;
    const worker = async () => {
      while (next < templates.length && stoppedEarly === undefined) {
        const loaded = templates[next++]!;
        await runTemplate(loaded);
        done++;
        input.onProgress?.({
          percent: Math.min(99, Math.round((done / templates.length) * 1000) / 10),
          phase: `templates ${done}/${templates.length}`,
        });
      }
    };
    await Promise.all(Array.from({ length: Math.min(TEMPLATE_CONCURRENCY, Math.max(1, templates.length)) }, worker));
  } finally {
    client.close();
  }

  const stats = client.stats();
  const ordered = [...matches].sort(
    (a, b) =>
      a.event['template-id'].localeCompare(b.event['template-id']) ||
      a.event['matched-at'].localeCompare(b.event['matched-at']) ||
      (a.event['matcher-name'] ?? '').localeCompare(b.event['matcher-name'] ?? ''),
  );
  const results = ordered.map((m) => m.event);
  const resultStats: NucleiScanStats = {
    templates_run: done,
    templates_matched: new Set(ordered.map((m) => `${m.loaded.source}:${m.event['template-id']}`)).size,
    templates_failed: input.failed?.length ?? 0,
    requests_sent: stats.requests,
    requests_saved_by_cache: stats.cacheHits,
    request_errors: stats.errors,
    bytes_received: stats.bytesReceived,
    duration_ms: Date.now() - started,
    off_target_refused: stats.offTarget.slice(0, 20).map((u) => u.slice(0, 500)),
    ...(stoppedEarly !== undefined ? { stopped_early: stoppedEarly } : {}),
  };
  const result = boundResult({
    engine: 'secably-nuclei',
    mode: input.mode,
    target: variables.BaseURL,
    results: results.slice(0, MAX_RESULTS),
    stats: resultStats,
    templates: {
      bundled: templates.filter((t) => t.source === 'bundled').length,
      user: (input.userTemplates ?? []).map((u) => ({ id: u.id, 'template-id': u.templateId, sha256: u.sha256 })),
    },
    errors,
    ...(results.length > MAX_RESULTS ? { truncated: true } : {}),
  });
  input.onProgress?.({ percent: 100, phase: 'done' });
  return { findings: nucleiFindings(ordered), result };
}

/**
 * The origin to scan for an IP or host name target: `http://<name>` (port 80),
 * unless it answers `GET /` with a redirect to `https://<same name>` (then that), or
 * port 80 does not answer at all (then `https://<name>` on 443). A URL target
 * names its origin itself.
 */
export async function chooseOrigin(
  address: string,
  hostname: string,
  signal: AbortSignal,
  ports: { readonly http: number; readonly https: number } = { http: 80, https: 443 },
): Promise<HttpOrigin> {
  const http: HttpOrigin = { scheme: 'http', hostname: hostname.toLowerCase(), port: ports.http };
  const https: HttpOrigin = { ...http, scheme: 'https', port: ports.https };
  const client = createHttpClient({ origin: http, address, signal, maxRequests: 1, requestTimeoutMs: 10_000 });
  try {
    const response = await client.request({ url: '/' });
    const location = response.headers.location;
    if (response.status >= 300 && response.status < 400 && location) {
      try {
        const next = new URL(location, formatOrigin(http));
        const nextHost = next.hostname.replace(/^\[|\]$/g, '').toLowerCase();
        if (next.protocol === 'https:' && nextHost === http.hostname) {
          return { ...https, port: next.port ? Number(next.port) : ports.https };
        }
      } catch {
        /* not a URL: stay on http */
      }
    }
    return http;
  } catch (error) {
    if (error instanceof ScanAbortedError) throw error;
    return https;
  } finally {
    client.close();
  }
}
