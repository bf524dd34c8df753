/**
 * Endpoints and insertion points of the active checks: every crawled URL with a
 * query (one per path and set of parameter names) and every form (GET and POST,
 * sent URL-encoded), with default values filled in the way a browser user would.
 * `sendWith` sends an endpoint with one parameter changed and describes the request
 * for the evidence.
 */
import type { HttpClient, HttpResponse } from '../shared/httpClient.js';
import type { CookieJar } from './cookieJar.js';
import type { FormField } from './htmlParser.js';
import type { CrawledPage, DiscoveredForm } from './spider.js';

export interface Endpoint {
  readonly method: 'GET' | 'POST';
  /** Absolute URL of the page without the parameters under test (a POST form keeps its action's query). */
  readonly baseUrl: string;
  /** Parameters in order, with the values sent by default. */
  readonly params: readonly (readonly [string, string])[];
  readonly source: 'link' | 'form';
  /** The page that led to it (forms). */
  readonly pageUrl?: string;
  /** The form's fields, when it is a form. */
  readonly fields?: readonly FormField[];
  /** multipart/form-data forms are sent as such; everything else URL-encoded. */
  readonly multipart?: boolean;
}

export interface InsertionPoint {
  readonly endpoint: Endpoint;
  readonly param: string;
  /** The value the parameter has by default. */
  readonly original: string;
}

/** A value for an empty form field, by its type and name (what a person would type). */
export function defaultValue(field: Pick<FormField, 'name' | 'type' | 'value'>): string {
  if (field.value) return field.value;
  const name = field.name.toLowerCase();
  switch (field.type) {
    case 'email':
      return 'secably@example.com';
    case 'number':
    case 'range':
      return '1';
    case 'url':
      return 'https://example.com/';
    case 'tel':
      return '0123456789';
    case 'date':
      return '2024-01-01';
    case 'password':
      return 'Secably-Pass-1';
    case 'checkbox':
    case 'radio':
      return 'on';
    default:
      break;
  }
  if (/mail/.test(name)) return 'secably@example.com';
  if (/url|link|site|website|homepage/.test(name)) return 'https://example.com/';
  if (/^(id|.*_id|page|num|qty|count|age|year|amount|quantity)$/.test(name)) return '1';
  if (/phone|tel/.test(name)) return '0123456789';
  return 'secably';
}

/** The endpoints to attack, deduplicated (method, path, parameter names), bounded. */
export function endpointsOf(pages: readonly CrawledPage[], forms: readonly DiscoveredForm[], max = 150): Endpoint[] {
  const endpoints: Endpoint[] = [];
  const keys = new Set<string>();
  const add = (endpoint: Endpoint) => {
    if (endpoint.params.length === 0 || endpoints.length >= max) return;
    const path = endpoint.baseUrl.split('?')[0];
    const key = `${endpoint.method} ${path} ${endpoint.params.map(([n]) => n).join('&')}`;
    if (keys.has(key)) return;
    keys.add(key);
    endpoints.push(endpoint);
  };
  for (const page of pages) {
    if (page.status >= 400 && page.status !== 500) continue;
    let url: URL;
    try {
      url = new URL(page.url);
    } catch {
      continue;
    }
    if (!url.search) continue;
    const params = [...url.searchParams.entries()].slice(0, 20);
    url.search = '';
    add({ method: 'GET', baseUrl: url.toString(), params, source: 'link' });
  }
  for (const form of forms) {
    const fields = form.fields.filter((f) => f.type !== 'file').slice(0, 30);
    const params = fields.map((f) => [f.name, defaultValue(f)] as const);
    let baseUrl = form.action;
    if (form.method === 'GET') {
      const url = new URL(form.action);
      url.search = '';
      baseUrl = url.toString();
    }
    add({
      method: form.method,
      baseUrl,
      params,
      source: 'form',
      pageUrl: form.pageUrl,
      fields: form.fields,
      ...(form.method === 'POST' && form.enctype.includes('multipart/form-data') ? { multipart: true } : {}),
    });
  }
  return endpoints;
}

