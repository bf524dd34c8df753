/**
 * Matchers and extractors over one HTTP response, with nuclei's semantics (pure):
 *
 * - parts: `body` (default), `header` (= `all_headers`: the status line and the
 *   headers as received, CRLF-separated), `all` (body then headers, as nuclei),
 *   `response` (headers then body), `status`, or one header by name (lower case,
 *   '-' written '_', e.g. `content_type`, `location`); a cookie by name too;
 * - `condition` between a matcher's values (default or), `negative` inverts a
 *   matcher, `matchers-condition` between matchers (default or);
 * - a request with matchers reports only when they match; one with extractors only
 *   reports when something was extracted;
 * - with `matchers-condition: or`, every named matcher that matched is reported
 *   (nuclei prints one result per matcher name).
 */
import { evaluateDsl, type DslValue } from './dsl.js';
import type { CompiledExtractor, CompiledMatcher, CompiledRequestBlock, Placeholder } from './templateParser.js';

/** What the operators read of a response. */
export interface ResponseData {
  readonly status: number;
  readonly statusText: string;
  readonly rawHeaders: readonly (readonly [string, string])[];
  readonly body: Buffer;
  /** The body as text (UTF-8). */
  readonly text: string;
}

export type TemplateVariables = Readonly<Record<Placeholder, string>>;

/** A response prepared for matching (built once, shared by every template that reads it). */
export interface MatchContext {
  readonly status: number;
  readonly body: Buffer;
  readonly text: string;
  readonly allHeaders: string;
  /** Header (and cookie) values by normalized name. */
  readonly fields: ReadonlyMap<string, string>;
}

export function normalizeFieldName(name: string): string {
  return name.trim().toLowerCase().replace(/-/g, '_');
}

export function matchContext(response: ResponseData): MatchContext {
  const allHeaders =
    `HTTP/1.1 ${response.status} ${response.statusText}\r\n` +
    response.rawHeaders.map(([name, value]) => `${name}: ${value}\r\n`).join('') +
    '\r\n';
  const fields = new Map<string, string>();
  for (const [name, value] of response.rawHeaders) {
    if (name.toLowerCase() === 'set-cookie') {
      const cookie = /^\s*([^=;\s]+)=([^;]*)/.exec(value);
      if (cookie && !fields.has(normalizeFieldName(cookie[1]!))) {
        fields.set(normalizeFieldName(cookie[1]!), cookie[2]!);
      }
    }
  }
  // Headers win over cookies of the same name; repeated headers are joined with a space (as nuclei).
  const repeated = new Map<string, string[]>();
  for (const [name, value] of response.rawHeaders) {
    const key = normalizeFieldName(name);
    repeated.set(key, [...(repeated.get(key) ?? []), value]);
  }
  for (const [key, values] of repeated) fields.set(key, values.join(' '));
  return { status: response.status, body: response.body, text: response.text, allHeaders, fields };
}

/** The text of a part, or undefined when the response has no such part. */
export function partText(context: MatchContext, part: string): string | undefined {
  switch (part) {
    case 'body':
      return context.text;
    case 'header':
    case 'all_headers':
      return context.allHeaders;
    case 'all':
      return context.text + context.allHeaders;
    case 'response':
    case 'raw':
      return context.allHeaders + context.text;
    case 'status':
    case 'status_code':
      return String(context.status);
    case 'content_length':
      return context.fields.get('content_length') ?? String(context.body.length);
    default:
      return context.fields.get(part);
  }
}

function partBytes(context: MatchContext, part: string): Buffer | undefined {
  if (part === 'body') return context.body;
  const text = partText(context, part);
  return text === undefined ? undefined : Buffer.from(text);
}

function dslScope(context: MatchContext) {
  return (name: string): DslValue | undefined => {
    switch (name) {
      case 'status_code':
        return context.status;
      case 'content_length': {
        const declared = Number(context.fields.get('content_length'));
        return Number.isFinite(declared) && context.fields.has('content_length') ? declared : context.body.length;
      }
      case 'body':
      case 'header':
      case 'all_headers':
      case 'response':
        return partText(context, name);
      default:
        return context.fields.get(name);
    }
  };
}

const PLACEHOLDER = /\{\{\s*(BaseURL|RootURL|Hostname|Host|Port|Path)\s*\}\}/g;

export function renderPlaceholders(text: string, variables: TemplateVariables): string {
  return text.replace(PLACEHOLDER, (_, name: Placeholder) => variables[name]);
}

export interface MatcherOutcome {
  readonly matched: boolean;
  /** What matched (words, regex matches), for evidence. */
  readonly snippets: readonly string[];
}

const SNIPPETS = 5;

