/**
 * A small, strict XML reader for tool output (nmap's -oX, sslscan's --xml, NSE
 * script output): the `<?xml?>` and `<?xml-stylesheet?>` prologue, a DOCTYPE
 * without an internal subset (entity definitions are refused: no entity expansion
 * attacks), comments, CDATA, self-closing tags, attributes in either quote, the
 * five named entities and numeric ones. Truncated or malformed input throws
 * `XmlError` with the offset; `parseXml(xml, { errorOf })` lets a parser raise its
 * own error class.
 */

export class XmlError extends Error {
  override name = 'XmlError';
}

export interface XmlElement {
  readonly name: string;
  readonly attributes: Readonly<Record<string, string>>;
  readonly children: XmlElement[];
  text: string;
}

export interface XmlOptions {
  /** Builds the error thrown for malformed input (default: XmlError). */
  readonly errorOf?: (message: string) => Error;
  /** Names the document in messages ("nmap XML output"). */
  readonly what?: string;
}

const NAME = /[A-Za-z_:][A-Za-z0-9_.:-]*/y;
const ENTITY = /&(?:#x([0-9A-Fa-f]{1,6})|#([0-9]{1,7})|([A-Za-z]{2,4}));/y;
const NAMED_ENTITIES: Readonly<Record<string, string>> = { quot: '"', amp: '&', lt: '<', gt: '>', apos: "'" };
const MAX_DEPTH = 64;

let currentOptions: XmlOptions = {};

function xmlError(message: string, offset: number): Error {
  const text = `invalid ${currentOptions.what ?? 'XML'} at offset ${offset}: ${message}`;
  return currentOptions.errorOf ? currentOptions.errorOf(text) : new XmlError(text);
}

function decodeEntities(raw: string, offset: number): string {
  let amp = raw.indexOf('&');
  if (amp === -1) return raw;
  let out = '';
  let last = 0;
  while (amp !== -1) {
    out += raw.slice(last, amp);
    ENTITY.lastIndex = amp;
    const match = ENTITY.exec(raw);
    if (!match) throw xmlError(`bad character reference ${JSON.stringify(raw.slice(amp, amp + 12))}`, offset + amp);
    const [, hex, dec, named] = match;
    if (named !== undefined) {
      const char = NAMED_ENTITIES[named];
      if (char === undefined) throw xmlError(`unknown entity &${named};`, offset + amp);
      out += char;
    } else {
      const code = hex !== undefined ? parseInt(hex, 16) : parseInt(dec ?? '', 10);
      if (code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) {
        throw xmlError(`character reference out of range (${code})`, offset + amp);
      }
      out += code === 0 ? '\ufffd' : String.fromCodePoint(code);
    }
    last = ENTITY.lastIndex;
    amp = raw.indexOf('&', last);
  }
  return out + raw.slice(last);
}

function isBlank(text: string): boolean {
  return /^[ \t\r\n]*$/.test(text);
}

/** Parses a whole document and returns its root element. */
export function parseXml(xml: string, options: XmlOptions = {}): XmlElement {
  currentOptions = options;
  try {
    return parseDocument(xml);
  } finally {
    currentOptions = {};
  }
}

function parseDocument(xml: string): XmlElement {
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  let i = xml.charCodeAt(0) === 0xfeff ? 1 : 0;
  const length = xml.length;

  const skipTo = (token: string, from: number, what: string): number => {
    const end = xml.indexOf(token, from);
    if (end === -1) throw xmlError(`unterminated ${what} (output truncated?)`, from);
    return end + token.length;
  };

  while (i < length) {
    const lt = xml.indexOf('<', i);
    const textEnd = lt === -1 ? length : lt;
    if (textEnd > i) {
      const raw = xml.slice(i, textEnd);
      const parent = stack[stack.length - 1];
      if (parent) parent.text += decodeEntities(raw, i);
      else if (!isBlank(raw)) throw xmlError('text outside the root element', i);
      i = textEnd;
      continue;
    }
    // xml[i] === '<'
    if (xml.startsWith('<!--', i)) {
      i = skipTo('-->', i + 4, 'comment');
    } else if (xml.startsWith('<?', i)) {
      i = skipTo('?>', i + 2, 'processing instruction');
    } else if (xml.startsWith('<![CDATA[', i)) {
      const end = skipTo(']]>', i + 9, 'CDATA section');
      const parent = stack[stack.length - 1];
      if (!parent) throw xmlError('CDATA outside the root element', i);
      parent.text += xml.slice(i + 9, end - 3);
      i = end;
    } else if (xml.startsWith('<!DOCTYPE', i)) {
      if (root || stack.length > 0) throw xmlError('DOCTYPE after the root element started', i);
      const end = skipTo('>', i + 9, 'DOCTYPE');
      if (xml.slice(i, end).includes('[')) throw xmlError('DOCTYPE with an internal subset is not accepted', i);
      i = end;
    } else if (xml.startsWith('</', i)) {
      NAME.lastIndex = i + 2;
      const match = NAME.exec(xml);
      if (!match) throw xmlError('bad end tag', i);
      const name = match[0];
      let j = NAME.lastIndex;
      while (j < length && ' \t\r\n'.includes(xml[j] ?? '')) j++;
      if (xml[j] !== '>') throw xmlError(j >= length ? `unterminated end tag </${name}` : 'bad end tag', i);
      const open = stack.pop();
      if (!open || open.name !== name) {
        throw xmlError(`end tag </${name}> does not match ${open ? `<${open.name}>` : 'any open element'}`, i);
      }
      i = j + 1;
    } else {
      NAME.lastIndex = i + 1;
      const match = NAME.exec(xml);
      if (!match) throw xmlError('bad start tag', i);
      const element: XmlElement = {
        name: match[0],
        attributes: Object.create(null) as Record<string, string>,
        children: [],
        text: '',
      };
      const attributes = element.attributes as Record<string, string>;
      let j = NAME.lastIndex;
      let selfClosing = false;
      for (;;) {
        const start = j;
        while (j < length && ' \t\r\n'.includes(xml[j] ?? '')) j++;
        if (j >= length) throw xmlError(`unterminated start tag <${element.name} (output truncated?)`, i);
        if (xml[j] === '>') {
          j += 1;
          break;
        }
        if (xml.startsWith('/>', j)) {
          j += 2;
          selfClosing = true;
          break;
        }
        if (j === start) throw xmlError(`expected whitespace between attributes in <${element.name}>`, j);
        NAME.lastIndex = j;
        const attr = NAME.exec(xml);
        if (!attr) throw xmlError(`bad attribute in <${element.name}>`, j);
        j = NAME.lastIndex;
        while (j < length && ' \t\r\n'.includes(xml[j] ?? '')) j++;
        if (xml[j] !== '=') throw xmlError(`attribute ${attr[0]} without a value in <${element.name}>`, j);
        j += 1;
        while (j < length && ' \t\r\n'.includes(xml[j] ?? '')) j++;
        const quote = xml[j];
        if (quote !== '"' && quote !== "'") {
          throw xmlError(
            j >= length ? `unterminated start tag <${element.name} (output truncated?)` : 'unquoted attribute value',
            j,
          );
        }
        const close = xml.indexOf(quote, j + 1);
        if (close === -1) throw xmlError(`unterminated attribute value in <${element.name}> (output truncated?)`, j);
        const raw = xml.slice(j + 1, close);
        if (raw.includes('<')) throw xmlError(`'<' in attribute value of <${element.name}>`, j);
        if (Object.prototype.hasOwnProperty.call(attributes, attr[0])) {
          throw xmlError(`duplicate attribute ${attr[0]} in <${element.name}>`, j);
        }
        attributes[attr[0]] = decodeEntities(raw, j + 1);
        j = close + 1;
      }
      const parent = stack[stack.length - 1];
      if (parent) parent.children.push(element);
      else if (root) throw xmlError('more than one root element', i);
      else root = element;
      if (!selfClosing) {
        if (stack.length >= MAX_DEPTH) throw xmlError('elements nested too deeply', i);
        stack.push(element);
      }
      i = j;
    }
  }
  const unclosed = stack[stack.length - 1];
  if (unclosed) throw xmlError(`<${unclosed.name}> is never closed (output truncated?)`, length);
  if (!root) {
    const text = `invalid ${currentOptions.what ?? 'XML'}: no root element (empty output?)`;
    throw currentOptions.errorOf ? currentOptions.errorOf(text) : new XmlError(text);
  }
  return root;
}

/** The first child element named `name`. */
export function child(element: XmlElement, name: string): XmlElement | undefined {
  return element.children.find((c) => c.name === name);
}

/** Every child element named `name`. */
export function childrenNamed(element: XmlElement, name: string): XmlElement[] {
  return element.children.filter((c) => c.name === name);
}

/** Every descendant element named `name`, in document order. */
export function descendants(element: XmlElement, name: string): XmlElement[] {
  const found: XmlElement[] = [];
  const walk = (e: XmlElement) => {
    for (const c of e.children) {
      if (c.name === name) found.push(c);
      walk(c);
    }
  };
  walk(element);
  return found;
}
