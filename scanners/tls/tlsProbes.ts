/**
 * Protocol versions, cipher suites and key-exchange groups, found by asking:
 *
 * - SSLv2: one CLIENT-HELLO with every cipher spec; the SERVER-HELLO lists those the
 *   server shares.
 * - SSLv3 … TLS 1.2: elimination. Offer a chunk of at most 128 suites; the server
 *   picks one; offer the rest again, until it refuses. The picks come out in the
 *   server's preference order when it has one (checked by offering the found suites
 *   reversed). The version is supported when at least one suite is accepted.
 * - TLS 1.3: each suite alone, then the found ones together (and reversed) for the
 *   preference.
 * - Groups: elimination again — TLS 1.2 through the curve the ServerKeyExchange
 *   names, TLS 1.3 through the group a HelloRetryRequest asks for (empty key_share).
 *
 * Each accepted TLS 1.0-1.2 suite also yields what its handshake showed: the ECDHE
 * curve or DH prime size, and the certificate chain (dual-certificate servers).
 */
import { LEGACY_OFFER, SSL2_CIPHER_SPECS, TLS13_OFFER, suiteById } from './cipherSuites.js';
import { groupById, TLS12_CURVES, TLS13_GROUPS } from './namedGroups.js';
import {
  chunks,
  legacyHello,
  MAX_SUITES_PER_HELLO,
  probe,
  tls13Hello,
  type ProbeContext,
  type ProbeResult,
} from './tlsHellos.js';
import {
  parseCertificateList,
  parseServerKeyExchange,
  TlsParseError,
  type HandshakeMessage,
} from './tlsMessages.parser.js';
import { buildSslv2ClientHello, HandshakeType, protocolLabel, TLS13 } from './tlsWire.js';

/** What one accepted suite's handshake showed about its key exchange. */
export interface KeyExchangeSeen {
  readonly type: 'ECDH' | 'DH' | 'RSA';
  /** ECDH: the curve or group name. */
  readonly group?: string;
  /** ECDH: the curve's size (x25519 253); DH: the prime's bits; RSA export: the temporary key's bits. */
  readonly bits: number;
}

export interface AcceptedSuite {
  readonly id: number;
  readonly keyExchange: KeyExchangeSeen | null;
}

export interface VersionScan {
  readonly version: number;
  readonly supported: boolean;
  /** In the server's preference order when `serverPreference` is true, else in our offer order. */
  readonly suites: readonly AcceptedSuite[];
  /** null: fewer than two suites, or not checked. */
  readonly serverPreference: boolean | null;
  /** Some probes of this version failed (timeouts, budget): the lists may be short. */
  readonly incomplete: boolean;
  /** Certificate chains seen in this version's handshakes, by leaf fingerprint → DER chain. */
  readonly chains: ReadonlyMap<string, { readonly chain: readonly Buffer[]; readonly suite: number }>;
}

/** Size of a curve's key as sslscan reports it (x25519 253, P-256 256, x448 448); a hybrid: its classical part. */
export function groupKeyBits(name: string): number {
  if (/^x25519/i.test(name)) return 253;
  if (/^x448/i.test(name)) return 448;
  const classical = /^SecP(\d{3})r1/.exec(name);
  if (classical) return Number(classical[1]);
  if (/^MLKEM/.test(name)) return 0;
  const match = /(\d{3,4})/.exec(name);
  return match ? Number(match[1]) : 0;
}

function keyExchangeOf(messages: readonly HandshakeMessage[], suiteId: number): KeyExchangeSeen | null {
  const suite = suiteById(suiteId);
  const ske = messages.find((m) => m.type === HandshakeType.serverKeyExchange);
  if (!ske) return null;
  try {
    const params = parseServerKeyExchange(ske.body, suite.keyExchange);
    if (!params) return null;
    switch (params.kind) {
      case 'ecdhe': {
        const group = groupById(params.group);
        return { type: 'ECDH', group: group.name, bits: groupKeyBits(group.name) };
      }
      case 'ecdhe_explicit':
        return { type: 'ECDH', group: `explicit curve (type ${params.curveType})`, bits: 0 };
      case 'dhe':
        return { type: 'DH', bits: params.primeBits };
      case 'rsa_export':
        return { type: 'RSA', bits: params.modulusBits };
    }
  } catch (error) {
    if (error instanceof TlsParseError) return null;
    throw error;
  }
}

