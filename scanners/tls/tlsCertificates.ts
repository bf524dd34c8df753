/**
 * The certificate chain exactly as the server sends it, with its stapled OCSP
 * response:
 *
 * - TLS 1.3: the Certificate message is encrypted, so we run the key exchange far
 *   enough to derive the server's handshake keys (tls13Keys.ts), decrypt its first
 *   flight and read the chain, then close without ever finishing the handshake.
 * - TLS 1.0-1.2 and SSLv3: Certificate and CertificateStatus travel in clear.
 * - SSLv2: the SERVER-HELLO carries the certificate.
 */
import { TLS13_STANDARD } from './cipherSuites.js';
import type { Conversation } from './tlsConnection.js';
import { ConnectionFailure, HandshakeBudgetError } from './tlsConnection.js';
import { legacyHello, probe, tls13Hello, type ProbeContext } from './tlsHellos.js';
import {
  alertsOf,
  parseCertificateList,
  parseCertificateStatus,
  parseServerHello,
  parseTls13Certificate,
  scanRecords,
  splitHandshake,
  TlsParseError,
  type HandshakeMessage,
  type ServerHello,
  type TlsRecord,
} from './tlsMessages.parser.js';
import {
  COMPUTABLE_GROUPS,
  decryptRecord,
  generateKeyShare,
  messageHashOf,
  serverHandshakeKeys,
  tls13SuiteParams,
  type KeyShare,
  type TrafficKeys,
} from './tls13Keys.js';
import { ContentType, Extension, HandshakeType, SIGNATURE_ALGORITHMS, TLS13 } from './tlsWire.js';
import { ScanAbortedError } from '../shared/errors.js';
import { randomBytes } from 'node:crypto';

export interface ServedChain {
  /** DER certificates, in the order served (leaf first). */
  readonly chain: readonly Buffer[];
  readonly ocspResponse: Buffer | null;
  readonly version: number;
  /** The ServerHello of that handshake (TLS 1.0-1.2: renegotiation_info, extended master secret…). */
  readonly serverHello?: ServerHello;
}

interface LocatedHello {
  readonly hello: ServerHello;
  readonly raw: Buffer;
  /** Offset just after the record that completed the ServerHello. */
  readonly end: number;
}

/** The ServerHello in the plaintext handshake records from `from` on; null until it is complete. */
export function locateServerHello(data: Buffer, from: number): LocatedHello | { readonly alert: number } | null {
  const scan = scanRecords(data.subarray(from));
  if (scan.kind === 'not_tls') throw new TlsParseError(`not TLS: ${scan.preview}`);
  if (scan.kind !== 'tls') return null;
  let offset = from;
  const handshake: Buffer[] = [];
  for (const record of scan.records) {
    offset += 5 + record.fragment.length;
    if (record.type === ContentType.alert) return { alert: record.fragment[1] ?? 0 };
    if (record.type !== ContentType.handshake) throw new TlsParseError(`record type ${record.type} before ServerHello`);
    handshake.push(record.fragment);
    const [first] = splitHandshake(Buffer.concat(handshake));
    if (first) {
      if (first.type !== HandshakeType.serverHello) {
        throw new TlsParseError(`handshake message ${first.type} instead of ServerHello`);
      }
      return { hello: parseServerHello(first.body), raw: Buffer.from(first.raw), end: offset };
    }
  }
  return null;
}

export interface DecryptedFlight {
  readonly messages: readonly HandshakeMessage[];
  /** An alert, in clear or encrypted. */
  readonly alert?: number;
}

/** Decrypts the server's records from `from` on (CCS skipped) and splits the handshake messages. Pure. */
export function decryptServerFlight(data: Buffer, from: number, keys: TrafficKeys): DecryptedFlight {
  const scan = scanRecords(data.subarray(from));
  if (scan.kind !== 'tls') return { messages: [] };
  const plain: Buffer[] = [];
  let sequence = 0;
  for (const record of scan.records as TlsRecord[]) {
    if (record.type === ContentType.changeCipherSpec) continue;
    if (record.type === ContentType.alert) {
      return { messages: splitHandshake(Buffer.concat(plain)), alert: record.fragment[1] ?? 0 };
    }
    if (record.type !== ContentType.applicationData) continue;
    const header = Buffer.from([record.type, record.version >> 8, record.version & 0xff, 0, 0]);
    header.writeUInt16BE(record.fragment.length, 3);
    const inner = decryptRecord(keys, header, record.fragment, sequence++);
    if (inner.contentType === ContentType.alert) {
      return { messages: splitHandshake(Buffer.concat(plain)), alert: inner.content[1] ?? 0 };
    }
    if (inner.contentType === ContentType.handshake) plain.push(inner.content);
  }
  return { messages: splitHandshake(Buffer.concat(plain)) };
}

async function waitFor<T>(conversation: Conversation, read: (data: Buffer) => T | null): Promise<T | null> {
  let result: T | null = null;
  await conversation.until((data) => {
    result = read(data);
    return result !== null;
  });
  return result ?? read(conversation.received());
}

