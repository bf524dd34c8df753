/**
 * The TLS analysis of one endpoint, for the `sslyze` scanner and for any scanner
 * that meets a TLS port (the OpenVAS-style scanner runs it on each): protocols,
 * cipher suites with preference order and key exchange, groups, the certificate
 * chain, Heartbleed, compression, renegotiation, fallback SCSV, OCSP stapling and
 * HSTS — all from hand-built handshakes to `address` only (SNI and the name check
 * use `hostname`), at most `maxConnections` at once and `maxHandshakes` in all.
 *
 * A port that does not answer TLS fails at once with `TargetUnreachableError`
 * (refused, unreachable, timed out, plain HTTP or another protocol, stalled
 * handshake); after that, a probe that fails is retried once and noted in
 * `scan_info.notes` (the result is then `incomplete`).
 */
import type { ScannerFinding } from '../../domain/shared/finding.js';
import { ScanAbortedError, TargetUnreachableError } from '../shared/errors.js';
import {
  defaultRootStore,
  analyzeCertificateChain,
  type RootStore,
  type CertificateReport,
} from './certificateAnalysis.js';
import { parseCertificate } from './certificate.parser.js';
import { LEGACY_OFFER, sslv2SpecById, suiteById, type CipherSuite } from './cipherSuites.js';
import { checkHsts, HSTS_NOT_APPLICABLE, type HstsResult } from './hsts.js';
import { groupById } from './namedGroups.js';
import { fetchLegacyChain, fetchTls13Chain, type ServedChain } from './tlsCertificates.js';
import { ConnectionFailure, createConnector } from './tlsConnection.js';
import { exchangeHello, type HelloOutcome } from './tlsExchange.js';
import { tlsFindings, TLS_ENGINE, locationOf } from './tlsFindings.rules.js';
import {
  createProbeContext,
  legacyHello,
  MAX_SUITES_PER_HELLO,
  universalHello,
  type ProbeContext,
} from './tlsHellos.js';
import {
  groupKeyBits,
  scanLegacyCurves,
  scanLegacyVersion,
  scanSslv2,
  scanTls13,
  scanTls13Groups,
  type AcceptedSuite,
  type GroupScan,
  type Sslv2Scan,
  type VersionScan,
} from './tlsProbes.js';
import type { CertificateInfo, SecurityChecks, SuiteEntry, TlsScanResult, VersionSuites } from './tlsResult.js';
import {
  testCcsInjection,
  testClientRenegotiation,
  testCompression,
  testFallbackScsv,
  testHeartbleed,
  type HeartbleedResult,
} from './tlsVulnerabilities.js';
import {
  buildSslv2ClientHello,
  protocolLabel,
  SIGNATURE_ALGORITHMS_ECDSA,
  SIGNATURE_ALGORITHMS_EDDSA,
  SIGNATURE_ALGORITHMS_RSA,
  sniName,
  SSL2,
  SSL3,
  TLS10,
  TLS11,
  TLS12,
  TLS13,
} from './tlsWire.js';
import { SSL2_CIPHER_SPECS } from './cipherSuites.js';

export interface TlsAnalysisInput {
  /** The checked address to connect to (never a host name). */
  readonly address: string;
  readonly port: number;
  /** The name for SNI, the certificate check and finding locations (an IP literal for IP targets). */
  readonly hostname: string;
  readonly signal: AbortSignal;
  readonly onProgress?: (progress: { percent: number; phase: string }) => void;
  /** Parts to run (default: all); a part turned off is neither probed nor reported. */
  readonly checks?: { certificate?: boolean; versions?: boolean; cipherSuites?: boolean };
  /** Per TCP connect and per handshake (default 5 s). */
  readonly handshakeTimeoutMs?: number;
  /** Connections in all (default 1,500). */
  readonly maxHandshakes?: number;
  /** Connections at once (default 4). */
  readonly maxConnections?: number;
  /** HSTS: the path to GET over HTTPS; undefined = '/' on port 443 only; null = no HTTP request. */
  readonly httpPath?: string | null;
  /** The time certificates are judged at (default: now). */
  readonly now?: () => Date;
  /** Trusted roots (default: Node's bundled Mozilla store). */
  readonly roots?: RootStore;
}

