/**
 * The pinned, bounded HTTP client of the web and template scanners.
 *
 * - Pinned: every connection goes to the checked address the worker hands over
 *   (`address`), never to anything DNS says later; the target's host name goes in
 *   `Host` and in TLS SNI. Certificates are not verified (a scanner must reach
 *   targets with self-signed certificates; the TLS scanner judges them).
 * - Same origin only: a request to another scheme, host or port is refused
 *   (`OffTargetError`) and recorded in `stats().offTarget`; a redirect off the
 *   origin is recorded and not followed (the response says where it pointed).
 *   A `Host` header naming anything but the target is refused.
 * - Bounded: requests per scan, concurrent requests, bytes kept per response (the
 *   rest is cut off: `truncated`), bytes in all, time per request and for the whole
 *   client; an abort signal stops everything at once. Running out of budget raises
 *   `HttpBudgetError` (the scanner reports what it has).
 * - Raw paths: a path is sent as given (no normalization), so `/../` and
 *   percent-encoded payloads reach the server unchanged.
 * - Optional shared cache (`cache: true`): the same method + URL + headers + body
 *   is sent once; later callers get the first answer (`stats().cacheHits`).
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import { ScanAbortedError } from './errors.js';

export const SECABLY_USER_AGENT =
  'SecAbly-Scanner/1.0 (+https://secably.com/scanner; security scan requested by the site owner)';

export interface HttpOrigin {
  readonly scheme: 'http' | 'https';
  /** Host name (or IP literal, IPv6 unbracketed) as the user gave it: Host header, SNI. */
  readonly hostname: string;
  readonly port: number;
}

export interface HttpClientOptions {
  readonly origin: HttpOrigin;
  /** The checked IP to connect to. */
  readonly address: string;
  readonly signal?: AbortSignal | undefined;
  /** Requests sent in all (cache hits are free). Default 1,000. */
  readonly maxRequests?: number;
  /** Requests in flight at once. Default 4. */
  readonly concurrency?: number;
  /** Body bytes kept per response; the rest is cut off. Default 1 MiB. */
  readonly maxResponseBytes?: number;
  /** Body bytes received in all. Default 100 MiB. */
  readonly maxTotalBytes?: number;
  /** Per request (connect to last byte). Default 10 s. */
  readonly requestTimeoutMs?: number;
  /** For the whole client, from its creation. Default 10 min. */
  readonly totalTimeMs?: number;
  /** Same-origin redirects followed when a request asks for it. Default 5. */
  readonly maxRedirects?: number;
  readonly userAgent?: string;
  /** Send identical requests once. */
  readonly cache?: boolean;
}

export interface HttpRequest {
  readonly method?: string;
  /** An absolute URL on the origin, or a raw path starting with '/'. Sent as given. */
  readonly url: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string | Buffer;
  /** Follow same-origin redirects (default false). A number caps them for this request. */
  readonly followRedirects?: boolean | number;
}

export interface HttpResponse {
  /** The URL that answered (after same-origin redirects). */
  readonly url: string;
  readonly status: number;
  readonly statusText: string;
  /** Lower-case names; repeated headers joined with ', ' (set-cookie: see `setCookies`). */
  readonly headers: Readonly<Record<string, string>>;
  /** Name/value pairs as received. */
  readonly rawHeaders: readonly (readonly [string, string])[];
  readonly setCookies: readonly string[];
  readonly body: Buffer;
  /** The body as text (UTF-8, invalid bytes replaced). */
  readonly text: string;
  /** The body was longer than `maxResponseBytes` and was cut off. */
  readonly truncated: boolean;
  /** Same-origin redirects followed, in order. */
  readonly redirects: readonly string[];
  /** A redirect that pointed off the origin: recorded, not followed. */
  readonly offTargetRedirect?: string;
  readonly elapsedMs: number;
  /** What was sent (for evidence and curl commands). */
  readonly request: {
    readonly method: string;
    readonly url: string;
    readonly headers: Readonly<Record<string, string>>;
    readonly body?: string;
  };
}

export interface HttpStats {
  readonly requests: number;
  readonly cacheHits: number;
  readonly bytesReceived: number;
  /** URLs refused or redirects not followed because they left the origin (first 100). */
  readonly offTarget: readonly string[];
  readonly errors: number;
}

/** A request that would leave the target's origin. */
export class OffTargetError extends Error {
  override name = 'OffTargetError';
  constructor(readonly url: string) {
    super(`refused: ${url} is not on the scan's target`);
  }
}

