/**
 * X.509 certificates (RFC 5280) and OCSP responses (RFC 6960) read from DER: the
 * facts the TLS scanner reports and judges (names, validity, key, signature
 * algorithm, SANs, CA flag, OCSP/CA URLs, must-staple, SCTs). Pure; the key size
 * comes from Node's own key parser.
 */
import { createHash, createPublicKey } from 'node:crypto';
import {
  booleanOf,
  childrenOf,
  DerError,
  expectTag,
  integerHex,
  oidOf,
  parseDer,
  stringOf,
  Tag,
  timeOf,
  type DerElement,
} from './der.parser.js';

export interface NameAttribute {
  readonly oid: string;
  /** Short name as OpenSSL prints it ('CN', 'O', 'emailAddress'), or the dotted OID. */
  readonly type: string;
  readonly value: string;
}

export interface ParsedCertificate {
  readonly der: Buffer;
  readonly version: number;
  /** Upper-case hex, no leading zero octets (OpenSSL's `-serial` form). */
  readonly serialNumber: string;
  /** OpenSSL's name ('sha256WithRSAEncryption', 'ecdsa-with-SHA256', 'rsassaPss', 'ED25519') or the OID. */
  readonly signatureAlgorithm: string;
  /** The digest the signature uses ('sha1', 'sha256', 'md5', … ; 'intrinsic' for EdDSA). */
  readonly signatureHash: string;
  /** Relative distinguished names in certificate order (most significant first); multi-valued RDNs flattened. */
  readonly issuer: readonly NameAttribute[][];
  readonly subject: readonly NameAttribute[][];
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly publicKey: PublicKeyInfo;
  readonly subjectAltNames: readonly string[];
  /** basicConstraints cA. */
  readonly isCa: boolean;
  readonly ocspUrls: readonly string[];
  readonly caIssuerUrls: readonly string[];
  /** CRL distribution point URLs. */
  readonly crlUrls: readonly string[];
  /** Bits in the serial number (CA/Browser Forum: at least 64 bits of randomness). */
  readonly serialBits: number;
  /** TLS feature extension asks for a stapled OCSP response (OCSP Must-Staple). */
  readonly mustStaple: boolean;
  /** Embedded signed certificate timestamps (Certificate Transparency). */
  readonly embeddedScts: boolean;
  readonly sha256Fingerprint: string;
  readonly sha1Fingerprint: string;
}

export interface PublicKeyInfo {
  /** 'RSA', 'EC', 'DSA', 'Ed25519', 'Ed448', 'RSA-PSS', or the OID. */
  readonly type: string;
  readonly bits: number;
  /** EC curve ('prime256v1', 'secp384r1', …). */
  readonly curve?: string;
}

const NAME_TYPES: Readonly<Record<string, string>> = {
  '2.5.4.3': 'CN',
  '2.5.4.4': 'SN',
  '2.5.4.5': 'serialNumber',
  '2.5.4.6': 'C',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '2.5.4.9': 'street',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
  '2.5.4.12': 'title',
  '2.5.4.15': 'businessCategory',
  '2.5.4.17': 'postalCode',
  '2.5.4.42': 'GN',
  '2.5.4.43': 'initials',
  '2.5.4.46': 'dnQualifier',
  '2.5.4.65': 'pseudonym',
  '2.5.4.97': 'organizationIdentifier',
  '1.2.840.113549.1.9.1': 'emailAddress',
  '0.9.2342.19200300.100.1.25': 'DC',
  '0.9.2342.19200300.100.1.1': 'UID',
  '1.3.6.1.4.1.311.60.2.1.1': 'jurisdictionL',
  '1.3.6.1.4.1.311.60.2.1.2': 'jurisdictionST',
  '1.3.6.1.4.1.311.60.2.1.3': 'jurisdictionC',
};

