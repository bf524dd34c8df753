/**
 * Loads one nuclei template (YAML) into a compiled template our engine runs, or
 * refuses it with errors that name the line and the key.
 *
 * The supported subset (docs/scanners/nuclei.md lists it with every refusal):
 * - `id`, `info` (name, author, severity, description, remediation, reference,
 *   classification with cve-id/cwe-id/cvss-*, tags, metadata, impact);
 * - `http` (or its older name `requests`): `method`, `path` starting with
 *   `{{BaseURL}}` or `{{RootURL}}`, `headers`, `body`, `raw`, `redirects`,
 *   `max-redirects`, `stop-at-first-match`, `matchers-condition`, `matchers`
 *   (word, regex, status, size, binary, dsl; `part`, `condition`, `negative`,
 *   `name`, `case-insensitive`) and `extractors` (regex with `group`, kval, json);
 * - placeholders `{{BaseURL}}`, `{{RootURL}}`, `{{Hostname}}`, `{{Host}}`,
 *   `{{Port}}`, `{{Path}}`.
 *
 * Everything else — other protocols, workflows, variables, flow, payloads and
 * fuzzing, interactsh, helper functions, unknown keys — is refused at load, never
 * ignored. A request can only ever address the scan's target: paths must start
 * with `{{BaseURL}}`/`{{RootURL}}` followed by `/` or `?`, raw request lines are
 * paths, and a `Host` header can only be `{{Hostname}}`/`{{Host}}`.
 *
 * Pure (no I/O): the API validates uploads with it, workers compile with it.
 */
import { isMap, isScalar, LineCounter, parseDocument, type Document, type Node as YamlNode } from 'yaml';
import { z } from 'zod';
import { DslError, dslVariables, parseDsl, type DslNode } from './dsl.js';
import { compileJsonPath, JsonPathError, type JsonPath } from './jsonPath.js';
import { compileRegex, RegexError, type CompiledRegex } from './regex.js';

export const NUCLEI_SEVERITIES = ['info', 'low', 'medium', 'high', 'critical', 'unknown'] as const;
export type NucleiSeverity = (typeof NUCLEI_SEVERITIES)[number];

/** The placeholders a template may use, and only these. */
export const PLACEHOLDERS = ['BaseURL', 'RootURL', 'Hostname', 'Host', 'Port', 'Path'] as const;
export type Placeholder = (typeof PLACEHOLDERS)[number];

/** Limits of one template (user templates are smaller still: see the plans). */
export const TEMPLATE_LIMITS = {
  maxBytes: 64 * 1024,
  maxRequestBlocks: 10,
  maxRequests: 50,
  maxMatchers: 20,
  maxExtractors: 10,
  maxValuesPerMatcher: 100,
  maxRedirects: 10,
} as const;

export interface TemplateIssue {
  /** 1-based line in the YAML, when known. */
  readonly line?: number;
  /** Where in the template: `http[0].matchers[1].type`. */
  readonly path: string;
  readonly message: string;
}

/** A template that cannot be loaded; `issues` say where and why. */
export class TemplateError extends Error {
  override name = 'TemplateError';
  constructor(readonly issues: readonly TemplateIssue[]) {
    super(
      issues
        .slice(0, 5)
        .map((i) => `${i.line ? `line ${i.line}: ` : ''}${i.path ? `${i.path}: ` : ''}${i.message}`)
        .join('; ') + (issues.length > 5 ? ` (and ${issues.length - 5} more)` : ''),
    );
  }
}

export interface TemplateInfo {
  readonly name: string;
  readonly author: readonly string[];
  readonly severity: NucleiSeverity;
  readonly description?: string;
  readonly remediation?: string;
  readonly reference: readonly string[];
  readonly tags: readonly string[];
  readonly classification?: {
    readonly 'cve-id'?: readonly string[];
    readonly 'cwe-id'?: readonly string[];
    readonly 'cvss-metrics'?: string;
    readonly 'cvss-score'?: number;
    readonly cpe?: string;
  };
  readonly metadata?: Readonly<Record<string, unknown>>;
  readonly impact?: string;
}

/** Where a response value comes from: body, header, all, response, status, or one header by name. */
export type MatchPart = string;

export type CompiledMatcher = {
  readonly name?: string;
  readonly part: MatchPart;
  readonly condition: 'and' | 'or';
  readonly negative: boolean;
} & (
  | { readonly type: 'word'; readonly words: readonly string[]; readonly caseInsensitive: boolean }
  | { readonly type: 'regex'; readonly regex: readonly CompiledRegex[] }
  | { readonly type: 'status'; readonly status: readonly number[] }
  | { readonly type: 'size'; readonly size: readonly number[] }
  | { readonly type: 'binary'; readonly binary: readonly Buffer[] }
  | { readonly type: 'dsl'; readonly dsl: readonly DslNode[]; readonly sources: readonly string[] }
);