/** A cap of the client was reached (requests, bytes, time). */
export class HttpBudgetError extends Error {
  override name = 'HttpBudgetError';
}

/** The request failed at the network level (refused, reset, timeout, TLS). */
export class HttpRequestError extends Error {
  override name = 'HttpRequestError';
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
  }
}

export interface HttpClient {
  readonly origin: HttpOrigin;
  /** `scheme://host[:port]` (default ports omitted, IPv6 bracketed). */
  readonly originUrl: string;
  request(request: HttpRequest): Promise<HttpResponse>;
  /** Whether `url` (absolute, or a path) is on the target's origin. */
  isSameOrigin(url: string): boolean;
  /** Resolves a link found on a page against `base`; null for non-HTTP links. */
  resolve(link: string, base: string): string | null;
  stats(): HttpStats;
  /** Closes kept-alive connections. */
  close(): void;
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

export function formatOrigin(origin: HttpOrigin): string {
  const host = isIP(origin.hostname) === 6 ? `[${origin.hostname}]` : origin.hostname;
  const defaultPort = origin.scheme === 'https' ? 443 : 80;
  return `${origin.scheme}://${host}${origin.port === defaultPort ? '' : `:${origin.port}`}`;
}

function hostHeader(origin: HttpOrigin): string {
  const host = isIP(origin.hostname) === 6 ? `[${origin.hostname}]` : origin.hostname;
  const defaultPort = origin.scheme === 'https' ? 443 : 80;
  return origin.port === defaultPort ? host : `${host}:${origin.port}`;
}

function originOf(url: URL): HttpOrigin | null {
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
  const scheme = url.protocol === 'https:' ? 'https' : 'http';
  const hostname = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  return {
    scheme,
    hostname: hostname.toLowerCase(),
    port: url.port ? Number(url.port) : scheme === 'https' ? 443 : 80,
  };
}

/** The raw path (+ query) of an absolute URL as written, without normalizing dot segments. */
function rawPathOf(absolute: string): string {
  const afterScheme = absolute.indexOf('//') + 2;
  const rest = absolute.slice(afterScheme);
  const cut = rest.search(/[/?#]/);
  if (cut === -1) return '/';
  let path = rest.slice(cut);
  const hash = path.indexOf('#');
  if (hash !== -1) path = path.slice(0, hash);
  return path.startsWith('?') ? `/${path}` : path;
}

/** A small FIFO semaphore. */
function semaphore(limit: number) {
  let active = 0;
  const waiting: (() => void)[] = [];
  return {
    async acquire(): Promise<() => void> {
      if (active >= limit) await new Promise<void>((resolve) => waiting.push(resolve));
      active++;
      let released = false;
      return () => {
        if (released) return;
        released = true;
        active--;
        waiting.shift()?.();
      };
    },
  };
}

export function createHttpClient(options: HttpClientOptions): HttpClient {
  const origin: HttpOrigin = { ...options.origin, hostname: options.origin.hostname.toLowerCase() };
  const originUrl = formatOrigin(origin);
  const maxRequests = options.maxRequests ?? 1_000;
  const maxResponseBytes = options.maxResponseBytes ?? 1024 * 1024;
  const maxTotalBytes = options.maxTotalBytes ?? 100 * 1024 * 1024;
  const requestTimeoutMs = options.requestTimeoutMs ?? 10_000;
  const deadline = Date.now() + (options.totalTimeMs ?? 600_000);
  const maxRedirects = options.maxRedirects ?? 5;
  const userAgent = options.userAgent ?? SECABLY_USER_AGENT;
  const concurrency = Math.max(1, options.concurrency ?? 4);
  const gate = semaphore(concurrency);
  const agent =
    origin.scheme === 'https'
      ? new HttpsAgent({ keepAlive: true, maxSockets: concurrency, rejectUnauthorized: false })
      : new HttpAgent({ keepAlive: true, maxSockets: concurrency });
  const cache = options.cache ? new Map<string, Promise<HttpResponse>>() : undefined;
  const stats = { requests: 0, cacheHits: 0, bytesReceived: 0, errors: 0, offTarget: [] as string[] };

  const recordOffTarget = (url: string) => {
    if (stats.offTarget.length < 100 && !stats.offTarget.includes(url)) stats.offTarget.push(url);
  };

  function sameOrigin(other: HttpOrigin | null): boolean {
    return (
      other !== null &&
      other.scheme === origin.scheme &&
      other.hostname === origin.hostname &&
      other.port === origin.port
    );
  }

  function isSameOrigin(url: string): boolean {
    if (url.startsWith('/') && !url.startsWith('//')) return true;
    try {
      return sameOrigin(originOf(new URL(url)));
    } catch {
      return false;
    }
  }

  function resolve(link: string, base: string): string | null {
    try {
      const url = new URL(link.trim(), base);
      if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
      url.hash = '';
      return url.toString();
    } catch {
      return null;
    }
  }

  /** The raw path to send, or an OffTargetError. */
  function pathFor(url: string): string {
    if (url.startsWith('/') && !url.startsWith('//')) return url.split('#')[0]!;
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new OffTargetError(url);
    }
    if (!sameOrigin(originOf(parsed))) {
      recordOffTarget(url);
      throw new OffTargetError(url);
    }
    return rawPathOf(url);
  }

  function checkBudget(): void {
    if (options.signal?.aborted) throw new ScanAbortedError('HTTP scan aborted');
    if (Date.now() >= deadline) throw new HttpBudgetError('the scan used its time budget for HTTP requests');
    if (stats.requests >= maxRequests) throw new HttpBudgetError(`the scan used its budget of ${maxRequests} requests`);
    if (stats.bytesReceived >= maxTotalBytes) {
      throw new HttpBudgetError(`the scan received its budget of ${maxTotalBytes} bytes`);
    }
  }

  function sendOnce(
    method: string,
    path: string,
    headers: Record<string, string>,
    body: Buffer | undefined,
  ): Promise<Omit<HttpResponse, 'redirects' | 'offTargetRedirect' | 'request' | 'url'>> {
    return new Promise((resolvePromise, rejectPromise) => {
      const started = performance.now();
      const outgoing: OutgoingHttpHeaders = { ...headers };
      if (body !== undefined) outgoing['content-length'] = String(body.length);
      const requestOptions = {
        host: options.address,
        port: origin.port,
        method,
        path,
        headers: outgoing,
        agent,
        setHost: false,
        insecureHTTPParser: true,
        ...(origin.scheme === 'https'
          ? { servername: isIP(origin.hostname) ? '' : origin.hostname, rejectUnauthorized: false }
          : {}),
      };
      let settled = false;
      const fail = (error: Error) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        options.signal?.removeEventListener('abort', onAbort);
        rejectPromise(error);
      };
      const req = (origin.scheme === 'https' ? httpsRequest : httpRequest)(requestOptions, (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        let kept = 0;
        let truncated = false;
        const done = () => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          options.signal?.removeEventListener('abort', onAbort);
          const raw: [string, string][] = [];
          for (let i = 0; i + 1 < res.rawHeaders.length; i += 2) raw.push([res.rawHeaders[i]!, res.rawHeaders[i + 1]!]);
          const joined: Record<string, string> = {};
          const setCookies: string[] = [];
          for (const [name, value] of raw) {
            const key = name.toLowerCase();
            if (key === 'set-cookie') setCookies.push(value);
            joined[key] = joined[key] === undefined ? value : `${joined[key]}, ${value}`;
          }
          const buffer = Buffer.concat(chunks);
          resolvePromise({
            status: res.statusCode ?? 0,
            statusText: res.statusMessage ?? '',
            headers: joined,
            rawHeaders: raw,
            setCookies,
            body: buffer,
            text: buffer.toString('utf8'),
            truncated,
            elapsedMs: Math.round(performance.now() - started),
          });
        };
        res.on('data', (chunk: Buffer) => {
          stats.bytesReceived += chunk.length;
          if (kept + chunk.length > maxResponseBytes) {
            chunks.push(chunk.subarray(0, maxResponseBytes - kept));
            kept = maxResponseBytes;
            truncated = true;
            res.destroy();
            req.destroy();
            done();
            return;
          }
          kept += chunk.length;
          chunks.push(chunk);
        });
        res.on('end', done);
        res.on('error', (error) => (truncated ? done() : fail(new HttpRequestError(error.message, 'response_error'))));
        res.on('close', () => {
          if (!settled) done(); // the server closed early: what arrived is the answer
        });
      });
      const timer = setTimeout(
        () => req.destroy(new HttpRequestError(`no complete answer within ${requestTimeoutMs} ms`, 'timeout')),
        Math.max(1, Math.min(requestTimeoutMs, deadline - Date.now())),
      );
      const onAbort = () => req.destroy(new ScanAbortedError('HTTP scan aborted'));
      options.signal?.addEventListener('abort', onAbort, { once: true });
      req.on('error', (error: NodeJS.ErrnoException) => {
        if (error instanceof ScanAbortedError || error instanceof HttpRequestError) fail(error);
        else fail(new HttpRequestError(error.message, error.code ?? 'request_error'));
      });
      if (body !== undefined) req.end(body);
      else req.end();
    });
  }

