/**
 * Judges a certificate chain as served: the path to a trusted root (Node's bundled
 * Mozilla store, `tls.rootCertificates`, or roots the caller gives), the name match
 * against the target, validity now, key strength and signature digests, the order
 * of the chain and a stapled OCSP response. `now` comes in: the judgement is pure
 * given the chain, the roots and the time.
 */
import { X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import { rootCertificates } from 'node:tls';
import {
  commonNameOf,
  formatName,
  parseCertificate,
  parseOcspResponse,
  type OcspStatus,
  type ParsedCertificate,
} from './certificate.parser.js';

export const EXPIRY_WARNING_DAYS = 30;

export interface RootStore {
  /** Roots by the DER of their subject name. */
  readonly bySubject: ReadonlyMap<string, readonly X509Certificate[]>;
  readonly fingerprints: ReadonlySet<string>;
}

export function rootStoreOf(pems: readonly string[]): RootStore {
  const bySubject = new Map<string, X509Certificate[]>();
  const fingerprints = new Set<string>();
  for (const pem of pems) {
    let certificate: X509Certificate;
    try {
      certificate = new X509Certificate(pem);
    } catch {
      continue;
    }
    fingerprints.add(certificate.fingerprint256.replace(/:/g, ''));
    const key = certificate.subject;
    bySubject.set(key, [...(bySubject.get(key) ?? []), certificate]);
  }
  return { bySubject, fingerprints };
}

let defaultRoots: RootStore | undefined;
/** Node's bundled root store (loaded once). */
export function defaultRootStore(): RootStore {
  defaultRoots ??= rootStoreOf(rootCertificates);
  return defaultRoots;
}

export type TrustError =
  'self_signed' | 'untrusted_root' | 'unknown_issuer' | 'expired_in_chain' | 'bad_signature' | 'unparseable' | null;

export interface ChainEntry {
  readonly subject: string;
  readonly issuer: string;
  readonly serial_number: string;
  readonly not_before: string;
  readonly not_after: string;
  readonly signature_algorithm: string;
  readonly key_type: string;
  readonly key_bits: number;
  readonly key_curve: string | null;
  readonly fingerprint_sha256: string;
  readonly is_ca: boolean;
  readonly self_signed: boolean;
  /** The served certificate is itself in the root store. */
  readonly trust_anchor: boolean;
}

export interface OcspInfo {
  readonly stapled: boolean;
  readonly must_staple: boolean;
  readonly response_status: string | null;
  readonly cert_status: 'good' | 'revoked' | 'unknown' | null;
  readonly this_update: string | null;
  readonly next_update: string | null;
  readonly error: string | null;
}

export interface CertificateReport {
  /** Trusted, in date and matching the target's name. */
  readonly valid: boolean;
  readonly subject: string;
  readonly issuer: string;
  readonly common_name: string | null;
  /** notAfter (ISO 8601). */
  readonly expires: string;
  readonly not_before: string;
  readonly not_after: string;
  readonly days_until_expiry: number;
  readonly expired: boolean;
  readonly not_yet_valid: boolean;
  readonly expires_soon: boolean;
  readonly subject_alt_names: string[];
  readonly hostname: string;
  readonly hostname_matches: boolean;
  readonly serial_number: string;
  /** Bits in the serial number (public CAs must use at least 64 random bits). */
  readonly serial_bits: number;
  readonly fingerprint_sha256: string;
  readonly fingerprint_sha1: string;
  readonly signature_algorithm: string;
  readonly signature_hash: string;
  readonly key_type: string;
  readonly key_bits: number;
  readonly key_curve: string | null;
  readonly trusted: boolean;
  readonly self_signed: boolean;
  readonly trust_error: TrustError;
  /** The subjects of the path to the trust anchor (leaf first), as built. */
  readonly trust_path: string[];
  /** The served chain: each certificate issued by the next one, nothing extra. */
  readonly chain_order_ok: boolean;
  readonly chain: ChainEntry[];
  /** Served certificates (not trust anchors) whose signature uses SHA-1 / MD5 (or older): subjects. */
  readonly sha1_signed: string[];
  readonly md5_signed: string[];
  /** Served certificates (not trust anchors) with a key below 2048 bits (RSA/DSA) or 224 bits (EC). */
  readonly weak_keys: string[];
  readonly certificate_transparency: boolean;
  readonly ocsp_urls: string[];
  readonly crl_urls: string[];
  readonly ocsp: OcspInfo;
}

const DAY_MS = 86_400_000;

function isSelfSigned(certificate: X509Certificate): boolean {
  try {
    return certificate.checkIssued(certificate) && certificate.verify(certificate.publicKey);
  } catch {
    return false;
  }
}

function issues(child: X509Certificate, issuer: X509Certificate): boolean {
  try {
    return child.checkIssued(issuer) && child.verify(issuer.publicKey);
  } catch {
    return false;
  }
}

function weakKey(parsed: ParsedCertificate): boolean {
  const { type, bits } = parsed.publicKey;
  if (type === 'RSA' || type === 'RSA-PSS' || type === 'DSA') return bits > 0 && bits < 2048;
  if (type === 'EC') return bits > 0 && bits < 224;
  return false;
}

function matchesHost(certificate: X509Certificate, hostname: string): boolean {
  try {
    if (isIP(hostname) !== 0) return certificate.checkIP(hostname) !== undefined;
    return certificate.checkHost(hostname.replace(/\.$/, ''), { partialWildcards: false }) !== undefined;
  } catch {
    return false;
  }
}

function ocspInfo(leaf: ParsedCertificate, staple: Buffer | null | undefined, now: Date): OcspInfo {
  const base = {
    stapled: Boolean(staple),
    must_staple: leaf.mustStaple,
    response_status: null,
    cert_status: null,
    this_update: null,
    next_update: null,
    error: null,
  };
  if (!staple) return base;
  let status: OcspStatus;
  try {
    status = parseOcspResponse(staple);
  } catch (error) {
    return { ...base, error: `unreadable OCSP response: ${(error as Error).message}` };
  }
  const expired = status.nextUpdate !== undefined && status.nextUpdate.getTime() < now.getTime();
  return {
    ...base,
    response_status: status.responseStatus,
    cert_status: status.certStatus ?? null,
    this_update: status.thisUpdate?.toISOString() ?? null,
    next_update: status.nextUpdate?.toISOString() ?? null,
    error: expired ? 'the stapled OCSP response is out of date (nextUpdate has passed)' : null,
  };
}

/**
 * The report on a served chain (leaf first, as received). Throws when the leaf
 * itself cannot be read.
 */
export function analyzeCertificateChain(
  served: readonly Buffer[],
  options: { hostname: string; now: Date; roots?: RootStore; ocspResponse?: Buffer | null },
): CertificateReport {
  const roots = options.roots ?? defaultRootStore();
  const now = options.now.getTime();
  const leafDer = served[0];
  if (!leafDer) throw new Error('the server sent no certificate');
  const parsed = served.map((der) => {
    try {
      return parseCertificate(der);
    } catch {
      return null;
    }
  });
  const x509 = served.map((der) => {
    try {
      return new X509Certificate(der);
    } catch {
      return null;
    }
  });
  const leaf = parsed[0] ?? parseCertificate(leafDer); // rethrows the leaf's error
  const leafX509 = x509[0] ?? new X509Certificate(leafDer);

  const anchors = served.map((_, i) => {
    const fp = parsed[i]?.sha256Fingerprint;
    return fp !== undefined && roots.fingerprints.has(fp);
  });

  // Path building: served certificates first, then the roots.
  const path: X509Certificate[] = [leafX509];
  const pathParsed: (ParsedCertificate | null)[] = [leaf];
  let trustError: TrustError = null;
  let trusted = false;
  const used = new Set<number>([0]);
  let current = leafX509;
  let currentIsAnchor = anchors[0] ?? false;
  for (let depth = 0; depth < 10; depth++) {
    if (currentIsAnchor) {
      trusted = true;
      break;
    }
    let next: { certificate: X509Certificate; parsed: ParsedCertificate | null; anchor: boolean } | null = null;
    for (let i = 1; i < served.length && !next; i++) {
      const candidate = x509[i];
      if (!used.has(i) && candidate && issues(current, candidate)) {
        used.add(i);
        next = { certificate: candidate, parsed: parsed[i] ?? null, anchor: anchors[i] ?? false };
      }
    }
    if (!next) {
      for (const root of roots.bySubject.get(current.issuer) ?? []) {
        if (issues(current, root)) {
          next = { certificate: root, parsed: null, anchor: true };
          break;
        }
      }
    }
    if (!next) {
      if (isSelfSigned(current)) trustError = path.length === 1 ? 'self_signed' : 'untrusted_root';
      else trustError = 'unknown_issuer';
      break;
    }
    path.push(next.certificate);
    pathParsed.push(next.parsed);
    current = next.certificate;
    currentIsAnchor = next.anchor;
  }
  if (!trusted && trustError === null) trustError = 'unknown_issuer';
  if (trusted) {
    // The issuers on the path must be in date (the leaf's own dates are judged on their own).
    const outOfDate = path.slice(1).some((c) => {
      const from = new Date(c.validFrom).getTime();
      const to = new Date(c.validTo).getTime();
      return !(from <= now && now <= to);
    });
    if (outOfDate) {
      trusted = false;
      trustError = 'expired_in_chain';
    }
  }

  const chain: ChainEntry[] = served.map((der, i) => {
    const p = parsed[i];
    const c = x509[i];
    if (!p) {
      return {
        subject: '(unparseable)',
        issuer: '',
        serial_number: '',
        not_before: '',
        not_after: '',
        signature_algorithm: '',
        key_type: '',
        key_bits: 0,
        key_curve: null,
        fingerprint_sha256: '',
        is_ca: false,
        self_signed: false,
        trust_anchor: false,
      };
    }
    return {
      subject: formatName(p.subject),
      issuer: formatName(p.issuer),
      serial_number: p.serialNumber,
      not_before: p.notBefore.toISOString(),
      not_after: p.notAfter.toISOString(),
      signature_algorithm: p.signatureAlgorithm,
      key_type: p.publicKey.type,
      key_bits: p.publicKey.bits,
      key_curve: p.publicKey.curve ?? null,
      fingerprint_sha256: p.sha256Fingerprint,
      is_ca: p.isCa,
      self_signed: c ? isSelfSigned(c) : false,
      trust_anchor: anchors[i] ?? false,
      ...(der.length === 0 ? { subject: '(empty)' } : {}),
    };
  });

  let orderOk = true;
  for (let i = 0; i + 1 < served.length; i++) {
    const child = x509[i];
    const parent = x509[i + 1];
    if (!child || !parent || !issues(child, parent)) orderOk = false;
  }

  // Weak signatures and keys on what the server sent, trust anchors aside (their self-signature is not checked).
  const judged = served.map((_, i) => i).filter((i) => !(anchors[i] ?? false) && parsed[i]);
  const sha1Signed = judged.filter((i) => parsed[i]!.signatureHash === 'sha1').map((i) => chain[i]!.subject);
  const md5Signed = judged
    .filter((i) => ['md5', 'md4', 'md2'].includes(parsed[i]!.signatureHash))
    .map((i) => chain[i]!.subject);
  const weakKeys = judged.filter((i) => weakKey(parsed[i]!)).map((i) => chain[i]!.subject);

  const notBefore = leaf.notBefore.getTime();
  const notAfter = leaf.notAfter.getTime();
  const expired = notAfter < now;
  const notYetValid = notBefore > now;
  const daysUntilExpiry = Math.floor((notAfter - now) / DAY_MS);
  const expiresSoon = !expired && notAfter - now <= EXPIRY_WARNING_DAYS * DAY_MS;
  const hostnameMatches = matchesHost(leafX509, options.hostname);
  const selfSigned = chain[0]?.self_signed ?? false;

  return {
    valid: trusted && !expired && !notYetValid && hostnameMatches,
    subject: formatName(leaf.subject),
    issuer: formatName(leaf.issuer),
    common_name: commonNameOf(leaf.subject),
    expires: leaf.notAfter.toISOString(),
    not_before: leaf.notBefore.toISOString(),
    not_after: leaf.notAfter.toISOString(),
    days_until_expiry: daysUntilExpiry,
    expired,
    not_yet_valid: notYetValid,
    expires_soon: expiresSoon,
    subject_alt_names: [...leaf.subjectAltNames],
    hostname: options.hostname,
    hostname_matches: hostnameMatches,
    serial_number: leaf.serialNumber,
    serial_bits: leaf.serialBits,
    fingerprint_sha256: leaf.sha256Fingerprint,
    fingerprint_sha1: leaf.sha1Fingerprint,
    signature_algorithm: leaf.signatureAlgorithm,
    signature_hash: leaf.signatureHash,
    key_type: leaf.publicKey.type,
    key_bits: leaf.publicKey.bits,
    key_curve: leaf.publicKey.curve ?? null,
    trusted,
    self_signed: selfSigned,
    trust_error: trusted ? null : trustError,
    trust_path: path.map((c, i) => {
      const p = pathParsed[i];
      return p ? formatName(p.subject) : c.subject.split('\n').reverse().join(',');
    }),
    chain_order_ok: orderOk,
    chain,
    sha1_signed: sha1Signed,
    md5_signed: md5Signed,
    weak_keys: weakKeys,
    certificate_transparency: leaf.embeddedScts,
    ocsp_urls: [...leaf.ocspUrls],
    crl_urls: [...leaf.crlUrls],
    ocsp: ocspInfo(leaf, options.ocspResponse, options.now),
  };
}
