/**
 * The cipher suite table (ianaCipherSuites.data.ts) as typed records, with what
 * makes a suite weak, and the lists a scan offers per protocol.
 */
import { CIPHER_SUITE_ROWS } from './ianaCipherSuites.data.js';

export type SuiteProtocol = 'SSLv2' | 'SSLv3' | 'TLSv1' | 'TLSv1.2' | 'TLSv1.3';

/** sslscan's words, with our rules: see `strengthOf`. */
export type SuiteStrength = 'insecure' | 'weak' | 'acceptable' | 'strong';

export interface CipherSuite {
  /** 16-bit TLS id, or the 24-bit SSLv2 cipher spec. */
  readonly id: number;
  /** "0xC02F" (TLS) or "0x0700C0" (SSLv2). */
  readonly hex: string;
  /** The IANA name, or the best-known name when IANA has none (`registered` false). */
  readonly name: string;
  readonly registered: boolean;
  readonly opensslName: string | null;
  readonly protocol: SuiteProtocol;
  /** 'RSA', 'DH', 'ECDH', 'PSK', … ("any" for TLS 1.3). */
  readonly keyExchange: string;
  /** 'RSA', 'ECDSA', 'DSS', 'None' (anonymous), … ("any" for TLS 1.3). */
  readonly authentication: string;
  /** 'AESGCM', 'AES' (CBC), 'ChaCha20', '3DES', 'RC4', 'None', … */
  readonly encryption: string;
  readonly bits: number;
  /** 'AEAD', 'SHA1', 'SHA256', 'MD5', … */
  readonly mac: string;
  readonly weaknesses: readonly SuiteWeakness[];
  readonly forwardSecrecy: boolean;
  readonly aead: boolean;
  readonly cbc: boolean;
  readonly strength: SuiteStrength;
}

/** What can be wrong with a suite (each one a finding rule). */
export type SuiteWeakness =
  | 'null' // no encryption
  | 'anonymous' // no authentication: anyone in the middle
  | 'export' // export grade (40/56-bit or 512-bit key exchange): FREAK, Logjam
  | 'rc4'
  | 'des' // single DES (56 bits or less)
  | '64bit_block' // 3DES, IDEA, RC2: SWEET32
  | 'md5' // HMAC-MD5
  | 'no_forward_secrecy';

const HEX = (id: number, width: number) => `0x${id.toString(16).toUpperCase().padStart(width, '0')}`;

function weaknessesOf(name: string, kx: string, au: string, enc: string, bits: number, mac: string, exp: boolean) {
  const weaknesses: SuiteWeakness[] = [];
  if (enc === 'None') weaknesses.push('null');
  if (au === 'None' || /_anon_/.test(name) || /^SSL_CK_NULL$/.test(name)) weaknesses.push('anonymous');
  if (exp || /EXPORT/.test(name)) weaknesses.push('export');
  if (enc === 'RC4') weaknesses.push('rc4');
  if (enc === 'DES') weaknesses.push('des');
  if (enc === '3DES' || enc === 'IDEA' || (enc === 'RC2' && bits > 56)) weaknesses.push('64bit_block');
  if (enc === 'RC2' && bits <= 56 && !weaknesses.includes('export')) weaknesses.push('export');
  if (mac === 'MD5') weaknesses.push('md5');
  if (!forwardSecrecyOf(name, kx)) weaknesses.push('no_forward_secrecy');
  return weaknesses;
}

/** Ephemeral (EC)DH or TLS 1.3: the session keys survive a later theft of the server's key. */
function forwardSecrecyOf(name: string, kx: string): boolean {
  if (kx === 'any') return true; // TLS 1.3
  if (/^TLS_(ECDHE|DHE|CECPQ1|ECCPWD)_/.test(name)) return true;
  // Anonymous (EC)DH is ephemeral too, but offers no authentication (flagged separately).
  if (/^TLS_(ECDH|DH)_anon_/.test(name)) return true;
  if (kx === 'ECDHEPSK' || kx === 'DHEPSK' || kx === 'CECPQ1') return true;
  return false;
}

/**
 * - insecure: no encryption or authentication, export grade, RC4, single DES (broken
 *   in practice);
 * - weak: 64-bit blocks (SWEET32), HMAC-MD5, or no forward secrecy with a CBC cipher;
 * - acceptable: the rest that is not strong (CBC with forward secrecy, AEAD without it);
 * - strong: forward secrecy and authenticated encryption.
 */
function strengthOf(weaknesses: readonly SuiteWeakness[], aead: boolean): SuiteStrength {
  if (weaknesses.some((w) => w === 'null' || w === 'anonymous' || w === 'export' || w === 'rc4' || w === 'des')) {
    return 'insecure';
  }
  const noFs = weaknesses.includes('no_forward_secrecy');
  if (weaknesses.includes('64bit_block') || weaknesses.includes('md5') || (noFs && !aead)) return 'weak';
  if (noFs || !aead) return 'acceptable';
  return 'strong';
}