const SIGNATURE_ALGORITHMS: Readonly<Record<string, { name: string; hash: string }>> = {
  '1.2.840.113549.1.1.2': { name: 'md2WithRSAEncryption', hash: 'md2' },
  '1.2.840.113549.1.1.3': { name: 'md4WithRSAEncryption', hash: 'md4' },
  '1.2.840.113549.1.1.4': { name: 'md5WithRSAEncryption', hash: 'md5' },
  '1.2.840.113549.1.1.5': { name: 'sha1WithRSAEncryption', hash: 'sha1' },
  '1.3.14.3.2.29': { name: 'sha1WithRSA', hash: 'sha1' },
  '1.2.840.113549.1.1.11': { name: 'sha256WithRSAEncryption', hash: 'sha256' },
  '1.2.840.113549.1.1.12': { name: 'sha384WithRSAEncryption', hash: 'sha384' },
  '1.2.840.113549.1.1.13': { name: 'sha512WithRSAEncryption', hash: 'sha512' },
  '1.2.840.113549.1.1.14': { name: 'sha224WithRSAEncryption', hash: 'sha224' },
  '1.2.840.113549.1.1.10': { name: 'rsassaPss', hash: 'sha1' },
  '1.2.840.10045.4.1': { name: 'ecdsa-with-SHA1', hash: 'sha1' },
  '1.2.840.10045.4.3.1': { name: 'ecdsa-with-SHA224', hash: 'sha224' },
  '1.2.840.10045.4.3.2': { name: 'ecdsa-with-SHA256', hash: 'sha256' },
  '1.2.840.10045.4.3.3': { name: 'ecdsa-with-SHA384', hash: 'sha384' },
  '1.2.840.10045.4.3.4': { name: 'ecdsa-with-SHA512', hash: 'sha512' },
  '1.2.840.10040.4.3': { name: 'dsaWithSHA1', hash: 'sha1' },
  '2.16.840.1.101.3.4.3.1': { name: 'dsa_with_SHA224', hash: 'sha224' },
  '2.16.840.1.101.3.4.3.2': { name: 'dsa_with_SHA256', hash: 'sha256' },
  '1.3.101.112': { name: 'ED25519', hash: 'intrinsic' },
  '1.3.101.113': { name: 'ED448', hash: 'intrinsic' },
};

const DIGESTS: Readonly<Record<string, string>> = {
  '1.3.14.3.2.26': 'sha1',
  '2.16.840.1.101.3.4.2.1': 'sha256',
  '2.16.840.1.101.3.4.2.2': 'sha384',
  '2.16.840.1.101.3.4.2.3': 'sha512',
  '2.16.840.1.101.3.4.2.4': 'sha224',
};

const KEY_TYPES: Readonly<Record<string, string>> = {
  '1.2.840.113549.1.1.1': 'RSA',
  '1.2.840.113549.1.1.10': 'RSA-PSS',
  '1.2.840.10045.2.1': 'EC',
  '1.2.840.10040.4.1': 'DSA',
  '1.3.101.110': 'X25519',
  '1.3.101.111': 'X448',
  '1.3.101.112': 'Ed25519',
  '1.3.101.113': 'Ed448',
};

const CURVES: Readonly<Record<string, { name: string; bits: number }>> = {
  '1.2.840.10045.3.1.7': { name: 'prime256v1', bits: 256 },
  '1.3.132.0.34': { name: 'secp384r1', bits: 384 },
  '1.3.132.0.35': { name: 'secp521r1', bits: 521 },
  '1.3.132.0.33': { name: 'secp224r1', bits: 224 },
  '1.2.840.10045.3.1.1': { name: 'prime192v1', bits: 192 },
  '1.3.132.0.10': { name: 'secp256k1', bits: 256 },
  '1.3.36.3.3.2.8.1.1.7': { name: 'brainpoolP256r1', bits: 256 },
  '1.3.36.3.3.2.8.1.1.11': { name: 'brainpoolP384r1', bits: 384 },
  '1.3.36.3.3.2.8.1.1.13': { name: 'brainpoolP512r1', bits: 512 },
};

function nameOf(element: DerElement): NameAttribute[][] {
  expectTag(element, Tag.sequence, 'Name');
  return childrenOf(element).map((rdn) => {
    expectTag(rdn, Tag.set, 'RelativeDistinguishedName');
    return childrenOf(rdn).map((pair) => {
      const [type, value] = childrenOf(expectTag(pair, Tag.sequence, 'AttributeTypeAndValue'));
      const oid = oidOf(expectTag(type, Tag.oid, 'attribute type'));
      if (!value) throw new DerError('attribute without a value');
      let text: string;
      try {
        text = stringOf(value);
      } catch {
        text = `#${value.raw.toString('hex')}`;
      }
      return { oid, type: NAME_TYPES[oid] ?? oid, value: text };
    });
  });
}

