/**
 * Which origin and path a `zap` scan of a target covers:
 * - a URL target: its scheme, host name, port and path (the spider stays under the
 *   path's directory);
 * - an ip/hostname target: `http://<hostname>/` (port 80); if nothing answers there
 *   (refused, reset, timeout, not HTTP), `https://<hostname>/` (port 443).
 * Either way, when the start URL answers with a redirect to HTTPS on the same host
 * name (the usual "always HTTPS"), the scan moves to that HTTPS origin and path: it is
 * the same site, on the same checked address. Any other redirect off the origin is
 * recorded and not followed. Each choice is written into `scan_result.notes`.
 */
import { TargetUnreachableError } from '../shared/errors.js';
import { createHttpClient, HttpRequestError, type HttpOrigin } from '../shared/httpClient.js';
import type { ScanTarget } from '../shared/scanner.js';

export interface WebTarget {
  readonly origin: HttpOrigin;
  readonly startPath: string;
  readonly notes: string[];
  /** Requests the probing sent (counted in the scan's `requests_sent`). */
  readonly requests: number;
}

export interface WebTargetOptions {
  readonly signal?: AbortSignal;
  /** Ports tried for ip/hostname targets (tests use others). */
  readonly httpPort?: number;
  readonly httpsPort?: number;
  readonly timeoutMs?: number;
}

async function probe(
  origin: HttpOrigin,
  address: string,
  path: string,
  options: WebTargetOptions,
): Promise<{ ok: true; location?: string } | { ok: false; error: string }> {
  const client = createHttpClient({
    origin,
    address,
    signal: options.signal,
    maxRequests: 1,
    requestTimeoutMs: options.timeoutMs ?? 10_000,
    maxResponseBytes: 16 * 1024,
  });
  try {
    const response = await client.request({ url: path });
    const location = response.status >= 300 && response.status < 400 ? response.headers.location : undefined;
    return { ok: true, ...(location ? { location } : {}) };
  } catch (error) {
    if (error instanceof HttpRequestError) return { ok: false, error: error.message };
    throw error;
  } finally {
    client.close();
  }
}

/** The HTTPS origin and path a redirect points to, when it is the same host name; else null. */
function httpsUpgrade(location: string, from: HttpOrigin, base: string): { origin: HttpOrigin; path: string } | null {
  try {
    const url = new URL(location, base);
    if (url.protocol !== 'https:' || from.scheme !== 'http') return null;
    const hostname = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
    if (hostname !== from.hostname.toLowerCase()) return null;
    return {
      origin: { scheme: 'https', hostname: from.hostname, port: url.port ? Number(url.port) : 443 },
      path: `${url.pathname}${url.search}`,
    };
  } catch {
    return null;
  }
}

function originText(origin: HttpOrigin): string {
  return `${origin.scheme}://${origin.hostname}:${origin.port}`;
}

export async function resolveWebTarget(
  target: ScanTarget,
  address: string,
  options: WebTargetOptions = {},
): Promise<WebTarget> {
  const notes: string[] = [];
  const candidates: { origin: HttpOrigin; path: string }[] = [];
  if (target.type === 'url' && target.url) {
    candidates.push({
      origin: { scheme: target.url.scheme, hostname: target.hostname, port: target.url.port },
      path: target.url.path || '/',
    });
  } else if (target.type === 'ip' || target.type === 'hostname') {
    candidates.push(
      { origin: { scheme: 'http', hostname: target.hostname, port: options.httpPort ?? 80 }, path: '/' },
      { origin: { scheme: 'https', hostname: target.hostname, port: options.httpsPort ?? 443 }, path: '/' },
    );
  } else {
    throw new TargetUnreachableError(
      `a ${target.type} target cannot be scanned as a web application`,
      'target_type_unsupported',
    );
  }
  const failures: string[] = [];
  let requests = 0;
  for (const [index, candidate] of candidates.entries()) {
    requests++;
    const answer = await probe(candidate.origin, address, candidate.path, options);
    if (!answer.ok) {
      failures.push(`${originText(candidate.origin)}: ${answer.error}`);
      continue;
    }
    if (index > 0)
      notes.push(`Nothing answered HTTP on ${originText(candidates[0]!.origin)} (${failures[0]}); scanned over HTTPS.`);
    if (answer.location) {
      const base = `${candidate.origin.scheme}://${candidate.origin.hostname}:${candidate.origin.port}${candidate.path}`;
      const upgrade = httpsUpgrade(answer.location, candidate.origin, base);
      if (upgrade) {
        requests++;
        const upgraded = await probe(upgrade.origin, address, upgrade.path, options);
        if (upgraded.ok) {
          notes.push(
            `${originText(candidate.origin)}${candidate.path} redirects to HTTPS on the same host: scanned ${originText(upgrade.origin)}${upgrade.path}.`,
          );
          return { origin: upgrade.origin, startPath: upgrade.path, notes, requests };
        }
      }
    }
    return { origin: candidate.origin, startPath: candidate.path, notes, requests };
  }
  throw new TargetUnreachableError(`no web server answered: ${failures.join('; ')}`, 'target_unreachable');
}
