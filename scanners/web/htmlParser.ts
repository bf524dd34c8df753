/**
 * A small, tolerant HTML tokenizer for the web scanner: tags with their attributes
 * (entities decoded), comments, and the raw text of `<script>`, `<style>`,
 * `<textarea>` and `<title>` — with the offsets where each starts and ends in the
 * source, so a rule can tell in which context a string appears. It does not build a
 * tree or fix bad markup: it reads the way a browser's tokenizer does for the cases a
 * scanner needs (quoted and unquoted attributes, raw-text elements, comments, `<!…>`).
 *
 * Pure functions only: `tokenizeHtml` and the extractors (`extractPage`) on its tokens.
 */

export interface HtmlStartTag {
  readonly type: 'start';
  /** Lower-case tag name. */
  readonly name: string;
  /** Lower-case attribute names → decoded values (the first occurrence wins, as in browsers). */
  readonly attrs: ReadonlyMap<string, string>;
  /** Every attribute as written (name lower-cased, value decoded), duplicates included. */
  readonly attrList: readonly (readonly [string, string])[];
  readonly selfClosing: boolean;
  readonly start: number;
  readonly end: number;
}

export interface HtmlEndTag {
  readonly type: 'end';
  readonly name: string;
  readonly start: number;
  readonly end: number;
}

export interface HtmlComment {
  readonly type: 'comment';
  /** The text between `<!--` and `-->`. */
  readonly text: string;
  readonly start: number;
  readonly end: number;
}

/** The content of a raw-text element (script, style) or an escapable raw-text one (textarea, title). */
export interface HtmlRawText {
  readonly type: 'rawtext';
  /** The element it belongs to ('script', 'style', 'textarea', 'title'). */
  readonly parent: string;
  readonly text: string;
  readonly start: number;
  readonly end: number;
}

export interface HtmlText {
  readonly type: 'text';
  readonly start: number;
  readonly end: number;
}

export type HtmlToken = HtmlStartTag | HtmlEndTag | HtmlComment | HtmlRawText | HtmlText;

const RAW_TEXT = new Set(['script', 'style', 'textarea', 'title', 'xmp', 'noembed', 'noframes', 'plaintext']);
const MAX_TOKENS = 200_000;

const NAMED_ENTITIES: Readonly<Record<string, string>> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
  nbsp: '\u00a0',
  colon: ':',
  lpar: '(',
  rpar: ')',
  sol: '/',
  tab: '\t',
  newline: '\n',
};

/** Decodes the character references a scanner cares about (numeric ones and the common named ones). */
export function decodeEntities(text: string): string {
  if (!text.includes('&')) return text;
  return text.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);?/gi, (whole, ref: string) => {
    if (ref[0] === '#') {
      const code = ref[1] === 'x' || ref[1] === 'X' ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
      if (!Number.isFinite(code) || code < 0 || code > 0x10ffff) return whole;
      try {
        return String.fromCodePoint(code === 0 ? 0xfffd : code);
      } catch {
        return whole;
      }
    }
    const named = NAMED_ENTITIES[ref.toLowerCase()];
    return named ?? whole;
  });
}

function isSpace(c: string | undefined): boolean {
  return c === ' ' || c === '\n' || c === '\t' || c === '\r' || c === '\f';
}

/** Reads the attributes of a start tag from `i` (just after the name); returns where the tag ends. */
function readAttributes(
  html: string,
  from: number,
): { attrList: [string, string][]; selfClosing: boolean; end: number } {
  const attrList: [string, string][] = [];
  let i = from;
  let selfClosing = false;
  const n = html.length;
  while (i < n) {
    while (i < n && (isSpace(html[i]) || html[i] === '/')) {
      if (html[i] === '/' && html[i + 1] === '>') selfClosing = true;
      i++;
    }
    if (i >= n) break;
    if (html[i] === '>') return { attrList, selfClosing, end: i + 1 };
    const nameStart = i;
    // An attribute name may start with '=' (browsers keep it); it ends at space, '/', '>' or '='.
    i++;
    while (i < n && !isSpace(html[i]) && html[i] !== '/' && html[i] !== '>' && html[i] !== '=') i++;
    const name = html.slice(nameStart, i).toLowerCase();
    while (i < n && isSpace(html[i])) i++;
    let value = '';
    if (html[i] === '=') {
      i++;
      while (i < n && isSpace(html[i])) i++;
      const quote = html[i];
      if (quote === '"' || quote === "'") {
        const close = html.indexOf(quote, i + 1);
        const stop = close === -1 ? n : close;
        value = html.slice(i + 1, stop);
        i = close === -1 ? n : close + 1;
      } else {
        const valueStart = i;
        while (i < n && !isSpace(html[i]) && html[i] !== '>') i++;
        value = html.slice(valueStart, i);
      }
    }
    attrList.push([name, decodeEntities(value)]);
  }
  return { attrList, selfClosing, end: n };
}

