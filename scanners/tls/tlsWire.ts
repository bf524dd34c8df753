/**
 * TLS and SSL wire constants and the messages we send, built byte by byte: TLS
 * ClientHellos of any version from SSLv3 to TLS 1.3 with exactly the suites,
 * groups and extensions a probe needs, the SSLv2 CLIENT-HELLO, heartbeat and alert
 * records. Pure: nothing here touches a socket.
 */
import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';

export const SSL2 = 0x0002;
export const SSL3 = 0x0300;
export const TLS10 = 0x0301;
export const TLS11 = 0x0302;
export const TLS12 = 0x0303;
export const TLS13 = 0x0304;

export type ProtocolKey = 'ssl_2_0' | 'ssl_3_0' | 'tls_1_0' | 'tls_1_1' | 'tls_1_2' | 'tls_1_3';

export const PROTOCOLS: readonly { key: ProtocolKey; version: number; label: string }[] = [
  { key: 'ssl_2_0', version: SSL2, label: 'SSLv2' },
  { key: 'ssl_3_0', version: SSL3, label: 'SSLv3' },
  { key: 'tls_1_0', version: TLS10, label: 'TLSv1.0' },
  { key: 'tls_1_1', version: TLS11, label: 'TLSv1.1' },
  { key: 'tls_1_2', version: TLS12, label: 'TLSv1.2' },
  { key: 'tls_1_3', version: TLS13, label: 'TLSv1.3' },
];

export function protocolLabel(version: number): string {
  return PROTOCOLS.find((p) => p.version === version)?.label ?? `0x${version.toString(16).padStart(4, '0')}`;
}

export function protocolKey(version: number): ProtocolKey | undefined {
  return PROTOCOLS.find((p) => p.version === version)?.key;
}

export const ContentType = { changeCipherSpec: 20, alert: 21, handshake: 22, applicationData: 23, heartbeat: 24 };

export const HandshakeType = {
  helloRequest: 0,
  clientHello: 1,
  serverHello: 2,
  newSessionTicket: 4,
  encryptedExtensions: 8,
  certificate: 11,
  serverKeyExchange: 12,
  certificateRequest: 13,
  serverHelloDone: 14,
  certificateVerify: 15,
  clientKeyExchange: 16,
  finished: 20,
  certificateStatus: 22,
  messageHash: 254,
};

export const Extension = {
  serverName: 0,
  statusRequest: 5,
  supportedGroups: 10,
  ecPointFormats: 11,
  signatureAlgorithms: 13,
  heartbeat: 15,
  padding: 21,
  encryptThenMac: 22,
  extendedMasterSecret: 23,
  sessionTicket: 35,
  supportedVersions: 43,
  cookie: 44,
  pskKeyExchangeModes: 45,
  keyShare: 51,
  renegotiationInfo: 0xff01,
};

export const AlertDescription: Readonly<Record<number, string>> = {
  0: 'close_notify',
  10: 'unexpected_message',
  20: 'bad_record_mac',
  21: 'decryption_failed',
  22: 'record_overflow',
  30: 'decompression_failure',
  40: 'handshake_failure',
  41: 'no_certificate',
  42: 'bad_certificate',
  43: 'unsupported_certificate',
  44: 'certificate_revoked',
  45: 'certificate_expired',
  46: 'certificate_unknown',
  47: 'illegal_parameter',
  48: 'unknown_ca',
  49: 'access_denied',
  50: 'decode_error',
  51: 'decrypt_error',
  60: 'export_restriction',
  70: 'protocol_version',
  71: 'insufficient_security',
  80: 'internal_error',
  86: 'inappropriate_fallback',
  90: 'user_canceled',
  100: 'no_renegotiation',
  109: 'missing_extension',
  110: 'unsupported_extension',
  112: 'unrecognized_name',
  113: 'bad_certificate_status_response',
  115: 'unknown_psk_identity',
  116: 'certificate_required',
  120: 'no_application_protocol',
};

export const ALERT_INAPPROPRIATE_FALLBACK = 86;

/** ServerHello.random of a HelloRetryRequest (RFC 8446 4.1.3). */
export const HELLO_RETRY_REQUEST_RANDOM = Buffer.from(
  'cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c',
  'hex',
);

/**
 * Every signature scheme worth offering: a scan must not lose a suite because the
 * server signs with something old (SHA-1, DSA) or new (EdDSA, brainpool).
 */
