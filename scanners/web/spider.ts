/**
 * The spider: a same-origin crawl from the start URL, breadth first, through links,
 * frames, meta refreshes, same-origin redirects, GET forms (submitted with default
 * values), same-origin scripts (fetched, not parsed), `robots.txt` (Allow, Disallow
 * and Sitemap lines) and `sitemap.xml`. Everything off the target's origin — links,
 * form actions, scripts, redirects — is recorded and never requested. Bounded by pages,
 * depth, variants of one path (the same path and parameter names with other values),
 * repeated path segments, and the HTTP client's own caps (requests, bytes, time).
 *
 * Without the spider (`follow: false`) only the start URL and the well-known paths are
 * fetched; their forms and parameters are still reported (for the active checks).
 * Every response goes to `onExchange` (the passive rules).
 */
import { HttpBudgetError, HttpRequestError, type HttpClient, type HttpResponse } from '../shared/httpClient.js';
import { ScanAbortedError } from '../shared/errors.js';
import type { CookieJar } from './cookieJar.js';
import { extractPage, scriptUrls, tokenizeHtml, type FormField, type PageLinks } from './htmlParser.js';
import { isHtml, type ObservedExchange } from './passiveRules.js';

export interface SpiderOptions {
  readonly client: HttpClient;
  /** Absolute start URL on the client's origin. */
  readonly startUrl: string;
  /** Follow links (spider_enabled); false: the start URL and the well-known paths only. */
  readonly follow: boolean;
  readonly maxPages: number;
  readonly maxDepth: number;
  /** URLs with the same path and parameter names (other values) fetched at most (default 5). */
  readonly maxVariantsPerPath?: number;
  /** Pages fetched at once (the client caps connections too). */
  readonly concurrency?: number;
  readonly jar: CookieJar;
  readonly onExchange: (exchange: ObservedExchange, response: HttpResponse) => void;
  readonly onPage?: (pagesDone: number) => void;
  readonly signal?: AbortSignal;
  /** Stop crawling at this time (ms since the epoch), keeping time for what follows. */
  readonly deadline?: number;
}

export interface CrawledPage {
  readonly url: string;
  readonly status: number;
  readonly contentType: string;
  readonly depth: number;
  /** Body length kept (capped by the client). */
  readonly length: number;
}

export interface DiscoveredForm {
  /** The page that holds the form. */
  readonly pageUrl: string;
  /** The absolute action URL (query included). */
  readonly action: string;
  readonly method: 'GET' | 'POST';
  readonly enctype: string;
  readonly fields: readonly FormField[];
  readonly tag: string;
}

export interface CrawlResult {
  readonly pages: CrawledPage[];
  readonly forms: DiscoveredForm[];
  readonly offOrigin: {
    readonly links: string[];
    readonly redirects: string[];
    readonly forms: string[];
    readonly scripts: string[];
  };
  readonly limitsReached: string[];
  readonly errors: number;
}

const SKIPPED_EXTENSIONS =
  /\.(png|jpe?g|gif|webp|bmp|ico|svg|tiff?|woff2?|ttf|otf|eot|mp[34]|m4[av]|webm|ogg|wav|avi|mov|flv|pdf|zip|gz|tgz|bz2|xz|7z|rar|tar|exe|dmg|iso|msi|apk|deb|rpm|docx?|xlsx?|pptx?|odt|css|map|wasm)$/i;
const WELL_KNOWN = ['/robots.txt', '/sitemap.xml', '/.well-known/security.txt'];
const MAX_URL_LENGTH = 2048;
const MAX_OFF_ORIGIN = 50;

function addBounded(list: string[], value: string): void {
  if (list.length < MAX_OFF_ORIGIN && !list.includes(value)) list.push(value);
}

/** The directory of a path ('/a/b.php' → '/a/', '/a/' → '/a/'). */
export function directoryOf(path: string): string {
  const cut = path.lastIndexOf('/');
  return cut === -1 ? '/' : path.slice(0, cut + 1);
}