export type CompiledExtractor = { readonly name?: string; readonly part: MatchPart } & (
  | { readonly type: 'regex'; readonly regex: readonly CompiledRegex[]; readonly group: number }
  | { readonly type: 'kval'; readonly kval: readonly string[]; readonly caseInsensitive: boolean }
  | { readonly type: 'json'; readonly json: readonly JsonPath[] }
);

/**
 * One request to send. `url` is how its URL is made: `{{BaseURL}}` or
 * `{{RootURL}}` plus `rest`, or a raw request's path merged onto the target's path.
 */
export interface RequestSpec {
  readonly method: string;
  readonly base: 'BaseURL' | 'RootURL' | 'raw';
  /** What follows the base: '' or starting with '/' or '?'; placeholders still in it. */
  readonly rest: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string;
}

export interface CompiledRequestBlock {
  readonly requests: readonly RequestSpec[];
  readonly redirects: boolean;
  readonly maxRedirects: number;
  readonly stopAtFirstMatch: boolean;
  readonly matchersCondition: 'and' | 'or';
  readonly matchers: readonly CompiledMatcher[];
  readonly extractors: readonly CompiledExtractor[];
}

export interface CompiledTemplate {
  readonly id: string;
  readonly info: TemplateInfo;
  readonly blocks: readonly CompiledRequestBlock[];
  readonly stopAtFirstMatch: boolean;
  /** Requests the template sends at most. */
  readonly requestCount: number;
}

// ---------------------------------------------------------------------------
// Refusals with a reason (keys outside the subset)
// ---------------------------------------------------------------------------

const OTHER_PROTOCOLS = [
  'dns',
  'file',
  'network',
  'tcp',
  'headless',
  'ssl',
  'websocket',
  'whois',
  'code',
  'javascript',
];

const TOP_LEVEL_REFUSALS: Readonly<Record<string, string>> = {
  ...Object.fromEntries(
    OTHER_PROTOCOLS.map((key) => [key, `the ${key} protocol is not supported: only http templates run here`]),
  ),
  workflows: 'workflows are not supported: upload and run each template on its own',
  workflow: 'workflows are not supported: upload and run each template on its own',
  variables: 'template variables are not supported',
  constants: 'template constants are not supported',
  flow: 'flow (JavaScript control of requests) is not supported',
  'self-contained': 'self-contained templates are not supported: every request goes to the scan target',
  signature: 'request signing (signature) is not supported',
  'global-matchers': 'global matchers are not supported',
};

const REQUEST_REFUSALS: Readonly<Record<string, string>> = {
  payloads: 'payloads (wordlist attacks) are not supported',
  attack: 'payload attack modes are not supported',
  fuzzing: 'fuzzing is not supported',
  analyzer: 'fuzzing analyzers are not supported',
  'req-condition':
    'req-condition (matching across several responses) is not supported: each response is matched on its own',
  'cookie-reuse': 'cookie-reuse is not supported: requests are independent',
  'disable-cookie': 'cookie options are not supported: requests carry no cookies',
  race: 'race requests are not supported',
  race_count: 'race requests are not supported',
  pipeline: 'HTTP pipelining is not supported',
  'pipeline-concurrent-connections': 'HTTP pipelining is not supported',
  'pipeline-requests-per-connection': 'HTTP pipelining is not supported',
  unsafe: 'unsafe (byte-exact) raw requests are not supported',
  'host-redirects': "host-redirects is refused: redirects are only followed on the target's own origin",
  threads: 'request threads are not supported (the engine sets its own concurrency)',
  'iterate-all': 'iterate-all is not supported (no payloads or extracted values to iterate)',
  'max-size': 'max-size is not supported (the engine caps response sizes itself)',
  'read-all': 'read-all is not supported',
  'digest-username': 'digest authentication is not supported',
  'digest-password': 'digest authentication is not supported',
  'pre-condition': 'pre-conditions are not supported',
  'pre-condition-operator': 'pre-conditions are not supported',
  'disable-path-automerge': 'disable-path-automerge is not supported: raw paths are always relative to the target',
  'skip-variables-check': 'skip-variables-check is not supported (there are no variables)',
  'self-contained': 'self-contained requests are not supported: every request goes to the scan target',
  'global-matchers': 'global matchers are not supported',
  signature: 'request signing (signature) is not supported',
  id: 'request ids are not supported (requests do not reference each other)',
  name: 'named requests are not supported (requests do not reference each other)',
};

