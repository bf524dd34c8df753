/**
 * Certificates and OCSP responses read from DER, against what `openssl x509` printed
 * for the same files (fixtures/*.x509.txt, captured with them), and the judgement of
 * chains (trust path, name, validity, weaknesses) at fixed times.
 */
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DerError, parseDer } from '../../../scanners/tls/der.parser.js';
import { analyzeCertificateChain, rootStoreOf } from '../../../scanners/tls/certificateAnalysis.js';
import { formatName, parseCertificate, parseOcspResponse } from '../../../scanners/tls/certificate.parser.js';

const fixtures = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');
const read = (name: string) => readFileSync(join(fixtures, name), 'utf8');
const derOf = (name: string) => new X509Certificate(read(name)).raw;

/** The facts in `openssl x509 -subject -issuer -serial -dates -nameopt RFC2253 -fingerprint -sha256 -ext subjectAltName -text`. */
function opensslSays(name: string) {
  const text = read(name.replace('.pem', '.x509.txt'));
  const field = (key: string) => new RegExp(`^${key}=(.*)$`, 'm').exec(text)?.[1]?.trim() ?? '';
  const san = /X509v3 Subject Alternative Name:[^\n]*\n\s*([^\n]+)/.exec(text)?.[1]?.trim();
  return {
    subject: field('subject'),
    issuer: field('issuer'),
    serial: field('serial'),
    notBefore: new Date(field('notBefore')).toISOString(),
    notAfter: new Date(field('notAfter')).toISOString(),
    sha256: field('sha256 Fingerprint').replace(/:/g, ''),
    signatureAlgorithm: /Signature Algorithm: (\S+)/.exec(text)?.[1],
    keyBits: Number(/Public-Key: \((\d+) bit\)/.exec(text)?.[1]),
    curve: /NIST CURVE: (\S+)/.exec(text)?.[1],
    subjectAltNames: san ? san.split(', ') : [],
    isCa: /CA:TRUE/.test(text),
  };
}

describe('parseCertificate equals openssl x509', () => {
  for (const name of ['legacy.pem', 'modern-leaf.pem', 'modern-intermediate.pem', 'modern-root.pem', 'gnutls.pem']) {
    it(name, () => {
      const ours = parseCertificate(derOf(name));
      const theirs = opensslSays(name);
      expect(formatName(ours.subject)).toBe(theirs.subject);
      expect(formatName(ours.issuer)).toBe(theirs.issuer);
      expect(ours.serialNumber).toBe(theirs.serial);
      expect(ours.notBefore.toISOString()).toBe(theirs.notBefore);
      expect(ours.notAfter.toISOString()).toBe(theirs.notAfter);
      expect(ours.sha256Fingerprint).toBe(theirs.sha256);
      expect(ours.signatureAlgorithm).toBe(theirs.signatureAlgorithm);
      expect(ours.publicKey.bits).toBe(theirs.keyBits);
      expect(ours.subjectAltNames).toEqual(theirs.subjectAltNames);
      expect(ours.isCa).toBe(theirs.isCa);
      if (theirs.curve === 'P-256') expect(ours.publicKey.curve).toBe('prime256v1');
    });
  }

  it('reads the legacy certificate: RSA-1024, SHA-1, January 2020', () => {
    const legacy = parseCertificate(derOf('legacy.pem'));
    expect(legacy).toMatchObject({
      version: 3,
      signatureAlgorithm: 'sha1WithRSAEncryption',
      signatureHash: 'sha1',
      publicKey: { type: 'RSA', bits: 1024 },
      subjectAltNames: ['DNS:wrong.example', 'DNS:www.wrong.example'],
      mustStaple: false,
    });
  });

  it('reads the leaf’s OCSP responder URL', () => {
    expect(parseCertificate(derOf('modern-leaf.pem')).ocspUrls).toEqual(['http://ocsp.test.invalid/']);
  });

  it('refuses truncated or trailing DER', () => {
    const der = derOf('modern-leaf.pem');
    expect(() => parseCertificate(der.subarray(0, der.length - 10))).toThrow(DerError);
    expect(() => parseDer(Buffer.concat([der, Buffer.from([0])]))).toThrow(DerError);
    expect(() => parseDer(Buffer.from([0x30, 0x84, 0xff, 0xff, 0xff, 0xff]))).toThrow(DerError);
  });
});

describe('formatName (RFC 4514, as openssl -nameopt RFC2253)', () => {
  it('escapes what must be escaped and lists the most specific name first', () => {
    const attr = (type: string, value: string) => ({ oid: '', type, value });
    expect(
      formatName([
        [attr('C', 'US')],
        [attr('O', 'Acme, Inc.')],
        [attr('OU', '#hash'), attr('OU', ' padded ')],
        [attr('CN', 'a+b=c;"<>\\')],
      ]),
    ).toBe('CN=a\\+b\\=c\\;\\"\\<\\>\\\\,OU=\\#hash+OU=\\ padded\\ ,O=Acme\\, Inc.,C=US');
  });
});