export interface TlsAnalysis {
  readonly findings: ScannerFinding[];
  readonly result: TlsScanResult;
}

export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 5_000;
export const DEFAULT_MAX_HANDSHAKES = 1_500;
export const DEFAULT_MAX_CONNECTIONS = 4;

const LEGACY_VERSIONS = [TLS12, TLS11, TLS10, SSL3] as const;

function emptyVersion(): VersionSuites {
  return { supported: false, server_preference: null, preferred: null, suites: [], incomplete: false };
}

function suiteEntry(suite: CipherSuite, version: number, seen: AcceptedSuite['keyExchange']): SuiteEntry {
  const weaknesses: string[] = [...suite.weaknesses];
  if (suite.cbc && (version === TLS10 || version === SSL3)) weaknesses.push('cbc_tls1_0');
  return {
    id: suite.hex,
    name: suite.name,
    openssl_name: suite.opensslName,
    bits: suite.bits,
    strength: suite.strength,
    forward_secrecy: suite.forwardSecrecy,
    aead: suite.aead,
    weaknesses,
    key_exchange: seen ? { type: seen.type, group: seen.group ?? null, bits: seen.bits } : null,
  };
}

function versionSuites(scan: VersionScan | undefined): VersionSuites {
  if (!scan) return emptyVersion();
  const suites = scan.suites.map((s) => suiteEntry(suiteById(s.id), scan.version, s.keyExchange));
  return {
    supported: scan.supported,
    server_preference: scan.serverPreference,
    preferred: suites[0]?.name ?? null,
    suites,
    incomplete: scan.incomplete,
  };
}

function sslv2Suites(scan: Sslv2Scan | undefined): VersionSuites {
  if (!scan) return emptyVersion();
  const suites = scan.cipherSpecs.map((id) => suiteEntry(sslv2SpecById(id), SSL2, null));
  return { supported: scan.supported, server_preference: null, preferred: null, suites, incomplete: scan.incomplete };
}

/** Why the first contact failed, in words a user can act on. */
function unreachable(label: string, outcome: HelloOutcome, timeoutMs: number): TargetUnreachableError | null {
  switch (outcome.kind) {
    case 'not_tls': {
      const http = /^HTTP\/\d/.test(outcome.preview);
      const what = http ? 'plain HTTP' : outcome.preview.startsWith('SSH-') ? 'SSH' : 'another protocol';
      return new TargetUnreachableError(
        `${label} does not speak TLS: it answered in ${what} ("${outcome.preview.slice(0, 40)}")`,
        'not_tls',
      );
    }
    case 'malformed':
      return new TargetUnreachableError(`${label} sent an answer that is not valid TLS (${outcome.reason})`, 'not_tls');
    case 'timeout':
      return new TargetUnreachableError(
        `${label} accepted the connection but sent no TLS answer within ${timeoutMs} ms (stalled handshake)`,
        'tls_handshake_timeout',
      );
    case 'closed':
      return new TargetUnreachableError(
        `${label} closed the connection without a TLS answer (not a TLS service, or it accepts none of the protocol versions and suites offered)`,
        'not_tls',
      );
    default:
      return null;
  }
}

const speaksAnything = (outcome: HelloOutcome) =>
  outcome.kind === 'server_hello' ||
  outcome.kind === 'alert' ||
  outcome.kind === 'sslv2' ||
  outcome.kind === 'sslv2_error';

/**
 * Fast probe: does `address:port` answer a ClientHello (any version, including an
 * alert)? False on refusal, silence, plain HTTP or anything else; aborts reject.
 */
