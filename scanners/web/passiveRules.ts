/**
 * ZAP's passive rules (baseline), as pure functions of one observed exchange: no
 * request is sent here. Each rule is keyed by ZAP's plugin id and raises ZAP's
 * alerts (alert references in zapRules.ts). What each checks, and where it departs
 * from ZAP, is listed in docs/scanners/zap.md.
 */
import type { RaisedAlert } from './alerts.js';
import { extractPage, tokenizeHtml, type PageLinks } from './htmlParser.js';

/** A response the spider (or a well-known path) saw, with what was asked. */
export interface ObservedExchange {
  /** Absolute URL, named by the target's host name. */
  readonly url: string;
  readonly method: string;
  readonly status: number;
  readonly statusText?: string;
  /** Lower-case names; repeated headers joined with ', '. */
  readonly headers: Readonly<Record<string, string>>;
  readonly rawHeaders: readonly (readonly [string, string])[];
  readonly setCookies: readonly string[];
  readonly body: string;
  /** The request carried a cookie or an Authorization header. */
  readonly requestHadCredentials: boolean;
  /** The page, when it is HTML (parsed once by the caller). */
  readonly page?: PageLinks;
}

export interface PassiveContext {
  /** Now, in ms since the epoch (the timestamp rule's window). */
  readonly now: number;
}

const SUCCESS = (status: number) => status >= 200 && status < 300;
const REDIRECT = (status: number) => status >= 300 && status < 400;