const MATCHER_REFUSALS: Readonly<Record<string, string>> = {
  xpath: 'xpath matchers are not supported',
  'match-all': 'match-all is not supported',
  encoding: 'encoding (hex words) is not supported: use a binary matcher',
  internal: 'internal matchers are not supported',
};

const EXTRACTOR_REFUSALS: Readonly<Record<string, string>> = {
  internal: 'internal (dynamic) extractors are not supported: requests do not chain',
  xpath: 'xpath extractors are not supported',
  attribute: 'xpath extractors are not supported',
  dsl: 'dsl extractors are not supported',
};

// ---------------------------------------------------------------------------
// Structure (zod)
// ---------------------------------------------------------------------------

/** A string, or a number YAML read (`words: [200]`), as text. */
const Text = z.union([z.string(), z.number().transform(String)], { error: 'must be a string' });
const TextList = (max: number) =>
  z.array(Text, { error: 'must be a list of strings' }).min(1, 'must not be empty').max(max, `at most ${max} values`);

/** A comma-separated string or a list (author, tags, cve-id, cwe-id). */
const CommaList = z
  .union([Text, z.array(Text)], { error: 'must be a string or a list of strings' })
  .transform((value) =>
    (Array.isArray(value) ? value : value.split(',')).map((s) => s.trim()).filter((s) => s.length > 0),
  );

/** A string or a list, kept whole (references may contain commas). */
const OneOrMany = z
  .union([Text, z.array(Text)], { error: 'must be a string or a list of strings' })
  .transform((value) => (Array.isArray(value) ? value : [value]).map((s) => s.trim()).filter((s) => s.length > 0));

const Condition = z.enum(['and', 'or'], { error: 'must be "and" or "or"' });

const Classification = z.strictObject({
  'cve-id': CommaList.optional(),
  'cwe-id': CommaList.optional(),
  'cvss-metrics': z.string().max(200).optional(),
  'cvss-score': z.number().min(0).max(10).optional(),
  cpe: z.string().max(300).optional(),
  'epss-score': z.number().optional(),
  'epss-percentile': z.number().optional(),
});

const Info = z.strictObject({
  name: z.string({ error: 'info.name is required' }).trim().min(1).max(300),
  author: CommaList.refine((a) => a.length > 0, 'info.author is required'),
  severity: z
    .enum(NUCLEI_SEVERITIES, { error: `must be one of ${NUCLEI_SEVERITIES.join(', ')}` })
    .optional()
    .default('unknown'),
  description: z.string().max(5000).optional(),
  remediation: z.string().max(5000).optional(),
  reference: OneOrMany.optional(),
  tags: CommaList.optional(),
  classification: Classification.optional(),
  metadata: z.record(z.string(), z.unknown()).optional(),
  impact: z.string().max(5000).optional(),
});

const Matcher = z.strictObject({
  type: z.enum(['word', 'regex', 'status', 'size', 'binary', 'dsl'], {
    error: 'must be one of word, regex, status, size, binary, dsl',
  }),
  name: z.string().max(100).optional(),
  part: z.string().max(100).optional(),
  condition: Condition.optional(),
  negative: z.boolean().optional(),
  'case-insensitive': z.boolean().optional(),
  words: TextList(TEMPLATE_LIMITS.maxValuesPerMatcher).optional(),
  regex: TextList(TEMPLATE_LIMITS.maxValuesPerMatcher).optional(),
  status: z.array(z.number().int().min(100).max(599)).min(1).max(100).optional(),
  size: z.array(z.number().int().min(0)).min(1).max(100).optional(),
  binary: TextList(TEMPLATE_LIMITS.maxValuesPerMatcher).optional(),
  dsl: TextList(TEMPLATE_LIMITS.maxValuesPerMatcher).optional(),
});

const Extractor = z.strictObject({
  type: z.enum(['regex', 'kval', 'json'], { error: 'must be one of regex, kval, json' }),
  name: z.string().max(100).optional(),
  part: z.string().max(100).optional(),
  regex: TextList(50).optional(),
  group: z.number().int().min(0).max(20).optional(),
  kval: TextList(50).optional(),
  json: TextList(50).optional(),
  'case-insensitive': z.boolean().optional(),
});