export function runMatcher(
  matcher: CompiledMatcher,
  context: MatchContext,
  variables: TemplateVariables,
): MatcherOutcome {
  const outcome = (matched: boolean, snippets: string[] = []): MatcherOutcome =>
    matcher.negative ? { matched: !matched, snippets: [] } : { matched, snippets: matched ? snippets : [] };
  const and = matcher.condition === 'and';

  if (matcher.type === 'status') return outcome(matcher.status.includes(context.status), [String(context.status)]);
  if (matcher.type === 'dsl') {
    const scope = dslScope(context);
    const results = matcher.dsl.map((node) => evaluateDsl(node, scope));
    return outcome(and ? results.every(Boolean) : results.some(Boolean));
  }
  if (matcher.type === 'size') {
    const bytes = partBytes(context, matcher.part);
    return outcome(bytes !== undefined && matcher.size.includes(bytes.length));
  }
  if (matcher.type === 'binary') {
    const bytes = partBytes(context, matcher.part);
    if (bytes === undefined) return outcome(false);
    const found = matcher.binary.filter((needle) => bytes.includes(needle));
    const matched = and ? found.length === matcher.binary.length : found.length > 0;
    return outcome(
      matched,
      found.slice(0, SNIPPETS).map((b) => `0x${b.toString('hex')}`),
    );
  }
  const text = partText(context, matcher.part);
  if (text === undefined) return outcome(false);
  if (matcher.type === 'word') {
    const corpus = matcher.caseInsensitive ? text.toLowerCase() : text;
    const words = matcher.words.map((word) => {
      const rendered = renderPlaceholders(word, variables);
      return matcher.caseInsensitive ? rendered.toLowerCase() : rendered;
    });
    const found = words.filter((word) => corpus.includes(word));
    const matched = and ? found.length === words.length : found.length > 0;
    return outcome(matched, found.slice(0, SNIPPETS));
  }
  // regex
  const snippets: string[] = [];
  let matchedCount = 0;
  for (const regex of matcher.regex) {
    const hit = regex.matches(text, 1);
    if (hit.length > 0) {
      matchedCount++;
      if (snippets.length < SNIPPETS) snippets.push(hit[0]!.slice(0, 200));
      if (!and) break;
    } else if (and) {
      break;
    }
  }
  return outcome(and ? matchedCount === matcher.regex.length : matchedCount > 0, snippets);
}

const EXTRACTED_PER_EXTRACTOR = 20;

export function runExtractor(extractor: CompiledExtractor, context: MatchContext): string[] {
  const results = new Set<string>();
  if (extractor.type === 'kval') {
    for (const key of extractor.kval) {
      const name = normalizeFieldName(key);
      const value = partText(context, name);
      if (value !== undefined) results.add(extractor.caseInsensitive ? value.toLowerCase() : value);
    }
    return [...results].slice(0, EXTRACTED_PER_EXTRACTOR);
  }
  const text = partText(context, extractor.part);
  if (text === undefined) return [];
  if (extractor.type === 'regex') {
    for (const regex of extractor.regex) {
      for (const value of regex.groups(text, extractor.group, EXTRACTED_PER_EXTRACTOR)) results.add(value);
      if (results.size >= EXTRACTED_PER_EXTRACTOR) break;
    }
    return [...results].slice(0, EXTRACTED_PER_EXTRACTOR);
  }
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch {
    return [];
  }
  for (const path of extractor.json) {
    for (const value of path.run(document, EXTRACTED_PER_EXTRACTOR)) results.add(value);
  }
  return [...results].slice(0, EXTRACTED_PER_EXTRACTOR);
}

export interface BlockOutcome {
  /** Results to report for this response: one per matched named matcher, else one. */
  readonly events: readonly { readonly matcherName?: string }[];
  readonly extracted: readonly string[];
  readonly snippets: readonly string[];
}

/** Runs a request block's operators on one response; `events` is empty when nothing is reported. */
export function runOperators(
  block: Pick<CompiledRequestBlock, 'matchers' | 'extractors' | 'matchersCondition'>,
  context: MatchContext,
  variables: TemplateVariables,
): BlockOutcome {
  const extracted = new Set<string>();
  for (const extractor of block.extractors) {
    for (const value of runExtractor(extractor, context)) extracted.add(value);
  }
  const snippets: string[] = [];
  const names: string[] = [];
  if (block.matchers.length > 0) {
    const and = block.matchersCondition === 'and';
    let matched = and;
    for (const matcher of block.matchers) {
      const result = runMatcher(matcher, context, variables);
      if (result.matched) {
        snippets.push(...result.snippets);
        if (!and && matcher.name) names.push(matcher.name);
        if (!and) matched = true;
      } else if (and) {
        matched = false;
        break;
      }
    }
    if (!matched) return { events: [], extracted: [], snippets: [] };
  } else if (extracted.size === 0) {
    return { events: [], extracted: [], snippets: [] };
  }
  const events = names.length > 0 ? [...new Set(names)].map((matcherName) => ({ matcherName })) : [{}];
  return { events, extracted: [...extracted], snippets: [...new Set(snippets)].slice(0, SNIPPETS) };
}
