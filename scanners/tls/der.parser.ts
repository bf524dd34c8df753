/**
 * A minimal DER reader (X.690) for what the TLS scanner reads in certificates and
 * OCSP responses: tag-length-value elements, object identifiers, times, strings.
 * Bounds-checked; malformed input throws `DerError`.
 */

export class DerError extends Error {
  override name = 'DerError';
}

export interface DerElement {
  /** The identifier octet (class, constructed bit, tag number < 31). */
  readonly tag: number;
  /** The contents octets. */
  readonly value: Buffer;
  /** The whole element (identifier, length, contents). */
  readonly raw: Buffer;
}

export const Tag = {
  boolean: 0x01,
  integer: 0x02,
  bitString: 0x03,
  octetString: 0x04,
  null: 0x05,
  oid: 0x06,
  enumerated: 0x0a,
  utf8String: 0x0c,
  printableString: 0x13,
  teletexString: 0x14,
  ia5String: 0x16,
  utcTime: 0x17,
  generalizedTime: 0x18,
  universalString: 0x1c,
  bmpString: 0x1e,
  sequence: 0x30,
  set: 0x31,
} as const;

/** Reads one element at `offset`; returns it and the offset after it. */
export function readElement(buffer: Buffer, offset = 0): { element: DerElement; next: number } {
  const start = offset;
  if (offset + 2 > buffer.length) throw new DerError(`DER element truncated at ${offset}`);
  const tag = buffer[offset++]!;
  if ((tag & 0x1f) === 0x1f) throw new DerError(`DER high tag numbers are not supported (at ${start})`);
  let length = buffer[offset++]!;
  if (length & 0x80) {
    const count = length & 0x7f;
    if (count === 0 || count > 4) throw new DerError(`DER length of ${count} octets at ${start}`);
    if (offset + count > buffer.length) throw new DerError(`DER length truncated at ${start}`);
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + buffer[offset++]!;
  }
  if (offset + length > buffer.length) {
    throw new DerError(`DER element at ${start} claims ${length} bytes, ${buffer.length - offset} left`);
  }
  return {
    element: { tag, value: buffer.subarray(offset, offset + length), raw: buffer.subarray(start, offset + length) },
    next: offset + length,
  };
}

/** The single element that makes up `buffer`. */
export function parseDer(buffer: Buffer): DerElement {
  const { element, next } = readElement(buffer, 0);
  if (next !== buffer.length) throw new DerError(`${buffer.length - next} trailing byte(s) after the DER element`);
  return element;
}

/** The elements inside a constructed element. */
export function childrenOf(element: DerElement): DerElement[] {
  const children: DerElement[] = [];
  let offset = 0;
  while (offset < element.value.length) {
    const { element: child, next } = readElement(element.value, offset);
    children.push(child);
    offset = next;
  }
  return children;
}

export function expectTag(element: DerElement | undefined, tag: number, what: string): DerElement {
  if (!element) throw new DerError(`${what} is missing`);
  if (element.tag !== tag) {
    throw new DerError(`${what}: expected tag 0x${tag.toString(16)}, got 0x${element.tag.toString(16)}`);
  }
  return element;
}

export function oidOf(element: DerElement): string {
  expectTag(element, Tag.oid, 'object identifier');
  const bytes = element.value;
  if (bytes.length === 0) throw new DerError('empty object identifier');
  const parts: number[] = [];
  let value = 0;
  for (const byte of bytes) {
    value = value * 128 + (byte & 0x7f);
    if (!(byte & 0x80)) {
      parts.push(value);
      value = 0;
    }
  }
  const first = parts.shift() ?? 0;
  const head = first < 40 ? [0, first] : first < 80 ? [1, first - 40] : [2, first - 80];
  return [...head, ...parts].join('.');
}

/** A UTCTime or GeneralizedTime as a Date. */
export function timeOf(element: DerElement): Date {
  const text = element.value.toString('latin1');
  let match: RegExpExecArray | null;
  if (element.tag === Tag.utcTime) {
    match = /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})?Z$/.exec(text);
    if (!match) throw new DerError(`bad UTCTime "${text}"`);
    const yy = Number(match[1]);
    const year = yy >= 50 ? 1900 + yy : 2000 + yy;
    return new Date(
      Date.UTC(year, Number(match[2]) - 1, Number(match[3]), Number(match[4]), Number(match[5]), Number(match[6] ?? 0)),
    );
  }
  if (element.tag === Tag.generalizedTime) {
    match = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})?(?:\.(\d+))?Z$/.exec(text);
    if (!match) throw new DerError(`bad GeneralizedTime "${text}"`);
    return new Date(
      Date.UTC(
        Number(match[1]),
        Number(match[2]) - 1,
        Number(match[3]),
        Number(match[4]),
        Number(match[5]),
        Number(match[6] ?? 0),
        match[7] ? Number(match[7].slice(0, 3).padEnd(3, '0')) : 0,
      ),
    );
  }
  throw new DerError(`tag 0x${element.tag.toString(16)} is not a time`);
}

/** A directory string (UTF8, Printable, IA5, Teletex as Latin-1, BMP, Universal) as text. */
export function stringOf(element: DerElement): string {
  switch (element.tag) {
    case Tag.utf8String:
      return element.value.toString('utf8');
    case Tag.printableString:
    case Tag.ia5String:
    case Tag.teletexString:
    case 0x1a: // VisibleString
    case 0x12: // NumericString
      return element.value.toString('latin1');
    case Tag.bmpString: {
      const swapped = Buffer.from(element.value);
      if (swapped.length % 2 === 0) swapped.swap16();
      return swapped.toString('utf16le');
    }
    case Tag.universalString: {
      let text = '';
      for (let i = 0; i + 4 <= element.value.length; i += 4)
        text += String.fromCodePoint(element.value.readUInt32BE(i));
      return text;
    }
    default:
      throw new DerError(`tag 0x${element.tag.toString(16)} is not a string`);
  }
}

/** An INTEGER's contents as upper-case hex without leading zero octets (at least one octet). */
export function integerHex(element: DerElement): string {
  expectTag(element, Tag.integer, 'integer');
  let bytes = element.value;
  while (bytes.length > 1 && bytes[0] === 0) bytes = bytes.subarray(1);
  return bytes.toString('hex').toUpperCase();
}

export function booleanOf(element: DerElement): boolean {
  expectTag(element, Tag.boolean, 'boolean');
  return element.value.length > 0 && element.value[0] !== 0;
}