export const SIGNATURE_ALGORITHMS: readonly number[] = [
  0x0403, 0x0503, 0x0603, 0x0807, 0x0808, 0x081a, 0x081b, 0x081c, 0x0804, 0x0805, 0x0806, 0x0809, 0x080a, 0x080b,
  0x0401, 0x0501, 0x0601, 0x0303, 0x0301, 0x0302, 0x0402, 0x0502, 0x0602, 0x0203, 0x0201, 0x0202, 0x0101, 0x0102,
  0x0103,
];
/** Schemes by certificate key type (TLS 1.3: the scheme picks the certificate of a dual-certificate server). */
export const SIGNATURE_ALGORITHMS_RSA: readonly number[] = [
  0x0804, 0x0805, 0x0806, 0x0809, 0x080a, 0x080b, 0x0401, 0x0501, 0x0601, 0x0201,
];
export const SIGNATURE_ALGORITHMS_ECDSA: readonly number[] = [0x0403, 0x0503, 0x0603, 0x081a, 0x081b, 0x081c, 0x0203];
export const SIGNATURE_ALGORITHMS_EDDSA: readonly number[] = [0x0807, 0x0808];

export interface KeyShareEntry {
  readonly group: number;
  readonly key: Buffer;
}

export interface ClientHelloOptions {
  /** legacy_version: SSL3 … TLS12 (a TLS 1.3 hello says TLS12 here and TLS13 in supportedVersions). */
  readonly version: number;
  readonly cipherSuites: readonly number[];
  /** Record-layer version (default: SSL3 for SSLv3 hellos, TLS10 otherwise, as OpenSSL sends). */
  readonly recordVersion?: number;
  /** Default [0] (null); [1, 0] offers DEFLATE. */
  readonly compressionMethods?: readonly number[];
  /** SNI host name; none for an IP literal or null. */
  readonly serverName?: string | null;
  /** No extensions block at all (SSLv3 servers that choke on one). */
  readonly noExtensions?: boolean;
  readonly supportedVersions?: readonly number[];
  readonly groups?: readonly number[];
  /** TLS 1.3 key shares; [] sends an empty key_share (the server answers with a HelloRetryRequest). */
  readonly keyShares?: readonly KeyShareEntry[];
  readonly signatureAlgorithms?: readonly number[];
  readonly statusRequest?: boolean;
  readonly heartbeat?: boolean;
  readonly renegotiationInfo?: boolean;
  readonly extendedMasterSecret?: boolean;
  readonly sessionTicket?: boolean;
  /** TLS 1.3 HelloRetryRequest cookie to echo. */
  readonly cookie?: Buffer;
  readonly random?: Buffer;
  readonly sessionId?: Buffer;
  /** Pad to 512 bytes when 256-511 (RFC 7685: some servers hang on those sizes). Default true. */
  readonly padding?: boolean;
}

export interface BuiltHello {
  /** The whole record(s) to send. */
  readonly bytes: Buffer;
  /** The handshake message alone (type, length, body): the start of a TLS 1.3 transcript. */
  readonly handshake: Buffer;
  readonly random: Buffer;
}