/** RFC 4514 escaping of one attribute value. */
function escapeValue(value: string): string {
  if (value.startsWith('#') && /^#[0-9a-f]+$/.test(value)) return value; // unknown-type value in hex form
  let escaped = value.replace(/[\\,+"<>;=]/g, (c) => `\\${c}`);
  escaped = escaped.replace(/\0/g, '\\00');
  if (/^[ #]/.test(escaped)) escaped = `\\${escaped}`;
  if (/ $/.test(escaped)) escaped = `${escaped.slice(0, -1)}\\ `;
  return escaped;
}

/** A name as RFC 4514 text (least significant RDN first), as `openssl x509 -nameopt RFC2253` prints it. */
export function formatName(name: readonly NameAttribute[][]): string {
  return [...name]
    .reverse()
    .map((rdn) => rdn.map((attribute) => `${attribute.type}=${escapeValue(attribute.value)}`).join('+'))
    .join(',');
}

/** The last (most specific) common name, or null. */
export function commonNameOf(name: readonly NameAttribute[][]): string | null {
  const names = name.flat().filter((attribute) => attribute.oid === '2.5.4.3');
  return names.length > 0 ? names[names.length - 1]!.value : null;
}

function formatIp(bytes: Buffer): string {
  if (bytes.length === 4) return [...bytes].join('.');
  if (bytes.length === 16) {
    // OpenSSL prints every group in full: 0:0:0:0:0:0:0:1 → "0:0:0:0:0:0:0:1"
    const groups: string[] = [];
    for (let i = 0; i < 16; i += 2) groups.push(bytes.readUInt16BE(i).toString(16).toUpperCase());
    return groups.join(':');
  }
  return `#${bytes.toString('hex')}`;
}

/** GeneralNames as OpenSSL prints them: 'DNS:a.example', 'IP Address:1.2.3.4', 'email:…', 'URI:…'. */
function generalNames(element: DerElement): string[] {
  return childrenOf(element).flatMap((name) => {
    switch (name.tag) {
      case 0x81:
        return [`email:${name.value.toString('latin1')}`];
      case 0x82:
        return [`DNS:${name.value.toString('latin1')}`];
      case 0x86:
        return [`URI:${name.value.toString('latin1')}`];
      case 0x87:
        return [`IP Address:${formatIp(name.value)}`];
      case 0xa4:
        return [`DirName:${formatName(nameOf(childrenOf(name)[0]!))}`];
      default:
        return [];
    }
  });
}

/** Every URI (GeneralName [6]) inside an element, however deeply nested (CRL distribution points). */
function urisIn(element: DerElement): string[] {
  if (element.tag === 0x86) return [element.value.toString('latin1')];
  if (!(element.tag & 0x20)) return [];
  try {
    return childrenOf(element).flatMap(urisIn);
  } catch {
    return [];
  }
}

function serialBitsOf(hex: string): number {
  const trimmed = hex.replace(/^0+/, '');
  if (!trimmed) return 0;
  return (trimmed.length - 1) * 4 + (32 - Math.clz32(Number.parseInt(trimmed[0]!, 16)));
}

function signatureAlgorithmOf(algorithm: DerElement): { name: string; hash: string } {
  const [oidElement, params] = childrenOf(expectTag(algorithm, Tag.sequence, 'AlgorithmIdentifier'));
  const oid = oidOf(expectTag(oidElement, Tag.oid, 'algorithm'));
  const known = SIGNATURE_ALGORITHMS[oid];
  if (!known) return { name: oid, hash: 'unknown' };
  if (known.name === 'rsassaPss' && params && params.tag === Tag.sequence) {
    // RSASSA-PSS-params: [0] hashAlgorithm (default SHA-1)
    const hashParam = childrenOf(params).find((e) => e.tag === 0xa0);
    const hashAlgorithm = hashParam ? childrenOf(hashParam)[0] : undefined;
    const hashOid = hashAlgorithm ? childrenOf(hashAlgorithm)[0] : undefined;
    const hash = hashOid ? (DIGESTS[oidOf(hashOid)] ?? 'unknown') : 'sha1';
    return { name: known.name, hash };
  }
  return known;
}

function publicKeyOf(spki: DerElement): PublicKeyInfo {
  const [algorithm] = childrenOf(expectTag(spki, Tag.sequence, 'SubjectPublicKeyInfo'));
  const [oidElement, params] = childrenOf(expectTag(algorithm, Tag.sequence, 'AlgorithmIdentifier'));
  const oid = oidOf(expectTag(oidElement, Tag.oid, 'key algorithm'));
  const type = KEY_TYPES[oid] ?? oid;
  const curveOid = type === 'EC' && params?.tag === Tag.oid ? oidOf(params) : undefined;
  const curve = curveOid ? (CURVES[curveOid] ?? { name: curveOid, bits: 0 }) : undefined;
  let bits = curve?.bits ?? 0;
  try {
    const key = createPublicKey({ key: spki.raw, format: 'der', type: 'spki' });
    const details = key.asymmetricKeyDetails;
    if (details?.modulusLength) bits = details.modulusLength;
    else if (type === 'Ed25519' || type === 'X25519') bits = 253;
    else if (type === 'Ed448' || type === 'X448') bits = 456;
  } catch {
    /* a key type Node cannot load: keep what the OIDs say */
  }
  return { type, bits, ...(curve ? { curve: curve.name } : {}) };
}

export function parseCertificate(der: Buffer): ParsedCertificate {
  const root = parseDer(der);
  const [tbs, signatureAlgorithm] = childrenOf(expectTag(root, Tag.sequence, 'Certificate'));
  const fields = childrenOf(expectTag(tbs, Tag.sequence, 'TBSCertificate'));
  let index = 0;
  let version = 1;
  if (fields[0]?.tag === 0xa0) {
    const versionInteger = childrenOf(fields[0])[0];
    version = versionInteger ? Number.parseInt(integerHex(versionInteger), 16) + 1 : 1;
    index++;
  }
  const serialNumber = integerHex(expectTag(fields[index++], Tag.integer, 'serialNumber'));
  index++; // signature (repeated below the TBS)
  const issuer = nameOf(expectTag(fields[index++], Tag.sequence, 'issuer'));
  const [notBefore, notAfter] = childrenOf(expectTag(fields[index++], Tag.sequence, 'validity'));
  if (!notBefore || !notAfter) throw new DerError('validity is incomplete');
  const subject = nameOf(expectTag(fields[index++], Tag.sequence, 'subject'));
  const publicKey = publicKeyOf(expectTag(fields[index++], Tag.sequence, 'subjectPublicKeyInfo'));

  let subjectAltNames: string[] = [];
  let isCa = false;
  const ocspUrls: string[] = [];
  const caIssuerUrls: string[] = [];
  const crlUrls: string[] = [];
  let mustStaple = false;
  let embeddedScts = false;
  const extensionsWrapper = fields.slice(index).find((e) => e.tag === 0xa3);
  if (extensionsWrapper) {
    const extensions = childrenOf(expectTag(childrenOf(extensionsWrapper)[0], Tag.sequence, 'Extensions'));
    for (const extension of extensions) {
      const parts = childrenOf(expectTag(extension, Tag.sequence, 'Extension'));
      const oid = oidOf(expectTag(parts[0], Tag.oid, 'extension id'));
      const valueElement = parts[parts.length - 1];
      if (!valueElement || valueElement.tag !== Tag.octetString) continue;
      let value: DerElement;
      try {
        value = parseDer(valueElement.value);
      } catch {
        continue; // an extension we cannot read is not a reason to lose the certificate
      }
      switch (oid) {
        case '2.5.29.17':
          subjectAltNames = generalNames(value);
          break;
        case '2.5.29.19': {
          const first = childrenOf(value)[0];
          isCa = first?.tag === Tag.boolean ? booleanOf(first) : false;
          break;
        }
        case '1.3.6.1.5.5.7.1.1':
          for (const description of childrenOf(value)) {
            const [method, location] = childrenOf(description);
            if (!method || !location || location.tag !== 0x86) continue;
            const url = location.value.toString('latin1');
            const methodOid = oidOf(method);
            if (methodOid === '1.3.6.1.5.5.7.48.1') ocspUrls.push(url);
            else if (methodOid === '1.3.6.1.5.5.7.48.2') caIssuerUrls.push(url);
          }
          break;
        case '2.5.29.31':
          crlUrls.push(...urisIn(value));
          break;
        case '1.3.6.1.5.5.7.1.24':
          mustStaple = childrenOf(value).some((feature) => feature.tag === Tag.integer && integerHex(feature) === '05');
          break;
        case '1.3.6.1.4.1.11129.2.4.2':
          embeddedScts = true;
          break;
      }
    }
  }
  const signature = signatureAlgorithmOf(expectTag(signatureAlgorithm, Tag.sequence, 'signatureAlgorithm'));
  return {
    der,
    version,
    serialNumber,
    signatureAlgorithm: signature.name,
    signatureHash: signature.hash,
    issuer,
    subject,
    notBefore: timeOf(notBefore),
    notAfter: timeOf(notAfter),
    publicKey,
    subjectAltNames,
    isCa,
    ocspUrls,
    caIssuerUrls,
    crlUrls,
    serialBits: serialBitsOf(serialNumber),
    mustStaple,
    embeddedScts,
    sha256Fingerprint: createHash('sha256').update(der).digest('hex').toUpperCase(),
    sha1Fingerprint: createHash('sha1').update(der).digest('hex').toUpperCase(),
  };
}

export interface OcspStatus {
  /** OCSPResponseStatus: 'successful', 'malformedRequest', 'internalError', 'tryLater', 'sigRequired', 'unauthorized'. */
  readonly responseStatus: string;
  /** The first SingleResponse's status. */
  readonly certStatus?: 'good' | 'revoked' | 'unknown';
  readonly producedAt?: Date;
  readonly thisUpdate?: Date;
  readonly nextUpdate?: Date;
  readonly revokedAt?: Date;
}

const OCSP_RESPONSE_STATUS = [
  'successful',
  'malformedRequest',
  'internalError',
  'tryLater',
  'unused',
  'sigRequired',
  'unauthorized',
];

/** An OCSP response (as stapled): its status and the first certificate status in it. */
export function parseOcspResponse(der: Buffer): OcspStatus {
  const [statusElement, bytesWrapper] = childrenOf(expectTag(parseDer(der), Tag.sequence, 'OCSPResponse'));
  const statusCode = expectTag(statusElement, Tag.enumerated, 'responseStatus').value[0] ?? 255;
  const responseStatus = OCSP_RESPONSE_STATUS[statusCode] ?? `status ${statusCode}`;
  if (!bytesWrapper || bytesWrapper.tag !== 0xa0) return { responseStatus };
  const [type, octets] = childrenOf(expectTag(childrenOf(bytesWrapper)[0], Tag.sequence, 'ResponseBytes'));
  if (!type || oidOf(type) !== '1.3.6.1.5.5.7.48.1.1' || !octets) return { responseStatus };
  const [tbs] = childrenOf(expectTag(parseDer(octets.value), Tag.sequence, 'BasicOCSPResponse'));
  const fields = childrenOf(expectTag(tbs, Tag.sequence, 'ResponseData'));
  let index = fields[0]?.tag === 0xa0 ? 1 : 0;
  index++; // responderID
  const producedAt = timeOf(expectTag(fields[index++], Tag.generalizedTime, 'producedAt'));
  const responses = childrenOf(expectTag(fields[index], Tag.sequence, 'responses'));
  const single = responses[0];
  if (!single) return { responseStatus, producedAt };
  const [, status, thisUpdate, ...rest] = childrenOf(expectTag(single, Tag.sequence, 'SingleResponse'));
  if (!status || !thisUpdate) throw new DerError('SingleResponse is incomplete');
  const certStatus = status.tag === 0x80 ? 'good' : status.tag === 0xa1 ? 'revoked' : 'unknown';
  const next = rest.find((e) => e.tag === 0xa0);
  const nextUpdateElement = next ? childrenOf(next)[0] : undefined;
  const revokedTime = certStatus === 'revoked' ? childrenOf(status)[0] : undefined;
  return {
    responseStatus,
    certStatus,
    producedAt,
    thisUpdate: timeOf(thisUpdate),
    ...(nextUpdateElement ? { nextUpdate: timeOf(nextUpdateElement) } : {}),
    ...(revokedTime ? { revokedAt: timeOf(revokedTime) } : {}),
  };
}