const HttpRequest = z.strictObject({
  method: z
    .string()
    .regex(/^[A-Za-z]{1,20}$/, 'must be an HTTP method such as GET, POST, HEAD')
    .transform((m) => m.toUpperCase())
    .optional(),
  path: TextList(TEMPLATE_LIMITS.maxRequests).optional(),
  raw: TextList(TEMPLATE_LIMITS.maxRequests).optional(),
  headers: z.record(z.string(), Text, { error: 'must be a map of header names to values' }).optional(),
  body: Text.optional(),
  redirects: z.boolean().optional(),
  'max-redirects': z.number().int().min(0).optional(),
  'stop-at-first-match': z.boolean().optional(),
  'matchers-condition': Condition.optional(),
  matchers: z.array(Matcher).max(TEMPLATE_LIMITS.maxMatchers).optional(),
  extractors: z.array(Extractor).max(TEMPLATE_LIMITS.maxExtractors).optional(),
});

const Template = z.strictObject({
  id: z
    .string({ error: 'id is required' })
    .regex(
      /^([a-zA-Z0-9]+[-_])*[a-zA-Z0-9]+$/,
      'must be letters and digits separated by single - or _ (e.g. exposed-git-config)',
    )
    .max(100),
  info: Info,
  http: z.array(HttpRequest).min(1, 'needs at least one request').max(TEMPLATE_LIMITS.maxRequestBlocks).optional(),
  requests: z.array(HttpRequest).min(1, 'needs at least one request').max(TEMPLATE_LIMITS.maxRequestBlocks).optional(),
  'stop-at-first-match': z.boolean().optional(),
});

type RawTemplate = z.output<typeof Template>;
type RawRequest = z.output<typeof HttpRequest>;
type RawMatcher = z.output<typeof Matcher>;
type RawExtractor = z.output<typeof Extractor>;

// ---------------------------------------------------------------------------
// Lines
// ---------------------------------------------------------------------------

interface Locator {
  /** The line of the node at `path` (or of the key `key` inside it). */
  line(path: readonly (string | number)[], key?: string): number | undefined;
}

function locator(doc: Document, lines: LineCounter): Locator {
  const lineOf = (offset: number | undefined) => (offset === undefined ? undefined : lines.linePos(offset).line);
  return {
    line(path, key) {
      const node = (path.length === 0 ? doc.contents : doc.getIn(path, true)) as YamlNode | null | undefined;
      if (key !== undefined && isMap(node)) {
        const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === key);
        const keyNode = pair?.key as YamlNode | undefined;
        if (keyNode?.range) return lineOf(keyNode.range[0]);
      }
      if (node && typeof node === 'object' && 'range' in node && node.range) return lineOf(node.range[0]);
      return path.length > 0 ? this.line(path.slice(0, -1)) : undefined;
    },
  };
}

function pathText(path: readonly PropertyKey[]): string {
  return path
    .map((segment, i) => (typeof segment === 'number' ? `[${segment}]` : `${i === 0 ? '' : '.'}${String(segment)}`))
    .join('');
}

// ---------------------------------------------------------------------------
// Loading
// ---------------------------------------------------------------------------

const PLACEHOLDER = /\{\{([^{}]*)\}\}/g;

/** Checks every `{{…}}` in `text`; returns the problems. */
function placeholderProblems(text: string): string[] {
  const problems: string[] = [];
  for (const match of text.matchAll(PLACEHOLDER)) {
    const name = match[1]!.trim();
    if ((PLACEHOLDERS as readonly string[]).includes(name)) continue;
    if (/interactsh/i.test(name)) {
      problems.push(`{{${name}}}: interactsh (out-of-band callbacks) is not supported`);
    } else if (/\(/.test(name)) {
      problems.push(`{{${name}}}: helper functions in placeholders are not supported`);
    } else {
      problems.push(
        `unsupported placeholder {{${name}}} (supported: ${PLACEHOLDERS.map((p) => `{{${p}}}`).join(', ')})`,
      );
    }
  }
  return problems;
}

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}$/;
const PART = /^[a-z][a-z0-9_-]{0,99}$/;

export interface ParseOptions {
  /** Largest YAML accepted, in bytes (default TEMPLATE_LIMITS.maxBytes). */
  readonly maxBytes?: number;
}