function u8(n: number): Buffer {
  return Buffer.from([n & 0xff]);
}
function u16(n: number): Buffer {
  return Buffer.from([(n >> 8) & 0xff, n & 0xff]);
}
function u24(n: number): Buffer {
  return Buffer.from([(n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff]);
}
function vec8(body: Buffer): Buffer {
  return Buffer.concat([u8(body.length), body]);
}
function vec16(body: Buffer): Buffer {
  return Buffer.concat([u16(body.length), body]);
}
function vec24(body: Buffer): Buffer {
  return Buffer.concat([u24(body.length), body]);
}
function list16(values: readonly number[]): Buffer {
  return Buffer.concat(values.map(u16));
}
function extension(type: number, body: Buffer): Buffer {
  return Buffer.concat([u16(type), vec16(body)]);
}

/** The SNI name to send: none for IP literals (RFC 6066 forbids them) and empty names. */
export function sniName(hostname: string | null | undefined): string | null {
  if (!hostname || isIP(hostname) !== 0) return null;
  return hostname.replace(/\.$/, '');
}

/** Wraps a handshake message (or several) into records of at most 16 KiB. */
export function records(type: number, version: number, payload: Buffer): Buffer {
  const parts: Buffer[] = [];
  let offset = 0;
  do {
    const fragment = payload.subarray(offset, offset + 16384);
    parts.push(Buffer.concat([u8(type), u16(version), u16(fragment.length), fragment]));
    offset += 16384;
  } while (offset < payload.length);
  return Buffer.concat(parts);
}

export function handshakeMessage(type: number, body: Buffer): Buffer {
  return Buffer.concat([u8(type), vec24(body)]);
}

export function buildClientHello(options: ClientHelloOptions): BuiltHello {
  const random = options.random ?? randomBytes(32);
  const sessionId = options.sessionId ?? Buffer.alloc(0);
  const compression = options.compressionMethods ?? [0];
  const extensions: Buffer[] = [];
  if (!options.noExtensions) {
    const name = sniName(options.serverName);
    if (name) {
      const host = Buffer.from(name, 'ascii');
      extensions.push(extension(Extension.serverName, vec16(Buffer.concat([u8(0), vec16(host)]))));
    }
    if (options.statusRequest) {
      // status_type ocsp(1), empty responder_id_list, empty request_extensions
      extensions.push(extension(Extension.statusRequest, Buffer.from([1, 0, 0, 0, 0])));
    }
    if (options.groups && options.groups.length > 0) {
      extensions.push(extension(Extension.supportedGroups, vec16(list16(options.groups))));
      // uncompressed, ansiX962_compressed_prime, ansiX962_compressed_char2
      extensions.push(extension(Extension.ecPointFormats, vec8(Buffer.from([0, 1, 2]))));
    }
    if (options.signatureAlgorithms && options.signatureAlgorithms.length > 0) {
      extensions.push(extension(Extension.signatureAlgorithms, vec16(list16(options.signatureAlgorithms))));
    }
    if (options.heartbeat) extensions.push(extension(Extension.heartbeat, u8(1))); // peer_allowed_to_send
    if (options.extendedMasterSecret) extensions.push(extension(Extension.extendedMasterSecret, Buffer.alloc(0)));
    if (options.sessionTicket) extensions.push(extension(Extension.sessionTicket, Buffer.alloc(0)));
    if (options.supportedVersions && options.supportedVersions.length > 0) {
      extensions.push(extension(Extension.supportedVersions, vec8(list16(options.supportedVersions))));
    }
    if (options.cookie) extensions.push(extension(Extension.cookie, vec16(options.cookie)));
    if (options.keyShares) {
      const shares = options.keyShares.map((share) => Buffer.concat([u16(share.group), vec16(share.key)]));
      extensions.push(extension(Extension.keyShare, vec16(Buffer.concat(shares))));
      extensions.push(extension(Extension.pskKeyExchangeModes, vec8(u8(1)))); // psk_dhe_ke
    }
    if (options.renegotiationInfo) extensions.push(extension(Extension.renegotiationInfo, vec8(Buffer.alloc(0))));
  }

  const bodyWithout = (ext: Buffer[]) =>
    Buffer.concat([
      u16(options.version),
      random,
      vec8(sessionId),
      vec16(list16(options.cipherSuites)),
      vec8(Buffer.from(compression)),
      ...(options.noExtensions ? [] : [vec16(Buffer.concat(ext))]),
    ]);
  let body = bodyWithout(extensions);
  // The record is 4 (handshake header) + body bytes; pad 256-511 up to 512 (RFC 7685).
  const size = body.length + 4;
  if (!options.noExtensions && options.padding !== false && size >= 256 && size < 512) {
    const pad = Math.max(512 - size - 4, 1);
    body = bodyWithout([...extensions, extension(Extension.padding, Buffer.alloc(pad))]);
  }
  const handshake = handshakeMessage(HandshakeType.clientHello, body);
  const recordVersion = options.recordVersion ?? (options.version <= SSL3 ? SSL3 : TLS10);
  return { bytes: records(ContentType.handshake, recordVersion, handshake), handshake, random };
}

/**
 * The SSLv2 CLIENT-HELLO (2-byte record header, version 0x0002) offering the given
 * 3-byte cipher specs, with a 16-byte challenge.
 */
export function buildSslv2ClientHello(cipherSpecs: readonly number[], challenge: Buffer = randomBytes(16)): Buffer {
  const specs = Buffer.concat(
    cipherSpecs.map((spec) => Buffer.from([(spec >> 16) & 0xff, (spec >> 8) & 0xff, spec & 0xff])),
  );
  const message = Buffer.concat([u8(1), u16(SSL2), u16(specs.length), u16(0), u16(challenge.length), specs, challenge]);
  return Buffer.concat([u16(0x8000 | message.length), message]);
}

/**
 * A heartbeat request (RFC 6520) whose payload_length claims the 16 padding bytes
 * as payload: a correct server drops it (no room left for padding), a Heartbleed-
 * vulnerable one answers and echoes only bytes of this very record, so nothing of
 * its memory is disclosed to us.
 */
export function buildHeartbeatProbe(version: number, payload: Buffer = Buffer.from('secably', 'ascii')): Buffer {
  const padding = Buffer.alloc(16, 0x5a);
  const message = Buffer.concat([u8(1), u16(payload.length + padding.length), payload, padding]);
  return records(ContentType.heartbeat, version, message);
}

/** The length a vulnerable server's heartbeat response payload has for `buildHeartbeatProbe`. */
export function heartbeatProbeClaimedLength(payload: Buffer = Buffer.from('secably', 'ascii')): number {
  return payload.length + 16;
}

export function buildAlert(version: number, level: number, description: number): Buffer {
  return records(ContentType.alert, version, Buffer.from([level, description]));
}
