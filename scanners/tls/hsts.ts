/**
 * HTTP Strict Transport Security (RFC 6797) of an HTTPS service: one GET through
 * the shared pinned client (same origin only, bounded), following at most three
 * same-origin redirects when the first answer has no header. The same answer tells
 * whether the server compresses HTTP responses (a precondition of BREACH).
 */
import { createHttpClient, type HttpResponse } from '../shared/httpClient.js';
import { ScanAbortedError } from '../shared/errors.js';

/** Six months: what browsers' preload lists and most guides ask for at least. */
export const HSTS_MIN_MAX_AGE = 15_768_000;

export interface HstsPolicy {
  readonly max_age: number | null;
  readonly include_subdomains: boolean;
  readonly preload: boolean;
}

export interface HstsResult {
  readonly status: 'present' | 'missing' | 'invalid' | 'not_applicable' | 'error';
  readonly header: string | null;
  readonly max_age: number | null;
  readonly include_subdomains: boolean;
  readonly preload: boolean;
  /** The URL whose answer was judged. */
  readonly url: string | null;
  readonly http_status: number | null;
  /** The Content-Encoding the server chose when offered gzip, deflate and br (BREACH needs one), or null. */
  readonly http_compression: string | null;
  readonly error: string | null;
}

/** Parses a Strict-Transport-Security value (RFC 6797 6.1); null when it has no valid max-age. */
export function parseHsts(value: string): HstsPolicy | null {
  let maxAge: number | null = null;
  let includeSubdomains = false;
  let preload = false;
  const seen = new Set<string>();
  for (const part of value.split(';')) {
    const directive = part.trim();
    if (!directive) continue;
    const eq = directive.indexOf('=');
    const name = (eq === -1 ? directive : directive.slice(0, eq)).trim().toLowerCase();
    const raw =
      eq === -1
        ? null
        : directive
            .slice(eq + 1)
            .trim()
            .replace(/^"(.*)"$/, '$1');
    if (seen.has(name)) return null; // a repeated directive makes the header invalid
    seen.add(name);
    if (name === 'max-age') {
      if (raw === null || !/^\d+$/.test(raw)) return null;
      maxAge = Number(raw);
    } else if (name === 'includesubdomains') includeSubdomains = true;
    else if (name === 'preload') preload = true;
  }
  if (maxAge === null) return null;
  return { max_age: maxAge, include_subdomains: includeSubdomains, preload };
}

export const HSTS_NOT_APPLICABLE: HstsResult = {
  status: 'not_applicable',
  header: null,
  max_age: null,
  include_subdomains: false,
  preload: false,
  url: null,
  http_status: null,
  http_compression: null,
  error: null,
};

export async function checkHsts(options: {
  address: string;
  hostname: string;
  port: number;
  path: string;
  signal: AbortSignal;
  timeoutMs: number;
}): Promise<HstsResult> {
  const client = createHttpClient({
    origin: { scheme: 'https', hostname: options.hostname, port: options.port },
    address: options.address,
    signal: options.signal,
    maxRequests: 5,
    concurrency: 1,
    maxResponseBytes: 64 * 1024,
    requestTimeoutMs: options.timeoutMs,
    totalTimeMs: options.timeoutMs * 3,
  });
  const judge = (response: HttpResponse): HstsResult => {
    const header = response.headers['strict-transport-security'] ?? null;
    const encoding = response.headers['content-encoding']?.trim().toLowerCase();
    const base = {
      header,
      url: response.url,
      http_status: response.status,
      http_compression: encoding && encoding !== 'identity' ? encoding.slice(0, 50) : null,
      error: null,
      max_age: null,
      include_subdomains: false,
      preload: false,
    };
    if (header === null) return { ...base, status: 'missing' };
    // Several headers joined with ', ': browsers use the first.
    const policy = parseHsts(header.split(',')[0] ?? '');
    if (!policy) return { ...base, status: 'invalid' };
    return { ...base, status: 'present', ...policy };
  };
  try {
    // Offering compression also shows whether responses are compressed (BREACH); the body is not read.
    const headers = { 'accept-encoding': 'gzip, deflate, br' };
    const first = await client.request({ url: options.path, headers });
    const verdict = judge(first);
    if (verdict.status !== 'missing' || first.status < 300 || first.status >= 400) return verdict;
    const followed = await client.request({ url: options.path, headers, followRedirects: 3 });
    const second = judge(followed);
    return second.status === 'missing' ? verdict : second;
  } catch (error) {
    if (error instanceof ScanAbortedError || options.signal.aborted) throw new ScanAbortedError('TLS scan aborted');
    return {
      ...HSTS_NOT_APPLICABLE,
      status: 'error',
      error: `no HTTPS answer: ${(error as Error).message}`.slice(0, 300),
    };
  } finally {
    client.close();
  }
}