/** Parses and compiles one template, or throws a TemplateError naming every problem found. */
export function parseTemplate(yamlText: string, options: ParseOptions = {}): CompiledTemplate {
  const maxBytes = options.maxBytes ?? TEMPLATE_LIMITS.maxBytes;
  const size = Buffer.byteLength(yamlText);
  if (size > maxBytes) {
    throw new TemplateError([{ path: '', message: `the template is ${size} bytes; at most ${maxBytes} are accepted` }]);
  }
  const lines = new LineCounter();
  const doc = parseDocument(yamlText, { lineCounter: lines, uniqueKeys: true, prettyErrors: false });
  if (doc.errors.length > 0) {
    throw new TemplateError(
      doc.errors.slice(0, 5).map((error) => ({
        line: error.linePos?.[0]?.line ?? lines.linePos(error.pos[0]).line,
        path: '',
        message: `YAML syntax error: ${error.message.split('\n')[0]}`,
      })),
    );
  }
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: 20 });
  } catch (error) {
    throw new TemplateError([{ path: '', message: `YAML could not be read: ${(error as Error).message}` }]);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new TemplateError([{ line: 1, path: '', message: 'a template is a YAML mapping with id, info and http' }]);
  }
  const at = locator(doc, lines);
  const issues: TemplateIssue[] = [];
  const issue = (path: readonly (string | number)[], message: string, key?: string) =>
    issues.push({
      ...(at.line(path, key) !== undefined ? { line: at.line(path, key)! } : {}),
      path: pathText(key !== undefined ? [...path, key] : path),
      message,
    });

  // 1. Keys outside the subset, with the reason.
  const object = value as Record<string, unknown>;
  for (const key of Object.keys(object)) {
    if (TOP_LEVEL_REFUSALS[key]) issue([], TOP_LEVEL_REFUSALS[key], key);
  }
  const blocksKey = 'http' in object ? 'http' : 'requests';
  const rawBlocks = object[blocksKey];
  if (Array.isArray(rawBlocks)) {
    rawBlocks.forEach((block, b) => {
      if (!block || typeof block !== 'object') return;
      for (const key of Object.keys(block)) {
        if (REQUEST_REFUSALS[key]) issue([blocksKey, b], REQUEST_REFUSALS[key], key);
      }
      const refuseIn = (listKey: 'matchers' | 'extractors', refusals: Readonly<Record<string, string>>) => {
        const list = (block as Record<string, unknown>)[listKey];
        if (!Array.isArray(list)) return;
        list.forEach((item, i) => {
          if (!item || typeof item !== 'object') return;
          for (const key of Object.keys(item)) {
            if (refusals[key]) issue([blocksKey, b, listKey, i], refusals[key], key);
          }
          const type = (item as Record<string, unknown>).type;
          if (typeof type === 'string' && refusals[type]) issue([blocksKey, b, listKey, i, 'type'], refusals[type]);
        });
      };
      refuseIn('matchers', MATCHER_REFUSALS);
      refuseIn('extractors', EXTRACTOR_REFUSALS);
    });
  }
  if ('http' in object && 'requests' in object)
    issue([], 'use http or requests (its older name), not both', 'requests');
  if (!('http' in object) && !('requests' in object) && issues.length === 0) {
    issue([], 'the template has no http requests (only the http protocol is supported)');
  }
  if (issues.length > 0) throw new TemplateError(issues);

  // 2. Structure.
  const parsed = Template.safeParse(value);
  if (!parsed.success) {
    for (const zodIssue of parsed.error.issues.slice(0, 10)) {
      const path = zodIssue.path.filter((p): p is string | number => typeof p !== 'symbol');
      if (zodIssue.code === 'unrecognized_keys') {
        for (const key of zodIssue.keys) issue(path, `unsupported key "${key}"`, key);
      } else if (zodIssue.code === 'invalid_type' && zodIssue.input === undefined) {
        const last = path[path.length - 1];
        issue(path.slice(0, -1), `${String(last)} is required`, typeof last === 'string' ? last : undefined);
      } else {
        issue(path, zodIssue.message);
      }
    }
    throw new TemplateError(issues);
  }

  // 3. Meaning.
  const template = compile(parsed.data, blocksKey, issue);
  if (issues.length > 0) throw new TemplateError(issues);
  return template!;
}

type Issue = (path: readonly (string | number)[], message: string, key?: string) => void;