/** robots.txt: the paths of Allow/Disallow lines (without wildcards) and the Sitemap URLs. */
export function parseRobots(text: string): { paths: string[]; sitemaps: string[] } {
  const paths: string[] = [];
  const sitemaps: string[] = [];
  for (const raw of text.split(/\r?\n/).slice(0, 2000)) {
    const line = raw.replace(/#.*/, '').trim();
    const match = /^(allow|disallow|sitemap)\s*:\s*(\S+)/i.exec(line);
    if (!match) continue;
    const value = match[2]!;
    if (match[1]!.toLowerCase() === 'sitemap') sitemaps.push(value);
    else if (value.startsWith('/')) paths.push(value.replace(/[*$].*$/, ''));
  }
  return { paths: paths.filter(Boolean), sitemaps };
}

/** sitemap.xml (or a sitemap index): the `<loc>` URLs. */
export function parseSitemap(text: string): string[] {
  const urls: string[] = [];
  const pattern = /<loc>\s*([^<\s]+)\s*<\/loc>/gi;
  for (let m = pattern.exec(text); m && urls.length < 5000; m = pattern.exec(text)) {
    urls.push(m[1]!.replace(/&amp;/g, '&'));
  }
  return urls;
}

/** A GET form's URL with its default values (what a browser sends when it is submitted as is). */
export function formSubmissionUrl(action: string, fields: readonly FormField[]): string {
  const url = new URL(action);
  url.search = '';
  const params = new URLSearchParams();
  for (const field of fields) {
    if (field.type === 'submit' || field.type === 'button') continue;
    params.append(field.name, field.value);
  }
  const query = params.toString();
  return `${url.toString()}${query ? `?${query}` : ''}`;
}

export async function crawl(options: SpiderOptions): Promise<CrawlResult> {
  const { client, jar } = options;
  const start = new URL(options.startUrl);
  const scope = directoryOf(start.pathname);
  const maxVariants = options.maxVariantsPerPath ?? 5;
  const concurrency = Math.max(1, options.concurrency ?? 4);
  const pages: CrawledPage[] = [];
  const forms: DiscoveredForm[] = [];
  const formKeys = new Set<string>();
  const offOrigin = {
    links: [] as string[],
    redirects: [] as string[],
    forms: [] as string[],
    scripts: [] as string[],
  };
  const limits = new Set<string>();
  const queued = new Set<string>();
  const variants = new Map<string, number>();
  const queue: { url: string; depth: number; kind: 'page' | 'script' | 'robots' | 'sitemap' }[] = [];
  let errors = 0;
  let stopped = false;

  const inScope = (url: URL) => url.pathname.startsWith(scope);

  function enqueue(raw: string, depth: number, kind: 'page' | 'script' | 'robots' | 'sitemap', force = false): void {
    if (stopped) return;
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      return;
    }
    url.hash = '';
    const text = url.toString();
    if (queued.has(text)) return;
    if (!force) {
      if (!options.follow) return;
      if (!inScope(url) || text.length > MAX_URL_LENGTH) return;
      if (kind === 'page' && SKIPPED_EXTENSIONS.test(url.pathname)) return;
      if (depth > options.maxDepth) {
        limits.add('max_depth');
        return;
      }
      const segments = url.pathname.split('/').filter(Boolean);
      const repeats = new Map<string, number>();
      for (const s of segments) repeats.set(s, (repeats.get(s) ?? 0) + 1);
      if ([...repeats.values()].some((n) => n > 3)) return;
      const pattern = `${url.pathname}?${[...new Set([...url.searchParams.keys()])].sort().join('&')}`;
      const seen = variants.get(pattern) ?? 0;
      if (seen >= maxVariants) return;
      variants.set(pattern, seen + 1);
    }
    if (queued.size >= options.maxPages * 4) return;
    queued.add(text);
    queue.push({ url: text, depth, kind });
  }

  function link(raw: string, base: string, depth: number, kind: 'page' | 'script'): void {
    const absolute = client.resolve(raw, base);
    if (!absolute) return;
    if (!client.isSameOrigin(absolute)) {
      addBounded(kind === 'script' ? offOrigin.scripts : offOrigin.links, absolute);
      return;
    }
    enqueue(absolute, depth, kind);
  }

  /** A URL found in JavaScript: followed when it is on the origin; other hosts are not recorded (often CDNs). */
  function linkFromScript(raw: string, base: string, depth: number): void {
    const absolute = client.resolve(raw, base);
    if (absolute && client.isSameOrigin(absolute)) enqueue(absolute, depth, 'page');
  }

  function processPage(url: string, depth: number, page: PageLinks): void {
    const base = page.base ? (client.resolve(page.base, url) ?? url) : url;
    for (const href of page.links) link(href, base, depth + 1, 'page');
    for (const script of page.inlineScripts) {
      for (const href of scriptUrls(script.text)) linkFromScript(href, base, depth + 1);
    }
    for (const script of page.scripts) link(script.src, base, depth + 1, 'script');
    for (const form of page.forms) {
      const action = client.resolve(form.action || url, base);
      if (!action) continue;
      if (!client.isSameOrigin(action)) {
        addBounded(offOrigin.forms, action);
        continue;
      }
      const key = `${form.method} ${action.split('?')[0]} ${form.fields.map((f) => f.name).join(',')}`;
      if (!formKeys.has(key) && forms.length < 500) {
        formKeys.add(key);
        forms.push({
          pageUrl: url,
          action,
          method: form.method,
          enctype: form.enctype,
          fields: form.fields,
          tag: form.tag,
        });
      }
      if (form.method === 'GET') enqueue(formSubmissionUrl(action, form.fields), depth + 1, 'page');
    }
  }

  async function fetchOne(item: (typeof queue)[number]): Promise<void> {
    const target = new URL(item.url);
    const response = await client.request({ url: `${target.pathname}${target.search}`, headers: jar.headers() });
    const requestHadCredentials = jar.header() !== undefined;
    jar.store(response.setCookies);
    const contentType = (response.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    pages.push({
      url: item.url,
      status: response.status,
      contentType,
      depth: item.depth,
      length: response.body.length,
    });
    options.onPage?.(pages.length);
    const exchangeBase = {
      url: item.url,
      method: 'GET',
      status: response.status,
      statusText: response.statusText,
      headers: response.headers,
      rawHeaders: response.rawHeaders,
      setCookies: response.setCookies,
      body: response.text,
      requestHadCredentials,
    };
    if (response.offTargetRedirect) addBounded(offOrigin.redirects, response.offTargetRedirect);
    const location = response.headers.location;
    if (response.status >= 300 && response.status < 400 && location) {
      const next = client.resolve(location, item.url);
      if (next && client.isSameOrigin(next))
        enqueue(next, item.depth + (item.depth === 0 ? 0 : 1), 'page', item.depth === 0);
    }
    if (item.kind === 'robots' && response.status === 200) {
      const robots = parseRobots(response.text);
      for (const p of robots.paths) enqueue(`${client.originUrl}${p}`, 1, 'page');
      for (const raw of robots.sitemaps) {
        const s = client.resolve(raw, item.url);
        if (!s) continue;
        if (client.isSameOrigin(s)) enqueue(s, 1, 'sitemap', true);
        else addBounded(offOrigin.links, s);
      }
    }
    if (
      (item.kind === 'sitemap' || /xml/.test(contentType)) &&
      response.status === 200 &&
      /<loc>/i.test(response.text)
    ) {
      for (const raw of parseSitemap(response.text)) {
        const loc = client.resolve(raw, item.url);
        if (!loc) continue;
        if (!client.isSameOrigin(loc)) addBounded(offOrigin.links, loc);
        else if (/\.xml(\?|$)/i.test(loc)) enqueue(loc, item.depth + 1, 'sitemap');
        else enqueue(loc, item.depth + 1, 'page');
      }
    }
    if (item.kind === 'script' && response.status === 200 && response.text) {
      for (const href of scriptUrls(response.text)) linkFromScript(href, item.url, item.depth + 1);
    }
    if (item.kind === 'page' && isHtml({ headers: response.headers, body: response.text }) && response.text) {
      const page = extractPage(response.text, tokenizeHtml(response.text));
      options.onExchange({ ...exchangeBase, page }, response);
      // Without the spider the start page's links are not followed, but its forms still count.
      processPage(item.url, item.depth, page);
      return;
    }
    options.onExchange(exchangeBase, response);
  }

  // The start URL first, alone: if it cannot be reached, nothing else is tried.
  enqueue(start.toString(), 0, 'page', true);
  const first = queue.shift()!;
  await fetchOne(first);
  for (const path of WELL_KNOWN) {
    enqueue(
      `${client.originUrl}${path}`,
      0,
      path === '/robots.txt' ? 'robots' : path.endsWith('.xml') ? 'sitemap' : 'page',
      true,
    );
  }

  let inFlight = 0;
  const waiting: (() => void)[] = [];
  const notify = () => {
    for (const wake of waiting.splice(0)) wake();
  };

  async function worker(): Promise<void> {
    for (;;) {
      if (stopped) return;
      if (options.signal?.aborted) throw new ScanAbortedError('web scan aborted');
      if (options.deadline !== undefined && Date.now() >= options.deadline && !stopped) {
        limits.add('time');
        stopped = true;
        queue.length = 0;
        notify();
        return;
      }
      const item = queue.shift();
      if (!item) {
        if (inFlight === 0) return;
        await new Promise<void>((resolve) => waiting.push(resolve));
        continue;
      }
      if (pages.length + inFlight >= options.maxPages) {
        limits.add('max_pages');
        stopped = true;
        queue.length = 0;
        notify();
        return;
      }
      inFlight++;
      try {
        await fetchOne(item);
      } catch (error) {
        if (error instanceof HttpBudgetError) {
          limits.add(/time/.test(error.message) ? 'time' : /bytes/.test(error.message) ? 'max_bytes' : 'max_requests');
          stopped = true;
          queue.length = 0;
        } else if (error instanceof HttpRequestError) {
          errors++;
        } else {
          throw error;
        }
      } finally {
        inFlight--;
        notify();
      }
    }
  }

  // A worker with nothing to do waits until a request in flight ends (it may queue more).
  const workers = Array.from({ length: concurrency }, async () => {
    try {
      await worker();
    } finally {
      notify();
    }
  });
  await Promise.all(workers);
  return { pages, forms, offOrigin, limitsReached: [...limits], errors };
}