/** Every parameter of every endpoint (submit buttons last: they rarely reach code). */
export function insertionPointsOf(endpoints: readonly Endpoint[], max = 400): InsertionPoint[] {
  const points: InsertionPoint[] = [];
  const buttons: InsertionPoint[] = [];
  for (const endpoint of endpoints) {
    const seen = new Set<string>();
    for (const [param, original] of endpoint.params) {
      if (seen.has(param)) continue;
      seen.add(param);
      const type = endpoint.fields?.find((f) => f.name === param)?.type;
      (type === 'submit' || type === 'button' ? buttons : points).push({ endpoint, param, original });
    }
  }
  return [...points, ...buttons].slice(0, max);
}

const encode = (value: string) => encodeURIComponent(value);

function formBody(params: readonly (readonly [string, string])[]): string {
  return params.map(([name, value]) => `${encode(name)}=${encode(value)}`).join('&');
}

/** A multipart/form-data body (text fields only). */
function multipartBody(params: readonly (readonly [string, string])[]): { body: string; type: string } {
  const boundary = `----SecAblyBoundary${Math.random().toString(36).slice(2, 12)}`;
  const parts = params.map(
    ([name, value]) =>
      `--${boundary}\r\nContent-Disposition: form-data; name="${name.replace(/["\r\n]/g, '_')}"\r\n\r\n${value}\r\n`,
  );
  return { body: `${parts.join('')}--${boundary}--\r\n`, type: `multipart/form-data; boundary=${boundary}` };
}

/** The raw path + query to request for an absolute URL on the client's origin. */
export function pathOf(absolute: string): string {
  const url = new URL(absolute);
  return `${url.pathname}${url.search}`;
}

export interface SentRequest {
  readonly response: HttpResponse;
  /** The request as text (request line, Host, body) for evidence. */
  readonly described: string;
  /** What `uri` a report shows for it. */
  readonly uri: string;
}

/**
 * Sends `endpoint` with `param` set to `value` (the other parameters at their defaults),
 * with the session's cookies. `raw`: the value is already encoded for the query.
 */
export async function sendWith(
  client: HttpClient,
  jar: CookieJar,
  endpoint: Endpoint,
  overrides: Readonly<Record<string, string>>,
  extraHeaders: Readonly<Record<string, string>> = {},
): Promise<SentRequest> {
  const params = endpoint.params.map(([name, value]) => [name, overrides[name] ?? value] as const);
  const host = client.originUrl.replace(/^https?:\/\//, '');
  if (endpoint.method === 'GET') {
    const base = pathOf(endpoint.baseUrl);
    const query = formBody(params);
    const path = `${base}${base.includes('?') ? '&' : '?'}${query}`;
    const response = await client.request({ url: path, headers: jar.headers(extraHeaders) });
    jar.store(response.setCookies);
    return { response, described: `GET ${path} HTTP/1.1\nHost: ${host}`, uri: `${client.originUrl}${path}` };
  }
  const path = pathOf(endpoint.baseUrl);
  const { body, type } = endpoint.multipart
    ? multipartBody(params)
    : { body: formBody(params), type: 'application/x-www-form-urlencoded' };
  const response = await client.request({
    method: 'POST',
    url: path,
    body,
    headers: jar.headers({ 'content-type': type, ...extraHeaders }),
  });
  jar.store(response.setCookies);
  return {
    response,
    described: `POST ${path} HTTP/1.1\nHost: ${host}\nContent-Type: ${type}\n\n${body}`,
    uri: `${client.originUrl}${path}`,
  };
}

/** The status line, chosen headers and an excerpt of the body around `needle` (evidence). */
export function describeResponse(response: HttpResponse, needle?: string, headerNames: readonly string[] = []): string {
  const lines = [`HTTP/1.1 ${response.status} ${response.statusText}`];
  for (const name of ['content-type', 'location', ...headerNames]) {
    const value = response.headers[name];
    if (value !== undefined) lines.push(`${name}: ${value.slice(0, 300)}`);
  }
  const text = response.text;
  let excerpt = text.slice(0, 300);
  if (needle) {
    const at = text.indexOf(needle);
    if (at !== -1) excerpt = `…${text.slice(Math.max(0, at - 120), at + needle.length + 120)}…`;
  }
  if (excerpt) lines.push('', excerpt);
  return lines.join('\n');
}