function compile(raw: RawTemplate, blocksKey: 'http' | 'requests', issue: Issue): CompiledTemplate | undefined {
  const info: TemplateInfo = {
    name: raw.info.name,
    author: raw.info.author,
    severity: raw.info.severity,
    ...(raw.info.description !== undefined ? { description: raw.info.description.trim() } : {}),
    ...(raw.info.remediation !== undefined ? { remediation: raw.info.remediation.trim() } : {}),
    reference: raw.info.reference ?? [],
    tags: (raw.info.tags ?? []).map((t) => t.toLowerCase()),
    ...(raw.info.classification ? { classification: raw.info.classification } : {}),
    ...(raw.info.metadata ? { metadata: raw.info.metadata } : {}),
    ...(raw.info.impact !== undefined ? { impact: raw.info.impact } : {}),
  };
  for (const cve of info.classification?.['cve-id'] ?? []) {
    if (!/^CVE-\d{4}-\d{4,}$/i.test(cve)) issue(['info', 'classification', 'cve-id'], `"${cve}" is not a CVE id`);
  }
  for (const cwe of info.classification?.['cwe-id'] ?? []) {
    if (!/^CWE-\d{1,6}$/i.test(cwe)) issue(['info', 'classification', 'cwe-id'], `"${cwe}" is not a CWE id (CWE-200)`);
  }
  const rawBlocks = raw[blocksKey] ?? [];
  const blocks: CompiledRequestBlock[] = [];
  let requestCount = 0;
  rawBlocks.forEach((block, b) => {
    const compiled = compileBlock(block, [blocksKey, b], issue);
    if (compiled) {
      blocks.push(compiled);
      requestCount += compiled.requests.length;
    }
  });
  if (requestCount > TEMPLATE_LIMITS.maxRequests) {
    issue([blocksKey], `the template sends ${requestCount} requests; at most ${TEMPLATE_LIMITS.maxRequests}`);
  }
  return {
    id: raw.id,
    info,
    blocks,
    stopAtFirstMatch: raw['stop-at-first-match'] ?? false,
    requestCount,
  };
}

function checkHeaders(
  headers: Readonly<Record<string, string>>,
  path: readonly (string | number)[],
  issue: Issue,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (!HEADER_NAME.test(name)) {
      issue(path, `"${name}" is not a valid header name`, name);
      continue;
    }
    if (/[\r\n\0]/.test(value)) {
      issue(path, `header ${name} contains a line break`, name);
      continue;
    }
    for (const problem of placeholderProblems(value)) issue(path, problem, name);
    if (name.toLowerCase() === 'host' && !/^\{\{\s*(Hostname|Host)\s*\}\}$/.test(value.trim())) {
      issue(
        path,
        "a Host header can only be {{Hostname}} or {{Host}}: a template only talks to the scan's target",
        name,
      );
      continue;
    }
    if (['content-length', 'transfer-encoding', 'connection'].includes(name.toLowerCase())) continue; // the client sets them
    out[name] = value;
  }
  return out;
}

/** `{{BaseURL}}/x` → base and rest; anything else is refused. */
function splitPath(path: string): { base: 'BaseURL' | 'RootURL'; rest: string } | string {
  const match = /^\{\{\s*(BaseURL|RootURL)\s*\}\}(.*)$/s.exec(path.trim());
  if (!match) {
    if (/^[a-z][a-z0-9+.-]*:|^\/\//i.test(path.trim())) {
      return `"${path.slice(0, 100)}" is an absolute URL: requests may only go to the scan target ({{BaseURL}}/…)`;
    }
    return `"${path.slice(0, 100)}" must start with {{BaseURL}} or {{RootURL}}`;
  }
  const rest = match[2]!;
  if (rest !== '' && !rest.startsWith('/') && !rest.startsWith('?')) {
    return `"${path.slice(0, 100)}": {{${match[1]}}} must be followed by "/" or "?" (anything else could name another host)`;
  }
  if (/\s/.test(rest)) return `"${path.slice(0, 100)}" contains white space (percent-encode it)`;
  return { base: match[1] as 'BaseURL' | 'RootURL', rest };
}

/** Parses one raw request: request line, headers, blank line, body. */
function parseRaw(text: string, path: readonly (string | number)[], issue: Issue): RequestSpec | undefined {
  const lines = text.replace(/^\s*\n/, '').split(/\r?\n/);
  const requestLine = (lines.shift() ?? '').trim();
  const match = /^([A-Za-z]{1,20})\s+(\S+)(?:\s+HTTP\/\d(?:\.\d)?)?$/.exec(requestLine);
  if (!match) {
    issue(path, `raw request line ${JSON.stringify(requestLine.slice(0, 100))} is not "METHOD /path HTTP/1.1"`);
    return undefined;
  }
  const method = match[1]!.toUpperCase();
  const target = match[2]!;
  let base: RequestSpec['base'];
  let rest: string;
  if (target.startsWith('/') && !target.startsWith('//')) {
    base = 'raw';
    rest = target;
  } else {
    const split = splitPath(target);
    if (typeof split === 'string') {
      issue(path, `raw request: ${split}`);
      return undefined;
    }
    ({ base, rest } = split);
  }
  for (const problem of placeholderProblems(rest)) issue(path, `raw request: ${problem}`);
  const headers: Record<string, string> = {};
  let lineIndex = 0;
  for (; lineIndex < lines.length; lineIndex++) {
    const line = lines[lineIndex]!;
    if (line.trim() === '') break;
    const colon = line.indexOf(':');
    if (colon <= 0) {
      issue(path, `raw request header line ${JSON.stringify(line.slice(0, 100))} is not "Name: value"`);
      return undefined;
    }
    headers[line.slice(0, colon).trim()] = line.slice(colon + 1).trim();
  }
  const bodyText = lines
    .slice(lineIndex + 1)
    .join('\n')
    .replace(/\n+$/, '');
  for (const problem of placeholderProblems(bodyText)) issue(path, `raw request body: ${problem}`);
  const checked = checkHeaders(headers, path, issue);
  return { method, base, rest, headers: checked, ...(bodyText.length > 0 ? { body: bodyText } : {}) };
}