function chainOf(messages: readonly HandshakeMessage[]): Buffer[] | null {
  const certificate = messages.find((m) => m.type === HandshakeType.certificate);
  if (!certificate) return null;
  try {
    return parseCertificateList(certificate.body);
  } catch {
    return null;
  }
}

/** A hello accepted at exactly `version` with a suite we offered: that suite, else null. */
function acceptedSuite(outcome: ProbeResult, version: number, offered: readonly number[]): number | null {
  if (outcome.kind !== 'server_hello' || (outcome.hello.helloRetryRequest && version !== TLS13)) return null;
  if (outcome.hello.version !== version) return null;
  return offered.includes(outcome.hello.cipherSuite) ? outcome.hello.cipherSuite : null;
}

/**
 * SSLv3 … TLS 1.2: which suites the server accepts at `version`. With
 * `firstOnly`, stops at the first accepted suite (version detection alone).
 */
export async function scanLegacyVersion(
  context: ProbeContext,
  version: number,
  options: { firstOnly: boolean; onChunk?: (done: number, total: number) => void },
): Promise<VersionScan> {
  const label = protocolLabel(version);
  const accepted: AcceptedSuite[] = [];
  const chains = new Map<string, { chain: Buffer[]; suite: number }>();
  let incomplete = false;
  const parts = chunks(LEGACY_OFFER, MAX_SUITES_PER_HELLO);
  const fromChunk: number[] = [];
  for (const [index, part] of parts.entries()) {
    let remaining = [...part];
    while (remaining.length > 0) {
      const outcome = await probe(context, legacyHello(context, version, remaining).bytes, `${label} cipher suites`);
      if (outcome.kind === 'failed') {
        incomplete = true;
        break;
      }
      if (
        outcome.kind === 'server_hello' &&
        outcome.hello.version === version &&
        !remaining.includes(outcome.hello.cipherSuite)
      ) {
        context.note(
          `${label}: the server chose suite 0x${outcome.hello.cipherSuite.toString(16).padStart(4, '0')}, which was not offered`,
        );
        incomplete = true;
        break;
      }
      const suite = acceptedSuite(outcome, version, remaining);
      if (suite === null || outcome.kind !== 'server_hello') break;
      accepted.push({ id: suite, keyExchange: keyExchangeOf(outcome.messages, suite) });
      fromChunk.push(index);
      const chain = chainOf(outcome.messages);
      if (chain && chain[0]) {
        const key = chain[0].toString('base64').slice(-64);
        if (!chains.has(key)) chains.set(key, { chain, suite });
      }
      remaining = remaining.filter((id) => id !== suite);
      if (options.firstOnly) {
        options.onChunk?.(parts.length, parts.length);
        return { version, supported: true, suites: accepted, serverPreference: null, incomplete, chains };
      }
    }
    options.onChunk?.(index + 1, parts.length);
  }
  if (options.firstOnly || accepted.length < 2) {
    return { version, supported: accepted.length > 0, suites: accepted, serverPreference: null, incomplete, chains };
  }
  const preference = await preferenceOrder(
    context,
    accepted.map((s) => s.id),
    new Set(fromChunk).size === 1,
    (suites) => legacyHello(context, version, suites).bytes,
    version,
    label,
  );
  const byId = new Map(accepted.map((s) => [s.id, s]));
  return {
    version,
    supported: true,
    suites: preference.order.map((id) => byId.get(id)!),
    serverPreference: preference.serverPreference,
    incomplete: incomplete || preference.incomplete,
    chains,
  };
}