export async function speaksTls(
  address: string,
  port: number,
  hostname: string,
  signal: AbortSignal,
): Promise<boolean> {
  const connector = createConnector({
    address,
    port,
    signal,
    limits: { maxConnections: 1, maxHandshakes: 3, timeoutMs: 3_000 },
  });
  const context = createProbeContext(connector, sniName(hostname), { note: () => {}, tick: () => {} });
  try {
    const outcome = await exchangeHello(connector, universalHello(context).bytes, 'server_hello');
    if (speaksAnything(outcome)) return true;
    if (outcome.kind !== 'closed') return false;
    // Servers that hang up on a TLS 1.2+ hello may still speak SSLv3 / SSLv2.
    const old = await exchangeHello(
      connector,
      legacyHello(context, SSL3, LEGACY_OFFER.slice(0, 100)).bytes,
      'server_hello',
    );
    if (speaksAnything(old)) return true;
    return speaksAnything(
      await exchangeHello(connector, buildSslv2ClientHello(SSL2_CIPHER_SPECS.map((s) => s.id)), 'server_hello'),
    );
  } catch (error) {
    if (error instanceof ScanAbortedError || signal.aborted) throw new ScanAbortedError('TLS probe aborted');
    if (error instanceof ConnectionFailure) return false;
    throw error;
  }
}

function progressReporter(onProgress: TlsAnalysisInput['onProgress']) {
  let percent = 0;
  let phase = 'connecting';
  let handshakes = 0;
  const emit = () => onProgress?.({ percent: Math.round(percent * 10) / 10, phase });
  return {
    phase(next: string) {
      if (next === phase) return;
      phase = next;
      emit();
    },
    tick() {
      handshakes++;
      // Moves fast at first, never reaches 95 before the end: the number of handshakes is not known ahead.
      const next = 5 + 90 * (1 - Math.exp(-handshakes / 60));
      if (next - percent >= 1) {
        percent = next;
        emit();
      }
    },
    done() {
      percent = 100;
      phase = 'done';
      emit();
    },
    start() {
      emit();
    },
  };
}