function compileBlock(
  block: RawRequest,
  path: readonly (string | number)[],
  issue: Issue,
): CompiledRequestBlock | undefined {
  const requests: RequestSpec[] = [];
  if (block.path && block.raw) issue(path, 'a request has path or raw, not both', 'raw');
  if (!block.path && !block.raw) issue(path, 'a request needs path or raw');
  if (block.raw && (block.method || block.headers || block.body !== undefined)) {
    const key = block.method ? 'method' : block.headers ? 'headers' : 'body';
    issue(path, `${key} belongs inside the raw request`, key);
  }
  const headers = block.headers ? checkHeaders(block.headers, [...path, 'headers'], issue) : {};
  if (block.body !== undefined) {
    for (const problem of placeholderProblems(block.body)) issue(path, problem, 'body');
  }
  (block.path ?? []).forEach((entry, i) => {
    const split = splitPath(entry);
    if (typeof split === 'string') return issue([...path, 'path', i], split);
    for (const problem of placeholderProblems(split.rest)) issue([...path, 'path', i], problem);
    requests.push({
      method: block.method ?? 'GET',
      base: split.base,
      rest: split.rest,
      headers,
      ...(block.body !== undefined ? { body: block.body } : {}),
    });
  });
  (block.raw ?? []).forEach((entry, i) => {
    const spec = parseRaw(entry, [...path, 'raw', i], issue);
    if (spec) requests.push(spec);
  });

  const matchers: CompiledMatcher[] = [];
  (block.matchers ?? []).forEach((m, i) => {
    const compiled = compileMatcher(m, [...path, 'matchers', i], issue);
    if (compiled) matchers.push(compiled);
  });
  const extractors: CompiledExtractor[] = [];
  (block.extractors ?? []).forEach((e, i) => {
    const compiled = compileExtractor(e, [...path, 'extractors', i], issue);
    if (compiled) extractors.push(compiled);
  });
  if (matchers.length === 0 && extractors.length === 0 && (block.matchers ?? []).length === 0) {
    issue(path, 'a request needs matchers or extractors (otherwise it can never report anything)');
  }
  const maxRedirects = block['max-redirects'] ?? (block.redirects ? 10 : 0);
  if (maxRedirects > TEMPLATE_LIMITS.maxRedirects) {
    issue(path, `max-redirects is at most ${TEMPLATE_LIMITS.maxRedirects}`, 'max-redirects');
  }
  return {
    requests,
    redirects: block.redirects ?? false,
    maxRedirects: Math.min(maxRedirects, TEMPLATE_LIMITS.maxRedirects),
    stopAtFirstMatch: block['stop-at-first-match'] ?? false,
    matchersCondition: block['matchers-condition'] ?? 'or',
    matchers,
    extractors,
  };
}

const FIELDS_OF: Readonly<Record<RawMatcher['type'], string>> = {
  word: 'words',
  regex: 'regex',
  status: 'status',
  size: 'size',
  binary: 'binary',
  dsl: 'dsl',
};

function checkPart(part: string | undefined, path: readonly (string | number)[], issue: Issue): string {
  const value = (part ?? 'body').trim().toLowerCase();
  if (!PART.test(value))
    issue(path, `part "${part}" is not a response part (body, header, all, response, status or a header name)`, 'part');
  return value === 'all_headers' ? 'header' : value;
}

function compileRegexes(list: readonly string[], path: readonly (string | number)[], issue: Issue): CompiledRegex[] {
  const out: CompiledRegex[] = [];
  list.forEach((pattern, i) => {
    try {
      out.push(compileRegex(pattern));
    } catch (error) {
      if (error instanceof RegexError) issue([...path, i], error.message);
      else throw error;
    }
  });
  return out;
}

