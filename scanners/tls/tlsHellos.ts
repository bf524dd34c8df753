/**
 * The probe context every TLS probe shares (the connector to the one address, the
 * SNI name, reusable TLS 1.3 key shares, a log of what could not be checked) and the
 * three kinds of ClientHello the probes send: legacy (SSLv3-TLS 1.2), TLS 1.3, and
 * the "universal" hello that offers every version at once (first contact, speaksTls).
 */
import { LEGACY_OFFER, TLS13_STANDARD, TLS_EMPTY_RENEGOTIATION_INFO_SCSV } from './cipherSuites.js';
import { NAMED_GROUPS, TLS12_CURVES, TLS13_GROUPS } from './namedGroups.js';
import { ConnectionFailure, HandshakeBudgetError, type Connector } from './tlsConnection.js';
import { exchangeHello, type HelloOutcome, type ReadUntil } from './tlsExchange.js';
import { generateKeyShare, type KeyShare } from './tls13Keys.js';
import {
  buildClientHello,
  SIGNATURE_ALGORITHMS,
  SSL3,
  TLS10,
  TLS11,
  TLS12,
  TLS13,
  type BuiltHello,
  type ClientHelloOptions,
} from './tlsWire.js';
import { randomBytes } from 'node:crypto';
import { ScanAbortedError } from '../shared/errors.js';

/** At most this many suites in one hello (some servers fail on more). */
export const MAX_SUITES_PER_HELLO = 128;

export interface ProbeContext {
  readonly connector: Connector;
  /** SNI name (null for an IP target). */
  readonly serverName: string | null;
  /** The x25519 share every TLS 1.3 hello offers (as browsers do), made once per scan; other groups go through a HelloRetryRequest. */
  readonly keyShares: readonly KeyShare[];
  /** Records something that could not be checked (kept in the result, makes it `incomplete`). */
  note(problem: string): void;
  /** Reports one more handshake done (progress). */
  tick(): void;
  /** Probes that failed in a row; past `MAX_CONSECUTIVE_FAILURES` the scan stops asking (the server stopped answering). */
  readonly health: { consecutiveFailures: number; gaveUp: boolean };
}

/** After this many probes in a row without an answer, the remaining probes are given up. */
export const MAX_CONSECUTIVE_FAILURES = 6;

export function createProbeContext(
  connector: Connector,
  serverName: string | null,
  hooks: {
    note: (problem: string) => void;
    tick: () => void;
  },
): ProbeContext {
  return {
    connector,
    serverName,
    keyShares: [generateKeyShare(29)],
    note: hooks.note,
    tick: hooks.tick,
    health: { consecutiveFailures: 0, gaveUp: false },
  };
}

/** ffdhe groups are offered to TLS 1.0-1.2 too (RFC 7919), as OpenSSL 3 clients do. */
const FFDHE = NAMED_GROUPS.filter((g) => g.kind === 'ffdhe').map((g) => g.id);
export const LEGACY_GROUPS: readonly number[] = [...TLS12_CURVES, ...FFDHE];

/** A ClientHello for SSLv3 … TLS 1.2. SSLv3 hellos carry no extensions (RFC 5746 SCSV instead). */
export function legacyHello(
  context: Pick<ProbeContext, 'serverName'>,
  version: number,
  suites: readonly number[],
  extra: Partial<ClientHelloOptions> = {},
): BuiltHello {
  const ssl3 = version === SSL3;
  return buildClientHello({
    version,
    cipherSuites: ssl3 ? [...suites, TLS_EMPTY_RENEGOTIATION_INFO_SCSV] : suites,
    serverName: context.serverName,
    noExtensions: ssl3,
    groups: LEGACY_GROUPS,
    ...(version >= TLS12 ? { signatureAlgorithms: SIGNATURE_ALGORITHMS } : {}),
    renegotiationInfo: !ssl3,
    extendedMasterSecret: !ssl3,
    ...extra,
  });
}