function toSuite(row: (typeof CIPHER_SUITE_ROWS)[number]): CipherSuite {
  const [id, iana, openssl, protocol, kxRaw, au, enc, bits, mac, exportGrade] = row;
  const sslv2 = protocol === 'SSLv2';
  const name = iana ?? openssl ?? HEX(id, sslv2 ? 6 : 4);
  const kx = kxRaw.replace(/\(\d+\)$/, '');
  const aead = mac === 'AEAD';
  const weaknesses = weaknessesOf(name, kx, au, enc, bits, mac, exportGrade === 1);
  const cbc =
    !aead &&
    !sslv2 &&
    ['AES', 'Camellia', 'ARIA', 'SEED', '3DES', 'DES', 'IDEA', 'RC2'].includes(enc) &&
    !/_(CNT|CTR)_/.test(name);
  return {
    id,
    hex: HEX(id, sslv2 ? 6 : 4),
    name,
    registered:
      iana !== null &&
      iana.startsWith('TLS_') &&
      !/_OLD$/.test(iana) &&
      !/^TLS_(GOSTR341094_RSA|RSA_WITH_28147|CECPQ1)/.test(iana),
    opensslName: openssl,
    protocol,
    keyExchange: kx,
    authentication: au,
    encryption: enc,
    bits,
    mac,
    weaknesses,
    forwardSecrecy: !weaknesses.includes('no_forward_secrecy'),
    aead,
    cbc,
    strength: strengthOf(weaknesses, aead),
  };
}

const ALL = CIPHER_SUITE_ROWS.map(toSuite);
const TLS_BY_ID = new Map(ALL.filter((s) => s.protocol !== 'SSLv2').map((s) => [s.id, s]));
const SSL2_BY_ID = new Map(ALL.filter((s) => s.protocol === 'SSLv2').map((s) => [s.id, s]));

/** Every known TLS (not SSLv2) suite. */
export const TLS_SUITES: readonly CipherSuite[] = ALL.filter((s) => s.protocol !== 'SSLv2');
/** The SSLv2 cipher specs. */
export const SSL2_CIPHER_SPECS: readonly CipherSuite[] = ALL.filter((s) => s.protocol === 'SSLv2');

/** A TLS suite by id; unknown ids get a placeholder (a server may pick an id no table lists). */
export function suiteById(id: number): CipherSuite {
  return (
    TLS_BY_ID.get(id) ?? {
      ...toSuite([id, null, null, 'TLSv1.2', 'unknown', 'unknown', 'unknown', 0, 'unknown', 0]),
      name: `UNKNOWN_0x${id.toString(16).toUpperCase().padStart(4, '0')}`,
      weaknesses: [],
      forwardSecrecy: false,
      strength: 'acceptable',
    }
  );
}

export function sslv2SpecById(id: number): CipherSuite {
  return SSL2_BY_ID.get(id) ?? { ...toSuite([id, null, null, 'SSLv2', 'RSA', 'RSA', 'unknown', 0, 'MD5', 0]) };
}

/** Signalling values, never real suites. */
export const TLS_EMPTY_RENEGOTIATION_INFO_SCSV = 0x00ff;
export const TLS_FALLBACK_SCSV = 0x5600;

/**
 * Where a suite is likely to be accepted, most likely first: the order of the
 * suites in our hellos (the first chunk of 128 then holds nearly everything a real
 * server accepts, so its preference order comes out of one elimination run).
 */
function commonness(suite: CipherSuite): number {
  const n = suite.name;
  let score = 0;
  if (/^TLS_ECDHE_(RSA|ECDSA)_WITH_/.test(n)) score += 45;
  else if (/^TLS_DHE_(RSA|DSS)_WITH_/.test(n)) score += 40;
  else if (/^TLS_RSA_WITH_/.test(n)) score += 30;
  else if (/^TLS_(ECDH|DH)_(RSA|ECDSA|DSS)_WITH_/.test(n)) score += 10;
  if (suite.aead) score += 8;
  if (/AES|CHACHA20/.test(n)) score += 6;
  if (/CAMELLIA|ARIA|SEED/.test(n)) score += 2;
  if (suite.weaknesses.includes('64bit_block') || suite.weaknesses.includes('rc4')) score += 3;
  if (/_(PSK|SRP|KRB5|GOST|ECCPWD|CECPQ1)/.test(n) || !suite.registered) score -= 30;
  if (suite.bits >= 256) score += 1;
  return score;
}

/** Suites we offer in TLS 1.0-1.2 and SSLv3 hellos (everything but TLS 1.3 and the NULL_WITH_NULL placeholder). */
export const LEGACY_OFFER: readonly number[] = TLS_SUITES.filter((s) => s.protocol !== 'TLSv1.3' && s.id !== 0)
  .map((s, index) => ({ s, index, score: commonness(s) }))
  .sort((a, b) => b.score - a.score || a.index - b.index)
  .map(({ s }) => s.id);

/** TLS 1.3 suites (RFC 8446, RFC 9150 integrity-only, RFC 9367 GOST), tried one at a time. */
export const TLS13_OFFER: readonly number[] = TLS_SUITES.filter((s) => s.protocol === 'TLSv1.3').map((s) => s.id);

/** The five RFC 8446 suites (what a TLS 1.3 hello normally offers). */
export const TLS13_STANDARD: readonly number[] = [0x1301, 0x1302, 0x1303, 0x1304, 0x1305];