/** Splits an HTML document into tokens (bounded: at most 200,000). */
export function tokenizeHtml(html: string): HtmlToken[] {
  const tokens: HtmlToken[] = [];
  const n = html.length;
  let i = 0;
  let textStart = 0;
  const flushText = (upTo: number) => {
    if (upTo > textStart) tokens.push({ type: 'text', start: textStart, end: upTo });
  };
  while (i < n && tokens.length < MAX_TOKENS) {
    const lt = html.indexOf('<', i);
    if (lt === -1) break;
    const next = html[lt + 1];
    if (html.startsWith('<!--', lt)) {
      flushText(lt);
      const close = html.indexOf('-->', lt + 4);
      const end = close === -1 ? n : close + 3;
      tokens.push({ type: 'comment', text: html.slice(lt + 4, close === -1 ? n : close), start: lt, end });
      i = textStart = end;
      continue;
    }
    if (next === '!' || next === '?') {
      // Doctype, CDATA, processing instruction: a bogus comment up to '>'.
      flushText(lt);
      const close = html.indexOf('>', lt + 2);
      const end = close === -1 ? n : close + 1;
      tokens.push({ type: 'comment', text: html.slice(lt + 2, close === -1 ? n : close), start: lt, end });
      i = textStart = end;
      continue;
    }
    if (next === '/') {
      const match = /^<\/([a-zA-Z][^\s/>]*)/.exec(html.slice(lt, lt + 64));
      if (!match) {
        i = lt + 1;
        continue;
      }
      flushText(lt);
      const close = html.indexOf('>', lt);
      const end = close === -1 ? n : close + 1;
      tokens.push({ type: 'end', name: match[1]!.toLowerCase(), start: lt, end });
      i = textStart = end;
      continue;
    }
    const nameMatch = /^<([a-zA-Z][^\s/>]*)/.exec(html.slice(lt, lt + 64));
    if (!nameMatch) {
      i = lt + 1;
      continue;
    }
    flushText(lt);
    const name = nameMatch[1]!.toLowerCase();
    const { attrList, selfClosing, end } = readAttributes(html, lt + nameMatch[0].length);
    const attrs = new Map<string, string>();
    for (const [key, value] of attrList) if (!attrs.has(key)) attrs.set(key, value);
    tokens.push({ type: 'start', name, attrs, attrList, selfClosing, start: lt, end });
    i = textStart = end;
    if (RAW_TEXT.has(name) && !selfClosing) {
      if (name === 'plaintext') {
        tokens.push({ type: 'rawtext', parent: name, text: html.slice(end), start: end, end: n });
        textStart = n;
        break;
      }
      const closer = new RegExp(`</${name}[\\s/>]`, 'i');
      const rest = html.slice(end);
      const found = closer.exec(rest);
      const contentEnd = found ? end + found.index : n;
      tokens.push({ type: 'rawtext', parent: name, text: html.slice(end, contentEnd), start: end, end: contentEnd });
      i = textStart = contentEnd;
    }
  }
  flushText(n);
  return tokens;
}

export interface FormField {
  readonly name: string;
  /** input type (lower-case), 'select', 'textarea' or 'button'. */
  readonly type: string;
  readonly value: string;
}

export interface HtmlForm {
  /** The action as written (empty: the page itself). */
  readonly action: string;
  readonly method: 'GET' | 'POST';
  readonly enctype: string;
  readonly fields: readonly FormField[];
  /** The `<form ...>` start tag as written (evidence). */
  readonly tag: string;
  readonly id?: string;
}