/** DSL fields a response offers (headers are looked up by name too). */
const DSL_FIELDS = new Set(['body', 'status_code', 'content_length', 'all_headers', 'header', 'response']);

function compileMatcher(m: RawMatcher, path: readonly (string | number)[], issue: Issue): CompiledMatcher | undefined {
  const wanted = FIELDS_OF[m.type];
  for (const [type, field] of Object.entries(FIELDS_OF)) {
    if (type !== m.type && field in m) issue(path, `${field} is not used by a ${m.type} matcher`, field);
  }
  if (!(wanted in m)) {
    issue(path, `a ${m.type} matcher needs ${wanted}`, 'type');
    return undefined;
  }
  if (m['case-insensitive'] !== undefined && m.type !== 'word') {
    issue(path, 'case-insensitive applies to word matchers (use (?i) in a regex)', 'case-insensitive');
  }
  const common = {
    ...(m.name !== undefined ? { name: m.name } : {}),
    part: checkPart(m.part, path, issue),
    condition: m.condition ?? 'or',
    negative: m.negative ?? false,
  };
  switch (m.type) {
    case 'word':
      m.words!.forEach((word, i) => {
        for (const problem of placeholderProblems(word)) issue([...path, 'words', i], problem);
      });
      return {
        ...common,
        type: 'word',
        words: m['case-insensitive'] ? m.words!.map((w) => w.toLowerCase()) : m.words!,
        caseInsensitive: m['case-insensitive'] ?? false,
      };
    case 'regex':
      return { ...common, type: 'regex', regex: compileRegexes(m.regex!, [...path, 'regex'], issue) };
    case 'status':
      return { ...common, type: 'status', status: m.status! };
    case 'size':
      return { ...common, type: 'size', size: m.size! };
    case 'binary': {
      const binary: Buffer[] = [];
      m.binary!.forEach((hex, i) => {
        if (!/^([0-9a-fA-F]{2})+$/.test(hex)) issue([...path, 'binary', i], `"${hex.slice(0, 50)}" is not hex bytes`);
        else binary.push(Buffer.from(hex, 'hex'));
      });
      return { ...common, type: 'binary', binary };
    }
    case 'dsl': {
      const dsl: DslNode[] = [];
      m.dsl!.forEach((source, i) => {
        try {
          const node = parseDsl(source);
          for (const name of dslVariables(node)) {
            if (!DSL_FIELDS.has(name) && !PART.test(name)) {
              issue([...path, 'dsl', i], `unknown DSL variable "${name}"`);
            }
          }
          dsl.push(node);
        } catch (error) {
          if (error instanceof DslError || error instanceof RegexError) {
            issue([...path, 'dsl', i], `${error.message} in ${JSON.stringify(source.slice(0, 200))}`);
          } else {
            throw error;
          }
        }
      });
      return { ...common, type: 'dsl', dsl, sources: m.dsl! };
    }
  }
}

function compileExtractor(
  e: RawExtractor,
  path: readonly (string | number)[],
  issue: Issue,
): CompiledExtractor | undefined {
  const wanted = e.type;
  for (const field of ['regex', 'kval', 'json'] as const) {
    if (field !== wanted && field in e) issue(path, `${field} is not used by a ${e.type} extractor`, field);
  }
  if (!(wanted in e)) {
    issue(path, `a ${e.type} extractor needs ${wanted}`, 'type');
    return undefined;
  }
  if (e.group !== undefined && e.type !== 'regex') issue(path, 'group applies to regex extractors', 'group');
  const common = { ...(e.name !== undefined ? { name: e.name } : {}), part: checkPart(e.part, path, issue) };
  switch (e.type) {
    case 'regex': {
      const regex = compileRegexes(e.regex!, [...path, 'regex'], issue);
      const group = e.group ?? 0;
      regex.forEach((r, i) => {
        if (group > r.groupCount)
          issue([...path, 'regex', i], `group ${group} does not exist (the regex has ${r.groupCount})`);
      });
      return { ...common, type: 'regex', regex, group };
    }
    case 'kval':
      return {
        ...common,
        type: 'kval',
        kval: e.kval!.map((k) => k.trim()),
        caseInsensitive: e['case-insensitive'] ?? false,
      };
    case 'json': {
      const json: JsonPath[] = [];
      e.json!.forEach((source, i) => {
        try {
          json.push(compileJsonPath(source));
        } catch (error) {
          if (error instanceof JsonPathError) issue([...path, 'json', i], error.message);
          else throw error;
        }
      });
      return { ...common, type: 'json', json };
    }
  }
}