export function contentTypeOf(exchange: Pick<ObservedExchange, 'headers'>): string {
  return (exchange.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
}

export function isHtml(exchange: Pick<ObservedExchange, 'headers' | 'body'>): boolean {
  const type = contentTypeOf(exchange);
  if (type) return type === 'text/html' || type === 'application/xhtml+xml';
  return /^\s*(<!doctype html|<html|<head|<body)/i.test(exchange.body.slice(0, 512));
}

function isText(exchange: Pick<ObservedExchange, 'headers' | 'body'>): boolean {
  const type = contentTypeOf(exchange);
  if (!type) return true;
  return type.startsWith('text/') || /json|xml|javascript|ecmascript|x-www-form-urlencoded|x-sh|x-httpd/.test(type);
}

function isJavaScript(exchange: Pick<ObservedExchange, 'headers' | 'url'>): boolean {
  const type = contentTypeOf(exchange);
  return /javascript|ecmascript/.test(type) || /\.m?js(\?|$)/i.test(exchange.url);
}

function isCss(exchange: Pick<ObservedExchange, 'headers' | 'url'>): boolean {
  return contentTypeOf(exchange) === 'text/css' || /\.css(\?|$)/i.test(exchange.url);
}

function isImageOrFont(exchange: Pick<ObservedExchange, 'headers' | 'url'>): boolean {
  const type = contentTypeOf(exchange);
  return (
    type.startsWith('image/') ||
    type.startsWith('font/') ||
    /font/.test(type) ||
    /\.(png|jpe?g|gif|webp|ico|svg|bmp|woff2?|ttf|otf|eot)(\?|$)/i.test(exchange.url)
  );
}

function headerValues(exchange: Pick<ObservedExchange, 'rawHeaders'>, name: string): string[] {
  const key = name.toLowerCase();
  return exchange.rawHeaders.filter(([n]) => n.toLowerCase() === key).map(([, v]) => v);
}

function pageOf(exchange: ObservedExchange): PageLinks | undefined {
  if (exchange.page) return exchange.page;
  return isHtml(exchange) ? extractPage(exchange.body, tokenizeHtml(exchange.body)) : undefined;
}

/** The origin of a URL (resolved against `base`), or null. */
function originOf(url: string, base?: string): string | null {
  try {
    return new URL(url, base).origin;
  } catch {
    return null;
  }
}

/** The host of an absolute URL, or null. */
function hostOf(url: string): string | null {
  try {
    return new URL(url).hostname.toLowerCase();
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------- cookies

export interface ParsedCookie {
  readonly name: string;
  readonly value: string;
  /** Attribute names (lower-case) → values. */
  readonly attributes: ReadonlyMap<string, string>;
}

export function parseSetCookie(header: string): ParsedCookie | null {
  const parts = header.split(';');
  const first = parts.shift() ?? '';
  const eq = first.indexOf('=');
  const name = (eq === -1 ? '' : first.slice(0, eq)).trim();
  const value = (eq === -1 ? first : first.slice(eq + 1)).trim();
  if (!name && !value) return null;
  const attributes = new Map<string, string>();
  for (const part of parts) {
    const at = part.indexOf('=');
    const key = (at === -1 ? part : part.slice(0, at)).trim().toLowerCase();
    if (key) attributes.set(key, at === -1 ? '' : part.slice(at + 1).trim());
  }
  return { name, value, attributes };
}

/** A cookie being deleted (empty value with an expiry in the past, or Max-Age ≤ 0). */
export function isExpiredCookie(cookie: ParsedCookie, now: number): boolean {
  const maxAge = cookie.attributes.get('max-age');
  if (maxAge !== undefined && /^-?\d+$/.test(maxAge) && Number(maxAge) <= 0) return true;
  const expires = cookie.attributes.get('expires');
  if (expires) {
    const at = Date.parse(expires);
    if (Number.isFinite(at) && at < now) return true;
  }
  return false;
}

/** The Set-Cookie header with the cookie's value hidden (evidence must not carry session secrets). */
export function redactedCookie(header: string): string {
  const semi = header.indexOf(';');
  const first = semi === -1 ? header : header.slice(0, semi);
  const eq = first.indexOf('=');
  const name = eq === -1 ? first : first.slice(0, eq);
  const value = eq === -1 ? '' : first.slice(eq + 1);
  const shown = value.length <= 4 ? value : `${value.slice(0, 2)}…`;
  return `${name}=${shown}${semi === -1 ? '' : header.slice(semi)}`.slice(0, 300);
}

function cookieRules(exchange: ObservedExchange, https: boolean, context: PassiveContext): RaisedAlert[] {
  const alerts: RaisedAlert[] = [];
  for (const header of exchange.setCookies) {
    const cookie = parseSetCookie(header);
    if (!cookie || isExpiredCookie(cookie, context.now)) continue;
    const base = { uri: exchange.url, method: exchange.method, param: cookie.name, evidence: redactedCookie(header) };
    if (!cookie.attributes.has('httponly')) alerts.push({ alertRef: '10010', ...base });
    if (https && !cookie.attributes.has('secure')) alerts.push({ alertRef: '10011', ...base });
    const sameSite = cookie.attributes.get('samesite');
    if (sameSite === undefined) alerts.push({ alertRef: '10054-1', ...base });
    else if (sameSite.toLowerCase() === 'none') alerts.push({ alertRef: '10054-2', ...base });
    else if (!['strict', 'lax'].includes(sameSite.toLowerCase())) alerts.push({ alertRef: '10054-3', ...base });
  }
  return alerts;
}

// ---------------------------------------------------------------- headers

/** Content-Security-Policy directives (lower-case names → source lists, lower-case). */
export function parseCsp(policy: string): Map<string, string[]> {
  const directives = new Map<string, string[]>();
  for (const part of policy.split(';')) {
    const words = part.trim().split(/\s+/).filter(Boolean);
    if (words.length === 0) continue;
    const name = words[0]!.toLowerCase();
    if (!directives.has(name))
      directives.set(
        name,
        words.slice(1).map((w) => w.toLowerCase()),
      );
  }
  return directives;
}

function metaCsp(page: PageLinks | undefined): string | undefined {
  return page?.metaHttpEquiv.get('content-security-policy');
}

function antiClickjacking(exchange: ObservedExchange, page: PageLinks | undefined): RaisedAlert[] {
  if (!isHtml(exchange) || !exchange.body || !SUCCESS(exchange.status)) return [];
  const csp = headerValues(exchange, 'content-security-policy').join(';');
  if (/frame-ancestors/i.test(csp)) return [];
  const base = { uri: exchange.url, method: exchange.method, param: 'x-frame-options' };
  const alerts: RaisedAlert[] = [];
  const xfo = headerValues(exchange, 'x-frame-options');
  if (xfo.length === 0) alerts.push({ alertRef: '10020-1', ...base });
  else {
    for (const value of xfo) {
      if (!/deny|sameorigin/i.test(value)) alerts.push({ alertRef: '10020-4', ...base, evidence: value });
    }
    if (xfo.length > 1) alerts.push({ alertRef: '10020-2', ...base, evidence: xfo.join(', ') });
  }
  const meta = page?.metaHttpEquiv.get('x-frame-options');
  if (meta !== undefined) alerts.push({ alertRef: '10020-3', ...base, evidence: meta });
  return alerts;
}

function contentTypeOptions(exchange: ObservedExchange): RaisedAlert[] {
  if (!exchange.body || !SUCCESS(exchange.status)) return [];
  const values = headerValues(exchange, 'x-content-type-options');
  const base = { alertRef: '10021', uri: exchange.url, method: exchange.method, param: 'x-content-type-options' };
  if (values.length === 0) return [base];
  return values.filter((v) => !/nosniff/i.test(v)).map((v) => ({ ...base, evidence: v }));
}

function strictTransportSecurity(exchange: ObservedExchange, https: boolean, originHost: string): RaisedAlert[] {
  if (!https) return [];
  const values = headerValues(exchange, 'strict-transport-security');
  const base = { uri: exchange.url, method: exchange.method, param: 'strict-transport-security' };
  if (values.length === 0) {
    if (REDIRECT(exchange.status)) {
      // A redirect to HTTPS on the same host is not reported (as ZAP at its default threshold).
      const location = exchange.headers.location ?? '';
      try {
        const target = new URL(location, exchange.url);
        if (target.protocol === 'https:' && target.hostname.toLowerCase() === originHost) return [];
      } catch {
        /* report it */
      }
    }
    return [{ alertRef: '10035-1', ...base }];
  }
  if (values.length > 1) return [{ alertRef: '10035-3', ...base, evidence: values.join(', ') }];
  const value = values[0]!;
  const maxAge = /max-age\s*=\s*"?(\d+)"?/i.exec(value);
  if (!maxAge) return [{ alertRef: '10035-5', ...base, evidence: value }];
  if (Number(maxAge[1]) === 0) return [{ alertRef: '10035-2', ...base, evidence: maxAge[0] }];
  return [];
}

const FETCH_DIRECTIVES = [
  'script-src',
  'style-src',
  'img-src',
  'connect-src',
  'frame-src',
  'font-src',
  'media-src',
  'object-src',
  'manifest-src',
  'worker-src',
];
const NO_FALLBACK = ['frame-ancestors', 'form-action', 'base-uri'];
const WILDCARD_SOURCES = new Set(['*', 'http:', 'https:', 'data:', 'http://*', 'https://*']);

function contentSecurityPolicy(exchange: ObservedExchange, page: PageLinks | undefined): RaisedAlert[] {
  if (!isHtml(exchange) || REDIRECT(exchange.status)) return [];
  const headers = headerValues(exchange, 'content-security-policy');
  const meta = metaCsp(page);
  const base = { uri: exchange.url, method: exchange.method, param: 'content-security-policy' };
  if (headers.length === 0 && meta === undefined) {
    if (!SUCCESS(exchange.status)) return [];
    if (headerValues(exchange, 'content-security-policy-report-only').length > 0) {
      return [{ alertRef: '10038-3', ...base, param: 'content-security-policy-report-only' }];
    }
    return [{ alertRef: '10038-1', ...base }];
  }
  const policy = headers.length > 0 ? headers.join(';') : (meta ?? '');
  const directives = parseCsp(policy);
  const evidence = policy.slice(0, 300);
  const alerts: RaisedAlert[] = [];
  const effective = (name: string) => directives.get(name) ?? directives.get('default-src');
  const broad = FETCH_DIRECTIVES.filter((name) => {
    const sources = effective(name);
    return (
      sources === undefined || sources.some((s) => WILDCARD_SOURCES.has(s) && !(s === 'data:' && name === 'img-src'))
    );
  });
  if (broad.length > 0) {
    alerts.push({
      alertRef: '10055-4',
      ...base,
      evidence,
      otherinfo: `These directives allow any source or are not defined (with no default-src): ${broad.join(', ')}.`,
    });
  }
  const scriptSources = effective('script-src') ?? [];
  const hasNonceOrHash = scriptSources.some((s) => /^'(nonce-|sha256-|sha384-|sha512-)/.test(s));
  if (scriptSources.includes("'unsafe-inline'") && !hasNonceOrHash) {
    alerts.push({ alertRef: '10055-5', ...base, evidence });
  }
  if (scriptSources.includes("'unsafe-eval'")) alerts.push({ alertRef: '10055-10', ...base, evidence });
  const styleSources = effective('style-src') ?? [];
  if (styleSources.includes("'unsafe-inline'") && !styleSources.some((s) => /^'(nonce-|sha\d+-)/.test(s))) {
    alerts.push({ alertRef: '10055-6', ...base, evidence });
  }
  const missing = NO_FALLBACK.filter((name) => {
    const sources = directives.get(name);
    return sources === undefined || sources.includes('*');
  });
  if (missing.length > 0) {
    alerts.push({
      alertRef: '10055-13',
      ...base,
      evidence,
      otherinfo: `Directives without fallback that are missing or allow anything: ${missing.join(', ')}.`,
    });
  }
  return alerts;
}

function serverHeader(exchange: ObservedExchange): RaisedAlert[] {
  return headerValues(exchange, 'server')
    .filter((value) => value.trim())
    .map((value) => ({
      alertRef: /\d/.test(value) ? '10036-2' : '10036-1',
      uri: exchange.url,
      method: exchange.method,
      param: 'server',
      evidence: value.slice(0, 200),
    }));
}

function poweredBy(exchange: ObservedExchange): RaisedAlert[] {
  return headerValues(exchange, 'x-powered-by').map((value) => ({
    alertRef: '10037',
    uri: exchange.url,
    method: exchange.method,
    param: 'x-powered-by',
    evidence: `X-Powered-By: ${value}`.slice(0, 200),
  }));
}

function cacheControl(exchange: ObservedExchange, https: boolean, page: PageLinks | undefined): RaisedAlert[] {
  if (!https || !SUCCESS(exchange.status) || exchange.method === 'POST' || !exchange.body) return [];
  if (!isText(exchange) || isJavaScript(exchange) || isCss(exchange) || isImageOrFont(exchange)) return [];
  const sensitive =
    exchange.requestHadCredentials ||
    exchange.setCookies.length > 0 ||
    Boolean(page?.forms.some((form) => form.fields.some((field) => field.type === 'password')));
  if (!sensitive) return [];
  const value = headerValues(exchange, 'cache-control').join(', ');
  if (/no-store/i.test(value)) return [];
  return [{ alertRef: '10015', uri: exchange.url, method: exchange.method, param: 'cache-control', evidence: value }];
}

function crossDomainScripts(exchange: ObservedExchange, page: PageLinks | undefined): RaisedAlert[] {
  if (!page) return [];
  const host = hostOf(exchange.url);
  const alerts: RaisedAlert[] = [];
  for (const script of page.scripts) {
    let absolute: URL;
    try {
      absolute = new URL(script.src, exchange.url);
    } catch {
      continue;
    }
    if (absolute.protocol !== 'http:' && absolute.protocol !== 'https:') continue;
    if (absolute.hostname.toLowerCase() === host || script.integrity.trim()) continue;
    alerts.push({
      alertRef: '10017',
      uri: exchange.url,
      method: exchange.method,
      param: script.src.slice(0, 300),
      evidence: script.tag,
    });
  }
  return alerts;
}

const SUSPICIOUS_WORDS = [
  'TODO',
  'FIXME',
  'BUG',
  'BUGS',
  'XXX',
  'QUERY',
  'DB',
  'ADMIN',
  'ADMINISTRATOR',
  'USER',
  'USERNAME',
  'SELECT',
  'WHERE',
  'FROM',
  'LATER',
  'DEBUG',
  'PASSWORD',
  'PASSWD',
  'SECRET',
  'HACK',
];
const SUSPICIOUS = new RegExp(`\\b(${SUSPICIOUS_WORDS.join('|')})\\b`, 'i');

/** Comments of a JavaScript source (strings and template literals skipped; bounded). */
export function javaScriptComments(source: string): string[] {
  const comments: string[] = [];
  const n = Math.min(source.length, 500_000);
  let i = 0;
  while (i < n && comments.length < 500) {
    const c = source[i];
    if (c === '"' || c === "'" || c === '`') {
      i++;
      while (i < n && source[i] !== c) {
        if (source[i] === '\\') i++;
        else if (c !== '`' && source[i] === '\n') break;
        i++;
      }
      i++;
    } else if (c === '/' && source[i + 1] === '/') {
      const end = source.indexOf('\n', i);
      comments.push(source.slice(i, end === -1 ? n : end));
      i = end === -1 ? n : end;
    } else if (c === '/' && source[i + 1] === '*') {
      const end = source.indexOf('*/', i + 2);
      comments.push(source.slice(i, end === -1 ? n : end + 2));
      i = end === -1 ? n : end + 2;
    } else {
      i++;
    }
  }
  return comments;
}

function suspiciousComments(exchange: ObservedExchange, page: PageLinks | undefined): RaisedAlert[] {
  if (!exchange.body || !isText(exchange) || isImageOrFont(exchange)) return [];
  const comments: string[] = [];
  if (page) {
    for (const comment of page.comments) comments.push(`<!--${comment.text}-->`);
    for (const script of page.inlineScripts) comments.push(...javaScriptComments(script.text));
  } else if (isJavaScript(exchange)) {
    comments.push(...javaScriptComments(exchange.body));
  } else {
    return [];
  }
  const byWord = new Map<string, RaisedAlert>();
  for (const comment of comments) {
    const match = SUSPICIOUS.exec(comment);
    if (!match) continue;
    const word = match[1]!.toUpperCase();
    if (byWord.has(word)) continue;
    const from = Math.max(0, match.index - 20);
    byWord.set(word, {
      alertRef: '10027',
      uri: exchange.url,
      method: exchange.method,
      evidence: comment.slice(from, match.index + match[0].length + 20).trim(),
      otherinfo: `The comment matches the suspicious word "${word}": ${comment.slice(0, 200)}`,
    });
  }
  return [...byWord.values()];
}

const TIMESTAMP_IGNORED_HEADERS = new Set([
  'keep-alive',
  'cache-control',
  'etag',
  'age',
  'strict-transport-security',
  'report-to',
  'nel',
  'expect-ct',
  'ratelimit-reset',
  'x-ratelimit-reset',
  'x-rate-limit-reset',
]);
const TIMESTAMP = /\b(?:1\d|2[0-2])\d{8}\b(?!%)/g;
const TEN_YEARS_MS = 10 * 365.25 * 24 * 3600 * 1000;

function timestamps(exchange: ObservedExchange, context: PassiveContext): RaisedAlert[] {
  if (isImageOrFont(exchange)) return [];
  const haystacks: [string, string][] = exchange.rawHeaders
    .filter(([name]) => !TIMESTAMP_IGNORED_HEADERS.has(name.toLowerCase()))
    .map(([name, value]) => [name, value]);
  if (isText(exchange)) haystacks.push(['', exchange.body.slice(0, 1_000_000)]);
  const found = new Map<string, RaisedAlert>();
  for (const [name, text] of haystacks) {
    TIMESTAMP.lastIndex = 0;
    for (let m = TIMESTAMP.exec(text); m && found.size < 20; m = TIMESTAMP.exec(text)) {
      const at = Number(m[0]) * 1000;
      if (Math.abs(at - context.now) > TEN_YEARS_MS || found.has(m[0])) continue;
      found.set(m[0], {
        alertRef: '10096',
        uri: exchange.url,
        method: exchange.method,
        ...(name ? { param: name } : {}),
        evidence: m[0],
        otherinfo: `${m[0]}, which evaluates to: ${new Date(at).toISOString()}.`,
      });
    }
  }
  return [...found.values()];
}

function crossDomainMisconfiguration(exchange: ObservedExchange): RaisedAlert[] {
  const value = exchange.headers['access-control-allow-origin'];
  if (value === undefined) return [];
  if (value.trim() === '*' || value.trim().toLowerCase() === 'null') {
    return [
      {
        alertRef: '10098',
        uri: exchange.url,
        method: exchange.method,
        param: 'access-control-allow-origin',
        evidence: `Access-Control-Allow-Origin: ${value.trim()}`,
      },
    ];
  }
  return [];
}

/** Field names that carry anti-CSRF tokens (ZAP's defaults, plus common frameworks'). */
export const ANTI_CSRF_NAMES = [
  'anticsrf',
  'csrftoken',
  'csrf-token',
  'csrf_token',
  '__requestverificationtoken',
  'csrfmiddlewaretoken',
  'authenticity_token',
  'owasp_csrftoken',
  'anoncsrf',
  '_csrf',
  '_csrfsecret',
  '__csrf_magic',
  'csrf',
  '_token',
  '_csrf_token',
  '_csrftoken',
  'xsrf_token',
  'xsrf-token',
  '_xsrf',
  'csrfname',
  'token',
  '_wpnonce',
  'form_token',
  'form_key',
  'nonce',
  'yii_csrf_token',
  '__csrf',
];

export function isAntiCsrfName(name: string): boolean {
  const lower = name.toLowerCase();
  return ANTI_CSRF_NAMES.includes(lower) || /csrf|xsrf/.test(lower);
}

/** Shannon entropy in bits per character. */
export function entropy(text: string): number {
  if (!text) return 0;
  const counts = new Map<string, number>();
  for (const c of text) counts.set(c, (counts.get(c) ?? 0) + 1);
  let bits = 0;
  for (const count of counts.values()) {
    const p = count / text.length;
    bits -= p * Math.log2(p);
  }
  return bits;
}

/** A form's action as an absolute URL (the page itself when empty). */
function actionOf(action: string, page: string): string {
  try {
    const url = new URL(action || page, page);
    url.hash = '';
    return url.toString();
  } catch {
    return action;
  }
}

function antiCsrfTokens(exchange: ObservedExchange, page: PageLinks | undefined): RaisedAlert[] {
  if (!page) return [];
  const alerts: RaisedAlert[] = [];
  const origin = originOf(exchange.url);
  page.forms.forEach((form, index) => {
    if (form.method !== 'POST') return;
    // A form that posts to another site is that site's concern (and is never submitted).
    if (originOf(form.action || exchange.url, exchange.url) !== origin) return;
    const names = form.fields.map((f) => f.name);
    const token = form.fields.find((f) => isAntiCsrfName(f.name) && f.type === 'hidden');
    const base = { alertRef: '10202', uri: exchange.url, method: exchange.method, evidence: form.tag };
    if (!token) {
      alerts.push({
        ...base,
        otherinfo:
          `No known anti-CSRF token was found in form ${index + 1} (action ${actionOf(form.action, exchange.url)}), ` +
          `fields: ${names.join(', ') || 'none'}.`,
      });
    } else if (token.value.length < 8 || entropy(token.value) < 3) {
      alerts.push({
        ...base,
        param: token.name,
        otherinfo: `The anti-CSRF token "${token.name}" of form ${index + 1} (action ${actionOf(form.action, exchange.url)}) looks predictable (too short or too regular).`,
      });
    }
  });
  return alerts;
}

function siteIsolation(exchange: ObservedExchange): RaisedAlert[] {
  if (!SUCCESS(exchange.status)) return [];
  const alerts: RaisedAlert[] = [];
  const base = { uri: exchange.url, method: exchange.method };
  const hasCors = exchange.rawHeaders.some(([name]) => name.toLowerCase().startsWith('access-control-allow-'));
  const values = (name: string) =>
    headerValues(exchange, name).flatMap((v) =>
      v
        .split(';')
        .map((s) => s.trim())
        .filter((s) => s && !s.toLowerCase().startsWith('report-to')),
    );
  if (!hasCors) {
    const corp = values('cross-origin-resource-policy');
    if (corp.length === 0) alerts.push({ alertRef: '90004-1', ...base, param: 'Cross-Origin-Resource-Policy' });
    for (const v of corp) {
      if (!['same-origin', 'cross-origin'].includes(v.toLowerCase()))
        alerts.push({ alertRef: '90004-1', ...base, param: 'Cross-Origin-Resource-Policy', evidence: v });
    }
  }
  const type = contentTypeOf(exchange);
  if (type.startsWith('text/html') || type.startsWith('application/xml')) {
    const coep = values('cross-origin-embedder-policy');
    if (coep.length === 0) alerts.push({ alertRef: '90004-2', ...base, param: 'Cross-Origin-Embedder-Policy' });
    for (const v of coep) {
      if (!['require-corp', 'credentialless'].includes(v.toLowerCase()))
        alerts.push({ alertRef: '90004-2', ...base, param: 'Cross-Origin-Embedder-Policy', evidence: v });
    }
    const coop = values('cross-origin-opener-policy');
    if (coop.length === 0) alerts.push({ alertRef: '90004-3', ...base, param: 'Cross-Origin-Opener-Policy' });
    for (const v of coop) {
      if (v.toLowerCase() !== 'same-origin')
        alerts.push({ alertRef: '90004-3', ...base, param: 'Cross-Origin-Opener-Policy', evidence: v });
    }
  }
  return alerts;
}

/**
 * Error messages that show an application failed (from ZAP's application_errors.xml,
 * without its most generic strings, plus stack-trace shapes of common platforms).
 */
const ERROR_STRINGS = [
  'Microsoft OLE DB Provider for ODBC Drivers',
  'Microsoft OLE DB Provider for SQL Server',
  'ODBC Microsoft Access Driver',
  'ODBC SQL Server Driver',
  'supplied argument is not a valid MySQL result',
  'You have an error in your SQL syntax',
  'Incorrect column name',
  'Unknown table',
  'Incorrect column specifier for column',
  "Column count doesn't match value count at row",
  'Unclosed quotation mark before the character string',
  'java.lang.NumberFormatException: For input string:',
  '): encountered SQLException [',
  'Unexpected end of command in statement [',
  'ERROR: parser: parse error at or near',
  '[ODBC Informix driver][Informix]',
  'SQL command not properly ended',
  'unexpected end of SQL command',
  'Supplied argument is not a valid PostgreSQL result',
  'internal error [IBM][CLI Driver][DB2/6000]',
  'Error Occurred While Processing Request',
  'ADODB.Field error',
  'ASP.NET is configured to show verbose error messages',
  'Active Server Pages error',
  'An illegal character has been found in the statement',
  'An unexpected token "END-OF-STATEMENT" was found',
  'Error Diagnostic Information',
  'Error converting data type varchar to numeric',
  'Invalid Path Character',
  'Invalid procedure call or argument',
  'Microsoft VBScript compilation error',
  'Microsoft VBScript error',
  'OLE/DB provider returned message',
  'PHP Parse error',
  "Permission denied: 'GetObject'",
  'PostgreSQL query failed: ERROR: parser: parse error',
  'Unterminated string constant',
  'Warning: Cannot modify header information - headers already sent',
  'Warning: Supplied argument is not a valid File-Handle resource in',
  'Warning: mysql_query()',
  'Warning: pg_connect(): Unable to connect to PostgreSQL server: FATAL',
  'mySQL error with query',
  'on MySQL result index',
  'Traceback (most recent call last):',
  'Exception in thread "',
  'System.Data.SqlClient.SqlException',
  'Stack trace:',
  'PDOException',
];
const ERROR_PATTERNS = [
  /Line\s\d+:\sIncorrect\ssyntax\snear\s'[^']*'/i,
  /pg_query\(\)[:]*\squery\sfailed:\serror:\s/i,
  /ORA-\d{4,5}:\s/,
  /<b>(?:Warning|Fatal\serror|Parse\serror)<\/b>:\s+.*?\sin\s<b>.*?<\/b>\son\sline\s<b>\d*?<\/b>/i,
  /Unknown database '.*?'/,
  /No database selected/,
  /Table '.*?' doesn't exist/,
  /Server Error in '[^']*' Application/,
  /<title>(?:JRun Servlet Error|Servlet Error)/i,
  /\bat [\w$.]+\((?:[\w$]+\.java|Native Method|Unknown Source):?\d*\)/,
  /^\s+at .+ \(\/[^)]+\.(?:js|ts|mjs|cjs):\d+:\d+\)$/m,
  /\bFatal error: Uncaught /,
];

export function findApplicationError(body: string): string | null {
  for (const needle of ERROR_STRINGS) {
    if (body.includes(needle)) return needle;
  }
  for (const pattern of ERROR_PATTERNS) {
    const match = pattern.exec(body);
    if (match) return match[0].slice(0, 200);
  }
  return null;
}

function applicationErrors(exchange: ObservedExchange): RaisedAlert[] {
  const base = { alertRef: '90022', uri: exchange.url, method: exchange.method };
  if (exchange.status === 500) {
    return [{ ...base, risk: 1, evidence: `HTTP/1.1 500 ${exchange.statusText || 'Internal Server Error'}` }];
  }
  if (exchange.status === 404 || isJavaScript(exchange) || isCss(exchange) || !isText(exchange)) return [];
  const evidence = findApplicationError(exchange.body.slice(0, 1_000_000));
  return evidence ? [{ ...base, evidence }] : [];
}

const DIRECTORY_LISTINGS: readonly [RegExp, string][] = [
  [/<title>Index of \/[^<]*?<\/title>/i, 'Apache / nginx / lighttpd'],
  [/<pre><A\s+HREF\s*=\s*"\/[^>]*">\[To Parent Directory\]<\/A><br><br>/i, 'Microsoft IIS'],
  [/<title>Directory listing for \/[^<]*<\/title>/i, 'Python http.server'],
  [/<title>Directory Listing For \/[^<]*<\/title>/i, 'Apache Tomcat'],
  [/<h1>Index of \/[^<]*<\/h1>/i, 'autoindex'],
];

/** The evidence of a directory listing in a page, or null. */
export function findDirectoryListing(body: string): { evidence: string; server: string } | null {
  for (const [pattern, server] of DIRECTORY_LISTINGS) {
    const match = pattern.exec(body);
    if (match) return { evidence: match[0].slice(0, 200), server };
  }
  return null;
}

function directoryBrowsing(exchange: ObservedExchange): RaisedAlert[] {
  if (!SUCCESS(exchange.status) || !isHtml(exchange)) return [];
  const listing = findDirectoryListing(exchange.body);
  if (!listing) return [];
  return [
    {
      alertRef: '10033',
      uri: exchange.url,
      method: exchange.method,
      evidence: listing.evidence,
      otherinfo: `The listing looks like one made by ${listing.server}.`,
    },
  ];
}

const MIXED_ATTRIBUTES = ['src', 'background', 'classid', 'codebase', 'data', 'icon', 'usemap', 'action', 'formaction'];

function mixedContent(exchange: ObservedExchange, https: boolean): RaisedAlert[] {
  if (!https || !exchange.body || !isHtml(exchange)) return [];
  const found: string[] = [];
  let scripts = false;
  for (const token of tokenizeHtml(exchange.body)) {
    if (token.type !== 'start') continue;
    for (const attribute of MIXED_ATTRIBUTES) {
      const value = token.attrs.get(attribute);
      if (value && value.trim().toLowerCase().startsWith('http:')) {
        found.push(`tag=${token.name} ${attribute}=${value.trim()}`);
        if (token.name === 'script' && attribute === 'src') scripts = true;
      }
    }
  }
  if (found.length === 0) return [];
  return [
    {
      alertRef: '10040',
      ...(scripts ? { name: 'Secure Pages Include Mixed Content (Including Scripts)', risk: 2 as const } : {}),
      uri: exchange.url,
      method: exchange.method,
      evidence: found[0]!.slice(0, 300),
      otherinfo: found.slice(0, 20).join('\n'),
    },
  ];
}

/** Every passive rule on one exchange. `https`: the page was fetched over TLS. */
export function passiveAlerts(exchange: ObservedExchange, context: PassiveContext): RaisedAlert[] {
  let url: URL;
  try {
    url = new URL(exchange.url);
  } catch {
    return [];
  }
  const https = url.protocol === 'https:';
  const page = pageOf(exchange);
  return [
    ...cookieRules(exchange, https, context),
    ...antiClickjacking(exchange, page),
    ...contentTypeOptions(exchange),
    ...strictTransportSecurity(exchange, https, url.hostname.toLowerCase()),
    ...contentSecurityPolicy(exchange, page),
    ...serverHeader(exchange),
    ...poweredBy(exchange),
    ...cacheControl(exchange, https, page),
    ...crossDomainScripts(exchange, page),
    ...suspiciousComments(exchange, page),
    ...timestamps(exchange, context),
    ...crossDomainMisconfiguration(exchange),
    ...antiCsrfTokens(exchange, page),
    ...siteIsolation(exchange),
    ...applicationErrors(exchange),
    ...directoryBrowsing(exchange),
    ...mixedContent(exchange, https),
  ];
}