export async function analyzeTlsEndpoint(input: TlsAnalysisInput): Promise<TlsAnalysis> {
  const started = Date.now();
  const checks = {
    certificate: input.checks?.certificate ?? true,
    versions: input.checks?.versions ?? true,
    cipherSuites: input.checks?.cipherSuites ?? true,
  };
  const timeoutMs = input.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS;
  const progress = progressReporter(input.onProgress);
  progress.start();
  const connector = createConnector({
    address: input.address,
    port: input.port,
    signal: input.signal,
    limits: {
      maxConnections: input.maxConnections ?? DEFAULT_MAX_CONNECTIONS,
      maxHandshakes: input.maxHandshakes ?? DEFAULT_MAX_HANDSHAKES,
      timeoutMs,
    },
  });
  const notes = new Set<string>();
  const serverName = sniName(input.hostname);
  const context = createProbeContext(connector, serverName, {
    note: (problem) => {
      if (notes.size < 50) notes.add(problem.slice(0, 300));
    },
    tick: () => progress.tick(),
  });
  const label = locationOf(input.hostname, input.port);

  // 1. First contact: fail fast and clearly when the port does not speak TLS.
  const first = await firstContact(context, label, timeoutMs);
  const firstVersion = first.kind === 'server_hello' ? first.hello.version : null;

  // 2. Protocols and cipher suites (and, alongside, the certificate and HSTS).
  progress.phase('protocols and cipher suites');
  const firstOnly = !checks.cipherSuites;
  const hstsPath = input.httpPath === null ? null : (input.httpPath ?? (input.port === 443 ? '/' : null));
  const hstsTask: Promise<HstsResult> =
    hstsPath === null
      ? Promise.resolve(HSTS_NOT_APPLICABLE)
      : checkHsts({
          address: input.address,
          hostname: input.hostname,
          port: input.port,
          path: hstsPath,
          signal: input.signal,
          timeoutMs: Math.max(timeoutMs, 5_000),
        });
  hstsTask.catch(() => {}); // awaited below
  const primaryChainTask: Promise<ServedChain | null> = checks.certificate
    ? primaryChain(context, first, firstVersion)
    : Promise.resolve(null);
  primaryChainTask.catch(() => {});

  const [sslv2, legacyScans, tls13] = await Promise.all([
    checks.versions ? scanSslv2(context) : Promise.resolve(undefined),
    Promise.all(
      LEGACY_VERSIONS.map((version) =>
        version === SSL3 && !checks.versions
          ? Promise.resolve(undefined)
          : scanLegacyVersion(context, version, { firstOnly }),
      ),
    ),
    scanTls13Quick(context, firstVersion, firstOnly),
  ]);
  const legacy = new Map<number, VersionScan>();
  for (const scan of legacyScans) if (scan) legacy.set(scan.version, scan);
  const supported = (version: number) =>
    version === TLS13
      ? tls13.supported
      : version === SSL2
        ? (sslv2?.supported ?? false)
        : (legacy.get(version)?.supported ?? false);
  const bestLegacy = LEGACY_VERSIONS.find((version) => supported(version));
  const legacySuites = (version: number) => (legacy.get(version)?.suites ?? []).map((s) => s.id);

  // 3. Groups, certificates, vulnerabilities: all concurrently (the connector keeps the limit).
  progress.phase('key exchange, certificate and vulnerabilities');
  const groupsTask = checks.cipherSuites ? scanGroups(context, legacy, tls13) : Promise.resolve(null);
  const heartbleedTask: Promise<HeartbleedResult | null> =
    bestLegacy !== undefined
      ? testHeartbleed(context, bestLegacy, legacySuites(bestLegacy).slice(0, MAX_SUITES_PER_HELLO))
      : Promise.resolve(null);
  const compressionTask =
    bestLegacy !== undefined && bestLegacy !== SSL3
      ? testCompression(context, bestLegacy, legacySuites(bestLegacy).slice(0, MAX_SUITES_PER_HELLO))
      : Promise.resolve('not_applicable' as const);
  const ccsTask =
    bestLegacy !== undefined && bestLegacy !== SSL3
      ? testCcsInjection(context, bestLegacy, legacySuites(bestLegacy).slice(0, MAX_SUITES_PER_HELLO))
      : Promise.resolve({ status: 'not_applicable' as const, detail: '' });
  const fallbackVersion = [TLS13, ...LEGACY_VERSIONS].filter((v) => supported(v))[1];
  const fallbackTask =
    fallbackVersion !== undefined && fallbackVersion !== TLS13
      ? testFallbackScsv(context, fallbackVersion, legacySuites(fallbackVersion).slice(0, MAX_SUITES_PER_HELLO))
      : Promise.resolve({ status: 'not_applicable' as const, detail: 'fewer than two protocol versions' });
  const renegotiationVersion = [TLS12, TLS11, TLS10].find((v) => supported(v));
  const additionalTask = checks.certificate
    ? additionalChains(context, legacy, tls13.supported, primaryChainTask)
    : Promise.resolve([]);

  const [groups, heartbleed, ccs, compression, fallback, firstChain, additional] = await Promise.all([
    groupsTask,
    heartbleedTask,
    ccsTask,
    compressionTask,
    fallbackTask,
    primaryChainTask,
    additionalTask,
  ]);
  // The first contact's hello may not have suited the server (exotic suites, an alert): ask again with what it accepts.
  let primary = firstChain;
  if (checks.certificate && (!primary || primary.chain.length === 0)) {
    if (tls13.supported) primary = await fetchTls13Chain(context);
    if ((!primary || primary.chain.length === 0) && bestLegacy !== undefined) {
      primary = await fetchLegacyChain(context, bestLegacy, legacySuites(bestLegacy).slice(0, MAX_SUITES_PER_HELLO));
    }
  }
  // Client-initiated renegotiation needs RFC 5746 on the server (OpenSSL refuses to renegotiate without it).
  const renegotiation =
    renegotiationVersion !== undefined && heartbleed?.renegotiationInfo === true
      ? await testClientRenegotiation(context, renegotiationVersion)
      : { status: 'not_applicable' as const, detail: '' };
  const hsts = await hstsTask;
  if (input.signal.aborted) throw new ScanAbortedError('TLS scan aborted');

  // 4. The result.
  const now = input.now?.() ?? new Date();
  const roots = input.roots ?? defaultRootStore();
  let certificateInfo: CertificateInfo | null = null;
  const sslv2Chain = sslv2?.certificate ? { chain: [sslv2.certificate], ocspResponse: null, version: SSL2 } : null;
  const chosen = primary && primary.chain.length > 0 ? primary : sslv2Chain;
  if (checks.certificate) {
    if (chosen) {
      const report = judge(chosen, input.hostname, now, roots, context);
      if (report) {
        const others = additional
          .filter((c) => c.chain[0] && !c.chain[0].equals(chosen.chain[0]!))
          .map((c) => {
            const extra = judge(c, input.hostname, now, roots, context);
            return extra ? { ...extra, protocol: protocolLabel(c.version), used_for: c.usedFor } : null;
          })
          .filter((c): c is NonNullable<typeof c> => c !== null)
          .slice(0, 5);
        certificateInfo = { ...report, protocol: protocolLabel(chosen.version), additional_certificates: others };
      }
    } else {
      context.note('certificate: the server sent no certificate that could be read');
    }
  }

  const cipherSuites = checks.cipherSuites
    ? {
        ssl_2_0: sslv2Suites(sslv2),
        ssl_3_0: versionSuites(legacy.get(SSL3)),
        tls_1_0: versionSuites(legacy.get(TLS10)),
        tls_1_1: versionSuites(legacy.get(TLS11)),
        tls_1_2: versionSuites(legacy.get(TLS12)),
        tls_1_3: versionSuites(tls13),
      }
    : null;

  const securityChecks: SecurityChecks = {
    heartbleed: heartbleed ? heartbleed.status : 'not_applicable',
    heartbeat_extension: heartbleed?.heartbeatExtension ?? null,
    ccs_injection: ccs.status,
    compression,
    secure_renegotiation: heartbleed?.renegotiationInfo ?? null,
    client_renegotiation: renegotiation.status,
    fallback_scsv: fallback.status,
    extended_master_secret: heartbleed?.extendedMasterSecret ?? null,
    ocsp_stapling: chosen && chosen.version !== SSL2 && checks.certificate ? chosen.ocspResponse !== null : null,
    hsts,
  };
  if (renegotiation.status === 'error' && renegotiation.detail) context.note(`renegotiation: ${renegotiation.detail}`);
  if (fallback.status === 'error') context.note(`TLS_FALLBACK_SCSV: ${fallback.detail}`);
  if (ccs.status === 'error') context.note(`CCS injection: ${ccs.detail}`);
  if (heartbleed?.status === 'error' && heartbleed.detail) context.note(`Heartbleed: ${heartbleed.detail}`);

  const allScans = [...legacy.values(), tls13];
  const result: TlsScanResult = {
    host: input.hostname,
    port: input.port,
    sni: serverName,
    checks: { certificate: checks.certificate, tls_versions: checks.versions, cipher_suites: checks.cipherSuites },
    tls_versions: checks.versions
      ? {
          ssl_2_0: supported(SSL2),
          ssl_3_0: supported(SSL3),
          tls_1_0: supported(TLS10),
          tls_1_1: supported(TLS11),
          tls_1_2: supported(TLS12),
          tls_1_3: supported(TLS13),
        }
      : null,
    certificate_info: certificateInfo,
    cipher_suites: cipherSuites,
    key_exchange: groups ? keyExchangeSummary(groups, allScans) : null,
    security_checks: securityChecks,
    vulnerabilities: [],
    scan_info: {
      engine: TLS_ENGINE,
      handshakes: connector.handshakes(),
      max_parallel_connections: connector.maxOpen(),
      duration_ms: Date.now() - started,
      incomplete: notes.size > 0 || allScans.some((s) => s.incomplete) || (groups?.incomplete ?? false),
      notes: [...notes],
    },
  };
  const findings = tlsFindings(result);
  const vulnerabilities = findings
    .filter((f) => f.risk !== 'info')
    .map((f) => ({ id: f.rule_id, name: f.name, risk: f.risk, ...(f.cve ? { cve: f.cve } : {}) }));
  progress.done();
  return { findings, result: fitResultToBudget({ ...result, vulnerabilities }) };
}

