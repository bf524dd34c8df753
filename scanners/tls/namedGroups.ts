/**
 * Key-exchange groups (IANA "TLS Supported Groups"): elliptic curves, finite-field
 * groups (RFC 7919) and post-quantum hybrids, with their security in bits.
 */

export type GroupKind = 'ecdhe' | 'ffdhe' | 'hybrid_pq' | 'pq';

export interface NamedGroup {
  readonly id: number;
  readonly name: string;
  /** Approximate classical security in bits (sslscan's figures: P-256 128, x25519 128, ffdhe2048 112). */
  readonly bits: number;
  readonly kind: GroupKind;
  /** Usable in TLS 1.2 ECDHE (elliptic curves) or only in TLS 1.3. */
  readonly tls12: boolean;
  readonly tls13: boolean;
}

const g = (id: number, name: string, bits: number, kind: GroupKind, tls12: boolean, tls13: boolean): NamedGroup => ({
  id,
  name,
  bits,
  kind,
  tls12,
  tls13,
});

// prettier-ignore
export const NAMED_GROUPS: readonly NamedGroup[] = [
  g(1, 'sect163k1', 81, 'ecdhe', true, false),
  g(2, 'sect163r1', 81, 'ecdhe', true, false),
  g(3, 'sect163r2', 81, 'ecdhe', true, false),
  g(4, 'sect193r1', 96, 'ecdhe', true, false),
  g(5, 'sect193r2', 96, 'ecdhe', true, false),
  g(6, 'sect233k1', 116, 'ecdhe', true, false),
  g(7, 'sect233r1', 116, 'ecdhe', true, false),
  g(8, 'sect239k1', 119, 'ecdhe', true, false),
  g(9, 'sect283k1', 141, 'ecdhe', true, false),
  g(10, 'sect283r1', 141, 'ecdhe', true, false),
  g(11, 'sect409k1', 204, 'ecdhe', true, false),
  g(12, 'sect409r1', 204, 'ecdhe', true, false),
  g(13, 'sect571k1', 285, 'ecdhe', true, false),
  g(14, 'sect571r1', 285, 'ecdhe', true, false),
  g(15, 'secp160k1', 80, 'ecdhe', true, false),
  g(16, 'secp160r1', 80, 'ecdhe', true, false),
  g(17, 'secp160r2', 80, 'ecdhe', true, false),
  g(18, 'secp192k1', 96, 'ecdhe', true, false),
  g(19, 'secp192r1', 96, 'ecdhe', true, false),
  g(20, 'secp224k1', 112, 'ecdhe', true, false),
  g(21, 'secp224r1', 112, 'ecdhe', true, false),
  g(22, 'secp256k1', 128, 'ecdhe', true, false),
  g(23, 'secp256r1', 128, 'ecdhe', true, true),
  g(24, 'secp384r1', 192, 'ecdhe', true, true),
  g(25, 'secp521r1', 260, 'ecdhe', true, true),
  g(26, 'brainpoolP256r1', 128, 'ecdhe', true, false),
  g(27, 'brainpoolP384r1', 192, 'ecdhe', true, false),
  g(28, 'brainpoolP512r1', 256, 'ecdhe', true, false),
  g(29, 'x25519', 128, 'ecdhe', true, true),
  g(30, 'x448', 224, 'ecdhe', true, true),
  g(31, 'brainpoolP256r1tls13', 128, 'ecdhe', false, true),
  g(32, 'brainpoolP384r1tls13', 192, 'ecdhe', false, true),
  g(33, 'brainpoolP512r1tls13', 256, 'ecdhe', false, true),
  g(34, 'GC256A', 128, 'ecdhe', true, true),
  g(35, 'GC256B', 128, 'ecdhe', true, true),
  g(36, 'GC256C', 128, 'ecdhe', true, true),
  g(37, 'GC256D', 128, 'ecdhe', true, true),
  g(38, 'GC512A', 256, 'ecdhe', true, true),
  g(39, 'GC512B', 256, 'ecdhe', true, true),
  g(40, 'GC512C', 256, 'ecdhe', true, true),
  g(41, 'curveSM2', 128, 'ecdhe', false, true),
  g(256, 'ffdhe2048', 112, 'ffdhe', false, true),
  g(257, 'ffdhe3072', 128, 'ffdhe', false, true),
  g(258, 'ffdhe4096', 150, 'ffdhe', false, true),
  g(259, 'ffdhe6144', 175, 'ffdhe', false, true),
  g(260, 'ffdhe8192', 192, 'ffdhe', false, true),
  g(0x0200, 'MLKEM512', 128, 'pq', false, true),
  g(0x0201, 'MLKEM768', 192, 'pq', false, true),
  g(0x0202, 'MLKEM1024', 256, 'pq', false, true),
  g(0x11eb, 'SecP256r1MLKEM768', 192, 'hybrid_pq', false, true),
  g(0x11ec, 'X25519MLKEM768', 192, 'hybrid_pq', false, true),
  g(0x11ed, 'SecP384r1MLKEM1024', 256, 'hybrid_pq', false, true),
  g(0x6399, 'X25519Kyber768Draft00', 192, 'hybrid_pq', false, true),
  g(0x639a, 'SecP256r1Kyber768Draft00', 192, 'hybrid_pq', false, true),
];

const BY_ID = new Map(NAMED_GROUPS.map((group) => [group.id, group]));

export function groupById(id: number): NamedGroup {
  return BY_ID.get(id) ?? g(id, `unknown_0x${id.toString(16).padStart(4, '0')}`, 0, 'ecdhe', false, false);
}

/** Curves offered in TLS 1.0-1.2 hellos (ECDHE), strongest-usual first. */
export const TLS12_CURVES: readonly number[] = [
  29, 23, 30, 25, 24, 26, 27, 28, 22, 21, 20, 19, 18, 17, 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1,
];

/** Groups offered in TLS 1.3 hellos. */
export const TLS13_GROUPS: readonly number[] = NAMED_GROUPS.filter((group) => group.tls13).map((group) => group.id);

export const GROUP_X25519 = 29;
export const GROUP_SECP256R1 = 23;
export const GROUP_SECP384R1 = 24;
export const GROUP_SECP521R1 = 25;
export const GROUP_X448 = 30;