/**
 * A TLS 1.3 handshake up to the server's Certificate: the chain as served and the
 * OCSP response stapled to the leaf. `signatureAlgorithms` picks the certificate of
 * a server with several (RSA / ECDSA / EdDSA). Null when the server does not answer
 * with TLS 1.3 or uses a group or suite we cannot compute.
 */
export async function fetchTls13Chain(
  context: ProbeContext,
  options: { signatureAlgorithms?: readonly number[]; statusRequest?: boolean } = {},
): Promise<ServedChain | null> {
  const random = randomBytes(32);
  const sessionId = randomBytes(32);
  const extra = {
    random,
    sessionId,
    statusRequest: options.statusRequest ?? true,
    signatureAlgorithms: options.signatureAlgorithms ?? SIGNATURE_ALGORITHMS,
    groups: COMPUTABLE_GROUPS,
  };
  const attempt = () =>
    context.connector.converse(async (conversation): Promise<ServedChain | null | 'retry'> => {
      const first = tls13Hello(context, TLS13_STANDARD, extra);
      conversation.send(first.bytes);
      let located = await waitFor(conversation, (data) => locateServerHello(data, 0));
      if (!located || 'alert' in located) return located ? null : 'retry';
      let transcript: Buffer[] = [first.handshake, located.raw];
      let shares: readonly KeyShare[] = context.keyShares;
      if (located.hello.helloRetryRequest) {
        const group = located.hello.keyShare?.group;
        const params = tls13SuiteParams(located.hello.cipherSuite);
        if (group === undefined || !COMPUTABLE_GROUPS.includes(group) || !params) return null;
        const share = generateKeyShare(group);
        shares = [share];
        const cookie = located.hello.extensions.get(Extension.cookie);
        const second = tls13Hello(context, TLS13_STANDARD, {
          ...extra,
          keyShares: [{ group, key: share.publicKey }],
          ...(cookie && cookie.length >= 2 ? { cookie: cookie.subarray(2) } : {}),
        });
        conversation.send(second.bytes);
        transcript = [messageHashOf(params.hash, first.handshake), located.raw, second.handshake];
        const from = located.end;
        located = await waitFor(conversation, (data) => locateServerHello(data, from));
        if (!located || 'alert' in located || located.hello.helloRetryRequest) return null;
        transcript.push(located.raw);
      }
      const hello = located.hello;
      if (hello.version !== TLS13 || !hello.keyShare?.key) return null;
      const params = tls13SuiteParams(hello.cipherSuite);
      const share = shares.find((s) => s.group === hello.keyShare?.group);
      if (!params || !share) return null;
      const keys = serverHandshakeKeys(params, share.computeSecret(hello.keyShare.key), transcript);
      const from = located.end;
      const flight = await waitFor(conversation, (data) => {
        const decrypted = decryptServerFlight(data, from, keys);
        if (decrypted.alert !== undefined) return decrypted;
        return decrypted.messages.some((m) => m.type === HandshakeType.certificate) ? decrypted : null;
      });
      const certificate = flight?.messages.find((m) => m.type === HandshakeType.certificate);
      if (!certificate) return null;
      const entries = parseTls13Certificate(certificate.body);
      return {
        chain: entries.map((entry) => entry.der),
        ocspResponse: entries[0]?.ocspResponse ?? null,
        version: TLS13,
        serverHello: hello,
      };
    });
  for (let tries = 0; tries < 2; tries++) {
    try {
      const result = await attempt();
      context.tick();
      if (result !== 'retry') return result;
    } catch (error) {
      if (error instanceof ScanAbortedError) throw error;
      if (error instanceof TlsParseError) {
        context.note(`TLSv1.3 certificate: ${error.message}`);
        return null;
      }
      if (error instanceof HandshakeBudgetError) {
        context.note(`TLSv1.3 certificate: ${error.message}`);
        return null;
      }
      if (!(error instanceof ConnectionFailure)) throw error;
    }
  }
  context.note('TLSv1.3 certificate: no complete answer');
  return null;
}

/** A TLS 1.0-1.2 (or SSLv3) handshake's first flight: the chain, the stapled OCSP response, the ServerHello. */
export async function fetchLegacyChain(
  context: ProbeContext,
  version: number,
  suites: readonly number[],
): Promise<ServedChain | null> {
  const outcome = await probe(
    context,
    legacyHello(context, version, suites, { statusRequest: true }).bytes,
    'certificate',
    'flight',
  );
  if (outcome.kind !== 'server_hello' || outcome.hello.version !== version) return null;
  const certificate = outcome.messages.find((m) => m.type === HandshakeType.certificate);
  const status = outcome.messages.find((m) => m.type === HandshakeType.certificateStatus);
  let chain: Buffer[] = [];
  let ocspResponse: Buffer | null = null;
  try {
    if (certificate) chain = parseCertificateList(certificate.body);
    if (status) ocspResponse = parseCertificateStatus(status.body);
  } catch (error) {
    if (!(error instanceof TlsParseError)) throw error;
    context.note(`certificate: ${error.message}`);
  }
  if (alertsOf(outcome.records).length > 0 && chain.length === 0) return null;
  return { chain, ocspResponse, version, serverHello: outcome.hello };
}