/** `scan_result` must stay well under 512 KiB (the worst case, every suite in every version, is ~375 KB). */
export const MAX_RESULT_BYTES = 300_000;

/**
 * A server accepting hundreds of suites in every version could push the result past
 * its budget: then the per-suite details (OpenSSL name, weaknesses, key exchange) go
 * first, then the chains' extra certificates; findings are built before and keep
 * everything.
 */
export function fitResultToBudget(result: TlsScanResult): TlsScanResult {
  if (JSON.stringify(result).length <= MAX_RESULT_BYTES) return result;
  const compact = (entry: VersionSuites): VersionSuites => ({
    ...entry,
    suites: entry.suites.map((s) => ({ ...s, openssl_name: null, weaknesses: [], key_exchange: null })),
  });
  const suites = result.cipher_suites;
  let trimmed: TlsScanResult = {
    ...result,
    cipher_suites: suites
      ? {
          ssl_2_0: compact(suites.ssl_2_0),
          ssl_3_0: compact(suites.ssl_3_0),
          tls_1_0: compact(suites.tls_1_0),
          tls_1_1: compact(suites.tls_1_1),
          tls_1_2: compact(suites.tls_1_2),
          tls_1_3: compact(suites.tls_1_3),
        }
      : null,
    scan_info: {
      ...result.scan_info,
      notes: [...result.scan_info.notes, 'result trimmed to its size budget: per-suite details left out'],
    },
  };
  if (JSON.stringify(trimmed).length > MAX_RESULT_BYTES && trimmed.certificate_info) {
    trimmed = {
      ...trimmed,
      certificate_info: {
        ...trimmed.certificate_info,
        chain: trimmed.certificate_info.chain.slice(0, 3),
        additional_certificates: [],
      },
    };
  }
  return trimmed;
}