describe('OCSP response', () => {
  it('reads a good response and its validity window', () => {
    const ocsp = parseOcspResponse(readFileSync(join(fixtures, 'modern-ocsp.der')));
    expect(ocsp).toMatchObject({ responseStatus: 'successful', certStatus: 'good' });
    expect(ocsp.nextUpdate!.getTime() - ocsp.thisUpdate!.getTime()).toBe(7 * 86_400_000);
  });

  it('reads an error response (no body)', () => {
    expect(parseOcspResponse(Buffer.from('30030a0103', 'hex'))).toEqual({ responseStatus: 'tryLater' });
  });
});

describe('analyzeCertificateChain', () => {
  const leaf = derOf('modern-leaf.pem');
  const intermediate = derOf('modern-intermediate.pem');
  const root = derOf('modern-root.pem');
  const roots = rootStoreOf([read('modern-root.pem')]);
  const leafFacts = parseCertificate(leaf);
  const midLife = new Date((leafFacts.notBefore.getTime() + leafFacts.notAfter.getTime()) / 2);
  const ocsp = readFileSync(join(fixtures, 'modern-ocsp.der'));

  it('a complete chain to a trusted root: valid, with the trust path and a good staple', () => {
    const report = analyzeCertificateChain([leaf, intermediate], {
      hostname: 'localhost',
      now: midLife,
      roots,
      ocspResponse: ocsp,
    });
    expect(report).toMatchObject({
      valid: true,
      trusted: true,
      trust_error: null,
      hostname_matches: true,
      chain_order_ok: true,
      self_signed: false,
      expired: false,
      sha1_signed: [],
      weak_keys: [],
    });
    expect(report.trust_path).toEqual([
      'CN=localhost',
      'CN=Secably Test Intermediate,O=Secably Test',
      'CN=Secably Test Root,O=Secably Test',
    ]);
    expect(report.ocsp).toMatchObject({ stapled: true, cert_status: 'good' });
  });

  it('matches IP subject alternative names and refuses other names', () => {
    expect(
      analyzeCertificateChain([leaf, intermediate], { hostname: '127.0.0.1', now: midLife, roots }).hostname_matches,
    ).toBe(true);
    const other = analyzeCertificateChain([leaf, intermediate], { hostname: 'other.example', now: midLife, roots });
    expect(other).toMatchObject({ hostname_matches: false, valid: false, trusted: true });
  });

  it('notices an out-of-order chain, a missing intermediate and an unknown root', () => {
    expect(
      analyzeCertificateChain([leaf, root, intermediate], { hostname: 'localhost', now: midLife, roots }),
    ).toMatchObject({
      trusted: true,
      chain_order_ok: false,
    });
    expect(analyzeCertificateChain([leaf], { hostname: 'localhost', now: midLife, roots })).toMatchObject({
      trusted: false,
      trust_error: 'unknown_issuer',
    });
    expect(analyzeCertificateChain([leaf, intermediate], { hostname: 'localhost', now: midLife })).toMatchObject({
      trusted: false,
      trust_error: 'unknown_issuer',
    });
    expect(
      analyzeCertificateChain([leaf, intermediate, root], {
        hostname: 'localhost',
        now: midLife,
        roots: rootStoreOf([]),
      }),
    ).toMatchObject({ trusted: false, trust_error: 'untrusted_root' });
    const served = analyzeCertificateChain([leaf, intermediate, root], { hostname: 'localhost', now: midLife, roots });
    expect(served.chain.map((c) => c.trust_anchor)).toEqual([false, false, true]);
  });

  it('an issuer out of its validity breaks the chain; a stale staple is noticed', () => {
    const later = new Date(parseCertificate(intermediate).notAfter.getTime() + 86_400_000);
    const report = analyzeCertificateChain([leaf, intermediate], {
      hostname: 'localhost',
      now: later,
      roots,
      ocspResponse: ocsp,
    });
    expect(report).toMatchObject({ expired: true, trusted: false, trust_error: 'expired_in_chain' });
    expect(report.ocsp.error).toMatch(/out of date/);
  });

  it('the legacy certificate: self-signed, wrong name, weak, SHA-1; expired, expiring or not yet valid by date', () => {
    const legacy = derOf('legacy.pem');
    const now = new Date('2026-06-01T00:00:00Z');
    expect(analyzeCertificateChain([legacy], { hostname: 'localhost', now })).toMatchObject({
      valid: false,
      expired: true,
      self_signed: true,
      trust_error: 'self_signed',
      hostname_matches: false,
      weak_keys: ['CN=wrong.example'],
      sha1_signed: ['CN=wrong.example'],
      key_bits: 1024,
    });
    expect(
      analyzeCertificateChain([legacy], { hostname: 'www.wrong.example', now: new Date('2020-01-20T00:00:00Z') }),
    ).toMatchObject({
      expired: false,
      expires_soon: true,
      days_until_expiry: 12,
      hostname_matches: true,
    });
    expect(
      analyzeCertificateChain([legacy], { hostname: 'wrong.example', now: new Date('2019-12-01T00:00:00Z') }),
    ).toMatchObject({
      not_yet_valid: true,
      expires_soon: false,
    });
  });

  it('a chain with no certificate is an error', () => {
    expect(() => analyzeCertificateChain([], { hostname: 'x', now: midLife })).toThrow(/no certificate/);
  });
});
