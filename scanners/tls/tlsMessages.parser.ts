/**
 * Reading what a server sends back: TLS records (and SSLv2's), handshake messages
 * reassembled across records, ServerHello (and HelloRetryRequest), alerts,
 * Certificate (TLS 1.2 and 1.3 forms), ServerKeyExchange parameters,
 * CertificateStatus, and the SSLv2 SERVER-HELLO. Pure functions over bytes; each
 * throws `TlsParseError` on malformed input instead of reading past the end.
 */
import { ContentType, Extension, HandshakeType, HELLO_RETRY_REQUEST_RANDOM } from './tlsWire.js';

export class TlsParseError extends Error {
  override name = 'TlsParseError';
}

/** A bounds-checked reader over a buffer. */
export function reader(buffer: Buffer, what = 'message') {
  let offset = 0;
  const need = (n: number) => {
    if (offset + n > buffer.length) {
      throw new TlsParseError(`${what} truncated: need ${n} byte(s) at offset ${offset} of ${buffer.length}`);
    }
  };
  return {
    get offset() {
      return offset;
    },
    get remaining() {
      return buffer.length - offset;
    },
    u8(): number {
      need(1);
      return buffer[offset++]!;
    },
    u16(): number {
      need(2);
      const value = buffer.readUInt16BE(offset);
      offset += 2;
      return value;
    },
    u24(): number {
      need(3);
      const value = (buffer[offset]! << 16) | (buffer[offset + 1]! << 8) | buffer[offset + 2]!;
      offset += 3;
      return value;
    },
    bytes(n: number): Buffer {
      need(n);
      const value = buffer.subarray(offset, offset + n);
      offset += n;
      return value;
    },
    vec8(): Buffer {
      return this.bytes(this.u8());
    },
    vec16(): Buffer {
      return this.bytes(this.u16());
    },
    vec24(): Buffer {
      return this.bytes(this.u24());
    },
    rest(): Buffer {
      const value = buffer.subarray(offset);
      offset = buffer.length;
      return value;
    },
  };
}

export interface TlsRecord {
  readonly type: number;
  readonly version: number;
  readonly fragment: Buffer;
}

export type RecordScan =
  | {
      readonly kind: 'tls';
      readonly records: TlsRecord[];
      /** Bytes of an incomplete record at the end (wait for more). */
      readonly pending: number;
    }
  | { readonly kind: 'sslv2'; readonly message: Buffer | null; readonly pending: number }
  | { readonly kind: 'not_tls'; readonly preview: string }
  | { readonly kind: 'empty' };

const RECORD_TYPES = new Set([20, 21, 22, 23, 24]);

/** Printable preview of bytes that are not TLS (e.g. "HTTP/1.1 400 Bad Request"). */
export function previewOf(data: Buffer): string {
  return data
    .subarray(0, 64)
    .toString('latin1')
    .replace(/[^\x20-\x7e]+/g, ' ')
    .trim()
    .slice(0, 60);
}

/**
 * Splits what arrived so far into records. The first bytes decide what the peer
 * speaks: a TLS record header (type 20-24, major version 3), an SSLv2 record (high
 * bit set, SERVER-HELLO or ERROR), or something else (HTTP, SSH, a banner).
 */
export function scanRecords(data: Buffer): RecordScan {
  if (data.length === 0) return { kind: 'empty' };
  const first = data[0]!;
  if (first & 0x80 && !RECORD_TYPES.has(first)) {
    // SSLv2: 2-byte header, length in the low 15 bits.
    if (data.length < 3) return { kind: 'sslv2', message: null, pending: data.length };
    const length = ((first & 0x7f) << 8) | data[1]!;
    const type = data[2]!;
    if (type !== 4 && type !== 0) return { kind: 'not_tls', preview: previewOf(data) };
    if (data.length < 2 + length) return { kind: 'sslv2', message: null, pending: data.length };
    return { kind: 'sslv2', message: data.subarray(2, 2 + length), pending: 0 };
  }
  if (!RECORD_TYPES.has(first)) return { kind: 'not_tls', preview: previewOf(data) };
  if (data.length >= 2 && data[1] !== 3) return { kind: 'not_tls', preview: previewOf(data) };
  const found: TlsRecord[] = [];
  let offset = 0;
  while (offset + 5 <= data.length) {
    const type = data[offset]!;
    const version = data.readUInt16BE(offset + 1);
    const length = data.readUInt16BE(offset + 3);
    if (!RECORD_TYPES.has(type) || data[offset + 1] !== 3 || length > 18432) {
      if (found.length === 0) return { kind: 'not_tls', preview: previewOf(data) };
      break; // garbage after valid records: keep what we have
    }
    if (offset + 5 + length > data.length) break;
    found.push({ type, version, fragment: data.subarray(offset + 5, offset + 5 + length) });
    offset += 5 + length;
  }
  return { kind: 'tls', records: found, pending: data.length - offset };
}