/**
 * Whether the server imposes its own order on `found` (≥ 2 accepted suites), and
 * that order. `knownFirst`: `found` came from one elimination run, so `found[0]` is
 * what the server picks from all of them, and `found` is already in the server's
 * order if it has one. Otherwise one more hello finds its pick, and (server order)
 * one more elimination orders the rest.
 */
async function preferenceOrder(
  context: ProbeContext,
  found: readonly number[],
  knownFirst: boolean,
  helloOf: (suites: readonly number[]) => Buffer,
  version: number,
  label: string,
): Promise<{ order: number[]; serverPreference: boolean | null; incomplete: boolean }> {
  const unknown = (outcome: ProbeResult) => ({
    order: [...found],
    serverPreference: null,
    incomplete: outcome.kind === 'failed',
  });
  const offer = (suites: readonly number[]) =>
    probe(context, helloOf(suites.slice(0, MAX_SUITES_PER_HELLO)), `${label} preference`, 'server_hello');
  let first = found[0]!;
  if (!knownFirst) {
    const forward = await offer(found);
    const pick = acceptedSuite(forward, version, found);
    if (pick === null) return unknown(forward);
    first = pick;
  }
  const reversed = [...found].reverse();
  const backward = await offer(reversed);
  const pick = acceptedSuite(backward, version, reversed);
  if (pick === null) return unknown(backward);
  if (first === found[0] && pick === reversed[0])
    return { order: [...found], serverPreference: false, incomplete: false };
  if (knownFirst) return { order: [...found], serverPreference: true, incomplete: false };
  const order: number[] = [first];
  let remaining = found.filter((id) => id !== first);
  let incomplete = false;
  while (remaining.length > 1) {
    const next = await offer(remaining);
    const suite = acceptedSuite(next, version, remaining);
    if (suite === null) {
      incomplete = next.kind === 'failed';
      break;
    }
    order.push(suite);
    remaining = remaining.filter((id) => id !== suite);
  }
  return { order: [...order, ...remaining], serverPreference: true, incomplete };
}

/** TLS 1.3: each suite alone (concurrently, within the connection limit), then the preference. */
export async function scanTls13(
  context: ProbeContext,
  options: { firstOnly: boolean; onProbe?: (done: number, total: number) => void },
): Promise<VersionScan & { readonly groupsSeen: ReadonlyMap<number, string> }> {
  const groupsSeen = new Map<number, string>();
  const chains = new Map<string, { chain: Buffer[]; suite: number }>();
  let incomplete = false;
  let done = 0;
  const candidates = options.firstOnly ? [TLS13_OFFER] : TLS13_OFFER.map((id) => [id]);
  const results = await Promise.all(
    candidates.map(async (suites) => {
      const outcome = await probe(context, tls13Hello(context, suites).bytes, 'TLSv1.3 cipher suites', 'server_hello');
      options.onProbe?.(++done, candidates.length);
      if (outcome.kind === 'failed') incomplete = true;
      const suite = acceptedSuite(outcome, TLS13, suites);
      if (suite !== null && outcome.kind === 'server_hello' && outcome.hello.keyShare) {
        groupsSeen.set(suite, groupById(outcome.hello.keyShare.group).name);
      }
      return suite;
    }),
  );
  const found = results.filter((id): id is number => id !== null);
  const accepted = (ids: readonly number[]): AcceptedSuite[] =>
    ids.map((id) => {
      const group = groupsSeen.get(id);
      return { id, keyExchange: group ? { type: 'ECDH' as const, group, bits: groupKeyBits(group) } : null };
    });
  if (options.firstOnly || found.length < 2) {
    return {
      version: TLS13,
      supported: found.length > 0,
      suites: accepted(found),
      serverPreference: null,
      incomplete,
      chains,
      groupsSeen,
    };
  }
  const preference = await preferenceOrder(
    context,
    found,
    false,
    (suites) => tls13Hello(context, suites).bytes,
    TLS13,
    'TLSv1.3',
  );
  const order = preference.order;
  const serverPreference = preference.serverPreference;
  if (preference.incomplete) incomplete = true;
  return { version: TLS13, supported: true, suites: accepted(order), serverPreference, incomplete, chains, groupsSeen };
}