export interface PageLinks {
  /** Navigable links: a/area/link href, frames, iframes, meta refresh, form-less GET targets. */
  readonly links: string[];
  /** `<script src>` values. */
  readonly scripts: { readonly src: string; readonly integrity: string; readonly tag: string }[];
  /** Other sub-resources (img, audio, video, source, embed, object, link stylesheet/icon). */
  readonly resources: { readonly url: string; readonly tag: string; readonly element: string }[];
  readonly forms: HtmlForm[];
  readonly comments: HtmlComment[];
  /** Inline script bodies. */
  readonly inlineScripts: HtmlRawText[];
  /** `<base href>` if any. */
  readonly base?: string;
  /** `<meta http-equiv=…>` name (lower-case) → content. */
  readonly metaHttpEquiv: ReadonlyMap<string, string>;
}

const SCRIPT_CALLS =
  /(?:location(?:\.href)?\s*=|location\.(?:assign|replace)\s*\(|window\.open\s*\(|fetch\s*\(|\.(?:get|post|load|getJSON)\s*\(|\burl\s*:)\s*(['"`])([^'"`\s<>{}]+)\1/g;
const SCRIPT_PATHS =
  /(['"])((?:\/|\.\/)?[\w.~%-]+(?:\/[\w.~%-]+)*\.(?:php\d?|aspx?|jspx?|do|action|cgi|pl|html?|json|xml)(?:\?[\w.~%=&;-]*)?)\1/g;

/**
 * URLs named in JavaScript: targets of location assignments, window.open, fetch and
 * jQuery-style calls, and quoted paths to pages (.php, .asp, .html, …). Literal strings
 * only (no evaluation); bounded.
 */
export function scriptUrls(source: string): string[] {
  const found = new Set<string>();
  const text = source.length > 500_000 ? source.slice(0, 500_000) : source;
  for (const pattern of [SCRIPT_CALLS, SCRIPT_PATHS]) {
    pattern.lastIndex = 0;
    for (let m = pattern.exec(text); m && found.size < 200; m = pattern.exec(text)) {
      const url = m[2]!;
      if (!/^(?:javascript|data|mailto|tel|blob):/i.test(url) && url !== '/' && !url.startsWith('//')) found.add(url);
    }
  }
  return [...found];
}

/** The URL of a `<meta http-equiv="refresh" content="5; url=…">`. */
export function refreshUrl(content: string): string | null {
  const match = /url\s*=\s*['"]?([^'"]+)['"]?/i.exec(content);
  return match ? match[1]!.trim() : null;
}

/** Everything a spider and the passive rules need from one page. */
export function extractPage(html: string, tokens: readonly HtmlToken[] = tokenizeHtml(html)): PageLinks {
  const links: string[] = [];
  const scripts: PageLinks['scripts'] = [];
  const resources: PageLinks['resources'] = [];
  const forms: HtmlForm[] = [];
  const comments: HtmlComment[] = [];
  const inlineScripts: HtmlRawText[] = [];
  const metaHttpEquiv = new Map<string, string>();
  let base: string | undefined;
  let form: {
    action: string;
    method: 'GET' | 'POST';
    enctype: string;
    fields: FormField[];
    tag: string;
    id?: string;
  } | null = null;
  let select: { name: string; value: string | null; first: string | null } | null = null;
  let textareaName: string | null = null;
  let lastStart: HtmlStartTag | null = null;
  const tagText = (t: HtmlStartTag) => html.slice(t.start, t.end).slice(0, 300);
  const closeSelect = () => {
    if (select && form)
      form.fields.push({ name: select.name, type: 'select', value: select.value ?? select.first ?? '' });
    select = null;
  };
  for (const token of tokens) {
    if (token.type === 'comment') {
      if (!token.text.startsWith('DOCTYPE') && !token.text.startsWith('doctype')) comments.push(token);
      continue;
    }
    if (token.type === 'rawtext') {
      // The content of a <script src> is not run: only inline scripts count.
      if (token.parent === 'script' && !lastStart?.attrs.has('src')) inlineScripts.push(token);
      if (token.parent === 'textarea' && textareaName !== null && form) {
        form.fields.push({ name: textareaName, type: 'textarea', value: decodeEntities(token.text) });
        textareaName = null;
      }
      continue;
    }
    if (token.type === 'end') {
      if (token.name === 'form' && form) {
        closeSelect();
        forms.push(form);
        form = null;
      } else if (token.name === 'select') closeSelect();
      continue;
    }
    if (token.type !== 'start') continue;
    lastStart = token;
    const a = token.attrs;
    switch (token.name) {
      case 'a':
      case 'area':
        if (a.has('href')) links.push(a.get('href')!);
        break;
      case 'link': {
        const href = a.get('href');
        if (!href) break;
        const rel = (a.get('rel') ?? '').toLowerCase();
        if (/stylesheet|icon|preload|modulepreload|prefetch|manifest/.test(rel)) {
          resources.push({ url: href, tag: tagText(token), element: 'link' });
          if (/modulepreload/.test(rel) || (/preload/.test(rel) && a.get('as') === 'script')) {
            scripts.push({ src: href, integrity: a.get('integrity') ?? '', tag: tagText(token) });
          }
        } else links.push(href);
        break;
      }
      case 'frame':
      case 'iframe':
        if (a.get('src')) links.push(a.get('src')!);
        break;
      case 'script':
        if (a.get('src'))
          scripts.push({ src: a.get('src')!, integrity: a.get('integrity') ?? '', tag: tagText(token) });
        break;
      case 'img':
      case 'audio':
      case 'video':
      case 'source':
      case 'embed':
      case 'track':
      case 'input':
        if (token.name !== 'input' && a.get('src'))
          resources.push({ url: a.get('src')!, tag: tagText(token), element: token.name });
        break;
      case 'object':
        if (a.get('data')) resources.push({ url: a.get('data')!, tag: tagText(token), element: 'object' });
        break;
      case 'base':
        if (base === undefined && a.get('href')) base = a.get('href');
        break;
      case 'meta': {
        const equiv = a.get('http-equiv');
        const content = a.get('content');
        if (equiv && content !== undefined) {
          metaHttpEquiv.set(equiv.toLowerCase().trim(), content);
          if (equiv.toLowerCase().trim() === 'refresh') {
            const url = refreshUrl(content);
            if (url) links.push(url);
          }
        }
        break;
      }
      case 'form': {
        if (form) forms.push(form); // a form inside a form: browsers ignore the inner start tag
        const method = (a.get('method') ?? 'get').trim().toUpperCase() === 'POST' ? 'POST' : 'GET';
        form = {
          action: a.get('action') ?? '',
          method,
          enctype: (a.get('enctype') ?? 'application/x-www-form-urlencoded').toLowerCase(),
          fields: [],
          tag: tagText(token),
          ...(a.get('id') ? { id: a.get('id')! } : {}),
        };
        break;
      }
      default:
        break;
    }
    if (!form) continue;
    const name = a.get('name');
    if (token.name === 'input' && name) {
      const type = (a.get('type') ?? 'text').toLowerCase();
      if ((type === 'checkbox' || type === 'radio') && !a.has('checked')) {
        // Unchecked boxes are not sent; still an insertion point: send their value.
        form.fields.push({ name, type, value: a.get('value') ?? 'on' });
      } else if (type !== 'image' && type !== 'reset') {
        form.fields.push({ name, type, value: a.get('value') ?? '' });
      }
    } else if (token.name === 'button' && name) {
      form.fields.push({ name, type: 'button', value: a.get('value') ?? '' });
    } else if (token.name === 'textarea' && name) {
      textareaName = name;
    } else if (token.name === 'select' && name) {
      closeSelect();
      select = { name, value: null, first: null };
    } else if (token.name === 'option' && select) {
      const value = a.get('value') ?? '';
      select.first ??= value;
      if (a.has('selected')) select.value = value;
    }
  }
  if (form) {
    closeSelect();
    forms.push(form);
  }
  return {
    links,
    scripts,
    resources,
    forms,
    comments,
    inlineScripts,
    ...(base !== undefined ? { base } : {}),
    metaHttpEquiv,
  };
}