export interface HandshakeMessage {
  readonly type: number;
  readonly body: Buffer;
  /** Header and body, as hashed into a transcript. */
  readonly raw: Buffer;
}

/** Handshake messages in the handshake records (messages may span records); an incomplete last one is left out. */
export function handshakeMessages(recordList: readonly TlsRecord[]): HandshakeMessage[] {
  const stream = Buffer.concat(recordList.filter((r) => r.type === ContentType.handshake).map((r) => r.fragment));
  return splitHandshake(stream);
}

export function splitHandshake(stream: Buffer): HandshakeMessage[] {
  const messages: HandshakeMessage[] = [];
  let offset = 0;
  while (offset + 4 <= stream.length) {
    const length = (stream[offset + 1]! << 16) | (stream[offset + 2]! << 8) | stream[offset + 3]!;
    if (offset + 4 + length > stream.length) break;
    messages.push({
      type: stream[offset]!,
      body: stream.subarray(offset + 4, offset + 4 + length),
      raw: stream.subarray(offset, offset + 4 + length),
    });
    offset += 4 + length;
  }
  return messages;
}

export interface Alert {
  readonly level: number;
  readonly description: number;
}

/** The alerts in plaintext alert records. */
export function alertsOf(recordList: readonly TlsRecord[]): Alert[] {
  return recordList
    .filter((r) => r.type === ContentType.alert && r.fragment.length >= 2)
    .map((r) => ({ level: r.fragment[0]!, description: r.fragment[1]! }));
}

export interface ServerHello {
  /** legacy_version as sent. */
  readonly legacyVersion: number;
  /** The negotiated version: supported_versions when present (TLS 1.3), else legacy_version. */
  readonly version: number;
  readonly random: Buffer;
  readonly sessionId: Buffer;
  readonly cipherSuite: number;
  readonly compressionMethod: number;
  /** Extension id → data, in the order received. */
  readonly extensions: ReadonlyMap<number, Buffer>;
  readonly helloRetryRequest: boolean;
  /** TLS 1.3 key_share: the server's share, or (HelloRetryRequest) the group it asks for. */
  readonly keyShare?: { readonly group: number; readonly key?: Buffer };
  /** RFC 8446 downgrade sentinel in the random ('tls12' | 'tls11'). */
  readonly downgradeSentinel?: 'tls12' | 'tls11';
}

export function parseExtensions(data: Buffer, what: string): Map<number, Buffer> {
  const r = reader(data, what);
  const extensions = new Map<number, Buffer>();
  while (r.remaining > 0) {
    const type = r.u16();
    extensions.set(type, r.vec16());
  }
  return extensions;
}

export function parseServerHello(body: Buffer): ServerHello {
  const r = reader(body, 'ServerHello');
  const legacyVersion = r.u16();
  const random = Buffer.from(r.bytes(32));
  const sessionId = Buffer.from(r.vec8());
  const cipherSuite = r.u16();
  const compressionMethod = r.u8();
  const extensions = r.remaining >= 2 ? parseExtensions(r.vec16(), 'ServerHello extensions') : new Map();
  const helloRetryRequest = random.equals(HELLO_RETRY_REQUEST_RANDOM);
  const supported = extensions.get(Extension.supportedVersions);
  const version = supported && supported.length === 2 ? supported.readUInt16BE(0) : legacyVersion;
  let keyShare: ServerHello['keyShare'];
  const share = extensions.get(Extension.keyShare);
  if (share && share.length >= 2) {
    const sr = reader(share, 'key_share');
    const group = sr.u16();
    keyShare = helloRetryRequest || sr.remaining === 0 ? { group } : { group, key: Buffer.from(sr.vec16()) };
  }
  const tail = random.subarray(24).toString('latin1');
  const downgradeSentinel =
    tail === 'DOWNGRD\x01' ? ('tls12' as const) : tail === 'DOWNGRD\x00' ? ('tls11' as const) : undefined;
  return {
    legacyVersion,
    version,
    random,
    sessionId,
    cipherSuite,
    compressionMethod,
    extensions,
    helloRetryRequest,
    ...(keyShare ? { keyShare } : {}),
    ...(downgradeSentinel ? { downgradeSentinel } : {}),
  };
}

/** TLS 1.0-1.2 Certificate: the DER certificates in the order served. */
export function parseCertificateList(body: Buffer): Buffer[] {
  const r = reader(body, 'Certificate');
  const list = reader(r.vec24(), 'certificate_list');
  const certificates: Buffer[] = [];
  while (list.remaining > 0) certificates.push(Buffer.from(list.vec24()));
  return certificates;
}

export interface Tls13CertificateEntry {
  readonly der: Buffer;
  /** The stapled OCSP response of this entry (status_request extension), if any. */
  readonly ocspResponse?: Buffer;
}