export interface Sslv2Scan {
  readonly supported: boolean;
  readonly cipherSpecs: readonly number[];
  readonly certificate: Buffer | null;
  readonly incomplete: boolean;
}

/** SSLv2: one CLIENT-HELLO with every cipher spec. */
export async function scanSslv2(context: ProbeContext): Promise<Sslv2Scan> {
  const outcome = await probe(context, buildSslv2ClientHello(SSL2_CIPHER_SPECS.map((s) => s.id)), 'SSLv2');
  if (outcome.kind === 'sslv2') {
    return {
      supported: true,
      cipherSpecs: outcome.hello.cipherSpecs,
      certificate: outcome.hello.certificate.length > 0 ? outcome.hello.certificate : null,
      incomplete: false,
    };
  }
  return { supported: false, cipherSpecs: [], certificate: null, incomplete: outcome.kind === 'failed' };
}

export interface GroupScan {
  readonly groups: readonly number[];
  readonly incomplete: boolean;
}

/**
 * TLS 1.0-1.2 ECDHE curves by elimination: offer only the accepted ECDHE suites and
 * the curves not found yet; the ServerKeyExchange names the server's pick.
 * `certificateCurve`: with ECDHE_ECDSA suites the server can only use its
 * certificate when the client also lists the certificate's curve (RFC 8422), so
 * that curve is offered in every round, last.
 */
export async function scanLegacyCurves(
  context: ProbeContext,
  version: number,
  ecdheSuites: readonly number[],
  certificateCurve?: number,
): Promise<GroupScan> {
  const found: number[] = [];
  let remaining = [...TLS12_CURVES];
  const label = `${protocolLabel(version)} curves`;
  const suites = ecdheSuites.slice(0, MAX_SUITES_PER_HELLO);
  while (remaining.length > 0) {
    const offered =
      certificateCurve !== undefined && !remaining.includes(certificateCurve)
        ? [...remaining, certificateCurve]
        : remaining;
    const outcome = await probe(context, legacyHello(context, version, suites, { groups: offered }).bytes, label);
    if (outcome.kind === 'failed') return { groups: found, incomplete: true };
    if (outcome.kind !== 'server_hello' || outcome.hello.version !== version) break;
    const ske = outcome.messages.find((m) => m.type === HandshakeType.serverKeyExchange);
    let groupId: number | null = null;
    try {
      const params = ske ? parseServerKeyExchange(ske.body, 'ECDH') : null;
      if (params?.kind === 'ecdhe') groupId = params.group;
    } catch {
      groupId = null;
    }
    if (groupId === null || !remaining.includes(groupId)) {
      // The certificate's curve again (already found): the server ranks it above the rest; stop there.
      if (groupId !== null && !offered.includes(groupId)) {
        context.note(`${label}: the server used curve ${groupId}, which was not offered`);
      }
      break;
    }
    found.push(groupId);
    remaining = remaining.filter((id) => id !== groupId);
  }
  return { groups: found, incomplete: false };
}

/** TLS 1.3 groups by elimination: an empty key_share makes the server name its pick in a HelloRetryRequest. */
export async function scanTls13Groups(context: ProbeContext, suites: readonly number[]): Promise<GroupScan> {
  const found: number[] = [];
  let remaining = [...TLS13_GROUPS];
  while (remaining.length > 0) {
    const outcome = await probe(
      context,
      tls13Hello(context, suites, { groups: remaining, keyShares: [] }).bytes,
      'TLSv1.3 groups',
      'server_hello',
    );
    if (outcome.kind === 'failed') return { groups: found, incomplete: true };
    if (outcome.kind !== 'server_hello' || outcome.hello.version !== TLS13 || !outcome.hello.keyShare) break;
    const group = outcome.hello.keyShare.group;
    if (!remaining.includes(group)) {
      context.note(`TLSv1.3 groups: the server asked for group ${group}, which was not offered`);
      break;
    }
    found.push(group);
    remaining = remaining.filter((id) => id !== group);
  }
  return { groups: found, incomplete: false };
}