async function firstContact(context: ProbeContext, label: string, timeoutMs: number): Promise<HelloOutcome> {
  const attempt = async (hello: Buffer): Promise<HelloOutcome> => {
    try {
      const outcome = await exchangeHello(context.connector, hello, 'server_hello');
      context.tick();
      return outcome;
    } catch (error) {
      if (error instanceof ConnectionFailure) {
        const code = error.kind === 'refused' ? 'connection_refused' : 'target_unreachable';
        throw new TargetUnreachableError(error.message, code);
      }
      throw error;
    }
  };
  const outcome = await attempt(universalHello(context).bytes);
  if (speaksAnything(outcome)) return outcome;
  if (outcome.kind === 'closed' && !outcome.partial) {
    // Version-intolerant or SSL-only servers hang up on a TLS 1.2+ hello: try what they might speak.
    for (const hello of [
      legacyHello(context, TLS10, LEGACY_OFFER.slice(0, MAX_SUITES_PER_HELLO)).bytes,
      legacyHello(context, SSL3, LEGACY_OFFER.slice(0, 100)).bytes,
      buildSslv2ClientHello(SSL2_CIPHER_SPECS.map((s) => s.id)),
    ]) {
      const next = await attempt(hello);
      if (speaksAnything(next)) return next;
      if (next.kind !== 'closed') return throwUnreachable(label, next, timeoutMs);
    }
  }
  return throwUnreachable(label, outcome, timeoutMs);
}