/** TLS 1.3 Certificate: request context, then entries with per-certificate extensions. */
export function parseTls13Certificate(body: Buffer): Tls13CertificateEntry[] {
  const r = reader(body, 'Certificate');
  r.vec8(); // certificate_request_context
  const list = reader(r.vec24(), 'certificate_list');
  const entries: Tls13CertificateEntry[] = [];
  while (list.remaining > 0) {
    const der = Buffer.from(list.vec24());
    const extensions = parseExtensions(list.vec16(), 'CertificateEntry extensions');
    const status = extensions.get(Extension.statusRequest);
    const ocsp = status ? parseCertificateStatus(status) : null;
    entries.push(ocsp ? { der, ocspResponse: ocsp } : { der });
  }
  return entries;
}

/** CertificateStatus (TLS 1.2 message, TLS 1.3 extension): the DER OCSP response, or null for another status type. */
export function parseCertificateStatus(body: Buffer): Buffer | null {
  const r = reader(body, 'CertificateStatus');
  const statusType = r.u8();
  if (statusType !== 1) return null;
  return Buffer.from(r.vec24());
}

export type ServerKeyExchangeParams =
  | { readonly kind: 'ecdhe'; readonly group: number; readonly publicKeyBytes: number }
  | { readonly kind: 'ecdhe_explicit'; readonly curveType: number }
  | { readonly kind: 'dhe'; readonly primeBits: number; readonly prime: Buffer; readonly generator: Buffer }
  | { readonly kind: 'rsa_export'; readonly modulusBits: number };

function bitLength(value: Buffer): number {
  let i = 0;
  while (i < value.length && value[i] === 0) i++;
  if (i === value.length) return 0;
  return (value.length - i - 1) * 8 + (32 - Math.clz32(value[i]!));
}

/**
 * The key-exchange parameters of a ServerKeyExchange, read according to the
 * suite's key exchange ('ECDH', 'DH', 'RSA' for export suites, PSK variants with
 * their identity hint first). Null for key exchanges we do not read (SRP, GOST…).
 */
export function parseServerKeyExchange(body: Buffer, keyExchange: string): ServerKeyExchangeParams | null {
  const r = reader(body, 'ServerKeyExchange');
  if (keyExchange === 'DHEPSK' || keyExchange === 'ECDHEPSK') r.vec16(); // psk_identity_hint
  if (keyExchange === 'ECDH' || keyExchange === 'ECDHEPSK') {
    const curveType = r.u8();
    if (curveType !== 3) return { kind: 'ecdhe_explicit', curveType };
    const group = r.u16();
    const point = r.vec8();
    return { kind: 'ecdhe', group, publicKeyBytes: point.length };
  }
  if (keyExchange === 'DH' || keyExchange === 'DHEPSK') {
    const prime = Buffer.from(r.vec16());
    const generator = Buffer.from(r.vec16());
    r.vec16(); // Ys
    return { kind: 'dhe', primeBits: bitLength(prime), prime, generator };
  }
  if (keyExchange === 'RSA') {
    const modulus = r.vec16();
    return { kind: 'rsa_export', modulusBits: bitLength(modulus) };
  }
  return null;
}

export interface Sslv2ServerHello {
  readonly sessionIdHit: number;
  readonly certificateType: number;
  readonly version: number;
  readonly certificate: Buffer;
  /** 3-byte cipher specs the server shares with us. */
  readonly cipherSpecs: number[];
}

/** The SSLv2 SERVER-HELLO message (after its record header). */
export function parseSslv2ServerHello(message: Buffer): Sslv2ServerHello {
  const r = reader(message, 'SSLv2 SERVER-HELLO');
  const type = r.u8();
  if (type !== 4) throw new TlsParseError(`SSLv2 message type ${type} is not SERVER-HELLO`);
  const sessionIdHit = r.u8();
  const certificateType = r.u8();
  const version = r.u16();
  const certificateLength = r.u16();
  const specsLength = r.u16();
  const connectionIdLength = r.u16();
  const certificate = Buffer.from(r.bytes(certificateLength));
  const specs = r.bytes(specsLength);
  r.bytes(connectionIdLength);
  const cipherSpecs: number[] = [];
  for (let i = 0; i + 3 <= specs.length; i += 3)
    cipherSpecs.push((specs[i]! << 16) | (specs[i + 1]! << 8) | specs[i + 2]!);
  return { sessionIdHit, certificateType, version, certificate, cipherSpecs };
}

/** The first ServerHello among handshake messages, or null. */
export function findServerHello(messages: readonly HandshakeMessage[]): ServerHello | null {
  const message = messages.find((m) => m.type === HandshakeType.serverHello);
  return message ? parseServerHello(message.body) : null;
}