  async function send(request: HttpRequest): Promise<HttpResponse> {
    const method = (request.method ?? 'GET').toUpperCase();
    if (!TOKEN.test(method)) throw new Error(`invalid HTTP method "${method}"`);
    const headers: Record<string, string> = {
      'user-agent': userAgent,
      accept: '*/*',
      'accept-encoding': 'identity',
    };
    for (const [name, value] of Object.entries(request.headers ?? {})) {
      if (!TOKEN.test(name) || /[\r\n\0]/.test(value)) throw new Error(`invalid header ${JSON.stringify(name)}`);
      const key = name.toLowerCase();
      if (key === 'host') {
        const asked = value.trim().toLowerCase();
        if (asked !== hostHeader(origin).toLowerCase() && asked !== origin.hostname) {
          recordOffTarget(`Host: ${value}`);
          throw new OffTargetError(`Host: ${value}`);
        }
        continue;
      }
      if (key === 'content-length' || key === 'transfer-encoding' || key === 'connection') continue;
      headers[key] = value;
    }
    headers.host = hostHeader(origin);
    const body = request.body === undefined ? undefined : Buffer.from(request.body);
    const redirectCap =
      request.followRedirects === true
        ? maxRedirects
        : typeof request.followRedirects === 'number'
          ? request.followRedirects
          : 0;

    let url = request.url.startsWith('/') && !request.url.startsWith('//') ? `${originUrl}${request.url}` : request.url;
    let path = pathFor(request.url);
    let currentMethod = method;
    let currentBody = body;
    const redirects: string[] = [];
    for (;;) {
      checkBudget();
      const release = await gate.acquire();
      let answer;
      try {
        checkBudget();
        stats.requests++;
        answer = await sendOnce(currentMethod, path, headers, currentBody);
      } catch (error) {
        stats.errors++;
        throw error;
      } finally {
        release();
      }
      const sent = {
        method: currentMethod,
        url,
        headers: { ...headers },
        ...(currentBody !== undefined ? { body: currentBody.toString('utf8').slice(0, 10_000) } : {}),
      };
      const location = answer.headers.location;
      if (answer.status >= 300 && answer.status < 400 && location && redirects.length < redirectCap) {
        const next = resolve(location, url);
        if (next && isSameOrigin(next)) {
          redirects.push(next);
          url = next;
          path = rawPathOf(next);
          if (answer.status === 303 || ((answer.status === 301 || answer.status === 302) && currentMethod === 'POST')) {
            currentMethod = 'GET';
            currentBody = undefined;
          }
          continue;
        }
        if (next) recordOffTarget(next);
        return { ...answer, url, redirects, request: sent, ...(next ? { offTargetRedirect: next } : {}) };
      }
      const offTargetRedirect =
        answer.status >= 300 && answer.status < 400 && location && !isSameOrigin(resolve(location, url) ?? '')
          ? (resolve(location, url) ?? location)
          : undefined;
      if (offTargetRedirect) recordOffTarget(offTargetRedirect);
      return { ...answer, url, redirects, request: sent, ...(offTargetRedirect ? { offTargetRedirect } : {}) };
    }
  }

  return {
    origin,
    originUrl,
    isSameOrigin,
    resolve,
    request(request) {
      if (!cache) return send(request);
      const bodyKey = request.body === undefined ? '' : Buffer.from(request.body).toString('base64');
      const headerKey = Object.entries(request.headers ?? {})
        .map(([k, v]) => `${k.toLowerCase()}:${v}`)
        .sort()
        .join('\n');
      const absolute =
        request.url.startsWith('/') && !request.url.startsWith('//') ? `${originUrl}${request.url}` : request.url;
      const key = [
        (request.method ?? 'GET').toUpperCase(),
        absolute,
        headerKey,
        bodyKey,
        String(request.followRedirects ?? false),
      ].join('\u0000');
      const hit = cache.get(key);
      if (hit) {
        stats.cacheHits++;
        return hit;
      }
      const pending = send(request);
      cache.set(key, pending);
      pending.catch(() => cache.delete(key)); // a failure is not remembered
      return pending;
    },
    stats: () => ({ ...stats, offTarget: [...stats.offTarget] }),
    close: () => agent.destroy(),
  };
}