function throwUnreachable(label: string, outcome: HelloOutcome, timeoutMs: number): never {
  throw (
    unreachable(label, outcome, timeoutMs) ??
    new TargetUnreachableError(`${label} gave no usable TLS answer (${outcome.kind})`, 'not_tls')
  );
}

/** TLS 1.3: one hello with every TLS 1.3 suite first; per-suite probes only when it is accepted. */
async function scanTls13Quick(context: ProbeContext, firstVersion: number | null, firstOnly: boolean) {
  if (firstVersion !== TLS13) {
    const quick = await scanTls13(context, { firstOnly: true });
    if (!quick.supported || firstOnly) return quick;
  }
  return scanTls13(context, { firstOnly });
}

/** The chain a normal client gets: from the best protocol the first contact used. */
async function primaryChain(
  context: ProbeContext,
  first: HelloOutcome,
  version: number | null,
): Promise<ServedChain | null> {
  if (first.kind === 'sslv2') return null; // SSLv2's certificate comes with its scan
  if (version === TLS13) {
    const chain = await fetchTls13Chain(context);
    if (chain) return chain;
  }
  const legacyVersion = version !== null && version !== TLS13 ? version : TLS12;
  return fetchLegacyChain(context, legacyVersion, LEGACY_OFFER.slice(0, MAX_SUITES_PER_HELLO));
}

type AdditionalChain = ServedChain & { readonly usedFor: string };

/**
 * Other certificates the server presents: those seen in the suite scans (TLS 1.0-1.2
 * suites with other authentication), or, for TLS 1.3-only servers, with signature
 * schemes of another key type.
 */
async function additionalChains(
  context: ProbeContext,
  legacy: ReadonlyMap<number, VersionScan>,
  tls13Supported: boolean,
  primaryTask: Promise<ServedChain | null>,
): Promise<AdditionalChain[]> {
  const primary = await primaryTask;
  const primaryLeaf = primary?.chain[0];
  const found = new Map<string, AdditionalChain>();
  for (const scan of legacy.values()) {
    for (const { chain, suite } of scan.chains.values()) {
      const leaf = chain[0];
      if (!leaf || (primaryLeaf && leaf.equals(primaryLeaf))) continue;
      const key = leaf.toString('base64');
      if (!found.has(key)) {
        found.set(key, {
          chain,
          ocspResponse: null,
          version: scan.version,
          usedFor: `${suiteById(suite).authentication} suites`,
        });
      }
    }
  }
  const anyLegacy = [...legacy.values()].some((s) => s.supported);
  if (tls13Supported && !anyLegacy) {
    for (const [usedFor, schemes] of [
      ['RSA signatures', SIGNATURE_ALGORITHMS_RSA],
      ['ECDSA signatures', SIGNATURE_ALGORITHMS_ECDSA],
      ['EdDSA signatures', SIGNATURE_ALGORITHMS_EDDSA],
    ] as const) {
      const chain = await fetchTls13Chain(context, { signatureAlgorithms: schemes, statusRequest: false });
      const leaf = chain?.chain[0];
      if (!chain || !leaf || (primaryLeaf && leaf.equals(primaryLeaf))) continue;
      const key = leaf.toString('base64');
      if (!found.has(key)) found.set(key, { ...chain, usedFor });
    }
  }
  return [...found.values()];
}

function judge(
  served: ServedChain,
  hostname: string,
  now: Date,
  roots: RootStore,
  context: ProbeContext,
): CertificateReport | null {
  try {
    return analyzeCertificateChain(served.chain.slice(0, 10), {
      hostname: hostname,
      now,
      roots,
      ocspResponse: served.ocspResponse,
    });
  } catch (error) {
    context.note(`certificate: ${(error as Error).message}`);
    return null;
  }
}