/** A TLS 1.3-only ClientHello (supported_versions = [TLS 1.3]) with x25519 and P-256 shares by default. */
export function tls13Hello(
  context: Pick<ProbeContext, 'serverName' | 'keyShares'>,
  suites: readonly number[],
  extra: Partial<ClientHelloOptions> = {},
): BuiltHello {
  return buildClientHello({
    version: TLS12,
    cipherSuites: suites,
    serverName: context.serverName,
    supportedVersions: [TLS13],
    groups: TLS13_GROUPS,
    keyShares: context.keyShares.map((share) => ({ group: share.group, key: share.publicKey })),
    signatureAlgorithms: SIGNATURE_ALGORITHMS,
    sessionId: randomBytes(32),
    ...extra,
  });
}

/** Offers TLS 1.3 down to TLS 1.0 and the most common suites: what any TLS server answers. */
export function universalHello(context: Pick<ProbeContext, 'serverName' | 'keyShares'>): BuiltHello {
  return buildClientHello({
    version: TLS12,
    cipherSuites: [...TLS13_STANDARD, ...LEGACY_OFFER.slice(0, MAX_SUITES_PER_HELLO - TLS13_STANDARD.length)],
    serverName: context.serverName,
    supportedVersions: [TLS13, TLS12, TLS11, TLS10],
    groups: [...new Set([...TLS13_GROUPS, ...LEGACY_GROUPS])],
    keyShares: context.keyShares.map((share) => ({ group: share.group, key: share.publicKey })),
    signatureAlgorithms: SIGNATURE_ALGORITHMS,
    renegotiationInfo: true,
    extendedMasterSecret: true,
    sessionId: randomBytes(32),
  });
}

export type ProbeResult = HelloOutcome | { readonly kind: 'failed'; readonly reason: string };

/**
 * Sends one hello and reads the answer; a connection that fails or an answer that
 * does not come in time is tried once more. Returns `failed` (and notes it) when
 * the second try fails too or the handshake budget is spent; aborts propagate.
 */
export async function probe(
  context: ProbeContext,
  hello: Buffer,
  what: string,
  until: ReadUntil = 'flight',
): Promise<ProbeResult> {
  if (context.health.gaveUp) return { kind: 'failed', reason: 'the server stopped answering' };
  const result = await probeOnce(context, hello, what, until);
  if (result.kind === 'failed') {
    context.health.consecutiveFailures++;
    if (context.health.consecutiveFailures >= MAX_CONSECUTIVE_FAILURES && !context.health.gaveUp) {
      context.health.gaveUp = true;
      context.note(
        `the server stopped answering after ${context.connector.handshakes()} connections; the remaining probes were skipped`,
      );
    }
  } else {
    context.health.consecutiveFailures = 0;
  }
  return result;
}

async function probeOnce(context: ProbeContext, hello: Buffer, what: string, until: ReadUntil): Promise<ProbeResult> {
  let lastReason = '';
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const outcome = await exchangeHello(context.connector, hello, until);
      context.tick();
      if (outcome.kind === 'timeout' || (outcome.kind === 'closed' && outcome.partial)) {
        lastReason = outcome.kind === 'timeout' ? 'no complete answer in time' : 'the answer was cut off';
        continue;
      }
      return outcome;
    } catch (error) {
      if (error instanceof ScanAbortedError) throw error;
      if (error instanceof HandshakeBudgetError) {
        context.note(`${what}: ${error.message}`);
        return { kind: 'failed', reason: error.message };
      }
      if (error instanceof ConnectionFailure) {
        lastReason = error.message;
        continue;
      }
      throw error;
    }
  }
  context.note(`${what}: ${lastReason}`);
  return { kind: 'failed', reason: lastReason };
}

/** Splits a list into chunks of at most `size`. */
export function chunks<T>(list: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < list.length; i += size) out.push(list.slice(i, i + size));
  return out;
}