interface GroupsFound {
  readonly tls12: GroupScan | null;
  readonly tls13: GroupScan | null;
  readonly incomplete: boolean;
}

async function scanGroups(
  context: ProbeContext,
  legacy: ReadonlyMap<number, VersionScan>,
  tls13: VersionScan,
): Promise<GroupsFound> {
  // ECDHE_RSA suites first: an ECDSA certificate ties the curves a client must offer (see scanLegacyCurves).
  const ecdhe = (version: number, auth: 'RSA' | 'ECDSA') =>
    (legacy.get(version)?.suites ?? [])
      .map((s) => s.id)
      .filter((id) => suiteById(id).name.startsWith(`TLS_ECDHE_${auth}_`));
  let ecdheVersion: number | undefined;
  let ecdheSuites: number[] = [];
  let certificateCurve: number | undefined;
  for (const auth of ['RSA', 'ECDSA'] as const) {
    ecdheVersion = [TLS12, TLS11, TLS10].find((version) => ecdhe(version, auth).length > 0);
    if (ecdheVersion === undefined) continue;
    ecdheSuites = ecdhe(ecdheVersion, auth);
    if (auth === 'ECDSA') certificateCurve = ecdsaCurveOf(legacy.get(ecdheVersion));
    break;
  }
  const [tls12Groups, tls13Groups] = await Promise.all([
    ecdheVersion !== undefined
      ? scanLegacyCurves(context, ecdheVersion, ecdheSuites, certificateCurve)
      : Promise.resolve(null),
    tls13.supported
      ? scanTls13Groups(
          context,
          tls13.suites.map((s) => s.id),
        )
      : Promise.resolve(null),
  ]);
  return {
    tls12: tls12Groups,
    tls13: tls13Groups,
    incomplete: (tls12Groups?.incomplete ?? false) || (tls13Groups?.incomplete ?? false),
  };
}

const CURVE_GROUPS: Readonly<Record<string, number>> = { prime256v1: 23, secp384r1: 24, secp521r1: 25 };

/** The named group of the ECDSA certificate seen in a version's ECDSA suites. */
function ecdsaCurveOf(scan: VersionScan | undefined): number | undefined {
  for (const { chain, suite } of scan?.chains.values() ?? []) {
    if (!suiteById(suite).name.startsWith('TLS_ECDHE_ECDSA_') || !chain[0]) continue;
    try {
      const curve = parseCertificate(chain[0]).publicKey.curve;
      if (curve && CURVE_GROUPS[curve] !== undefined) return CURVE_GROUPS[curve];
    } catch {
      /* unreadable certificate: no hint */
    }
  }
  return undefined;
}

function keyExchangeSummary(groups: GroupsFound, scans: readonly VersionScan[]): TlsScanResult['key_exchange'] {
  const entry = (id: number) => {
    const group = groupById(id);
    return { id, name: group.name, bits: group.bits };
  };
  const seen = scans.flatMap((s) => s.suites.map((suite) => suite.keyExchange)).filter((k) => k !== null);
  const dh = seen.filter((k) => k.type === 'DH' && k.bits > 0).map((k) => k.bits);
  const ecdh = [
    ...seen.filter((k) => k.type === 'ECDH' && k.bits > 0).map((k) => k.bits),
    ...(groups.tls12?.groups ?? []).map((id) => groupKeyBits(groupById(id).name)).filter((b) => b > 0),
  ];
  return {
    tls_1_2_curves: (groups.tls12?.groups ?? []).map(entry),
    tls_1_3_groups: (groups.tls13?.groups ?? []).map(entry),
    min_dh_bits: dh.length > 0 ? Math.min(...dh) : null,
    min_ecdh_bits: ecdh.length > 0 ? Math.min(...ecdh) : null,
    incomplete: groups.incomplete,
  };
}
