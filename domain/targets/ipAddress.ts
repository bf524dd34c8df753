/**
 * IP addresses and CIDR blocks, parsed strictly and classified for the SSRF guard.
 *
 * Pure and dependency-free on purpose (no `node:net`, no `URL`): the platform
 * parsers accept legacy forms — `127.1`, `0x7f.0.0.1`, `0177.0.0.1`, `2130706433` —
 * that name loopback while looking like something else. Here only the canonical
 * text forms are addresses: a dotted quad of decimal parts without leading zeros,
 * and the RFC 4291 IPv6 forms (with `::` and an optional dotted-quad tail).
 *
 * Addresses are numbers: IPv4 as a 32-bit value, IPv6 as a 128-bit bigint; the
 * `IpAddress` shape carries both as a bigint with its version.
 */

export type IpVersion = 4 | 6;

export type IpAddress = { readonly version: IpVersion; readonly value: bigint };

/** A CIDR block, always normalized: `network` has no host bits set. */
export type ParsedCidr = { readonly version: IpVersion; readonly network: bigint; readonly prefix: number };

export const ADDRESS_CLASSES = [
  'public',
  'loopback',
  'private',
  'link_local',
  'multicast',
  'reserved',
  'unspecified',
  'shared',
  'documentation',
  'benchmarking',
  'broadcast',
] as const;

export type AddressClass = (typeof ADDRESS_CLASSES)[number];

const BITS: Record<IpVersion, number> = { 4: 32, 6: 128 };

export function addressBits(version: IpVersion): number {
  return BITS[version];
}

// ---------------------------------------------------------------------------
// Parsing

const DOTTED_QUAD = /^(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})$/;
const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/;
/** Longest IPv6 text form: six 4-digit groups and a 15-character dotted quad. */
const MAX_IPV6_LENGTH = 45;

/**
 * A strict dotted quad: exactly four decimal parts 0-255, no leading zeros
 * (except a lone "0"), no signs, no spaces. Returns the address as an unsigned
 * 32-bit number, or null. Short (`127.1`), octal (`0177.0.0.1`), hex
 * (`0x7f.0.0.1`) and integer (`2130706433`) forms are not addresses.
 */
export function parseIPv4(s: string): number | null {
  const match = DOTTED_QUAD.exec(s);
  if (match === null) return null;
  let value = 0;
  for (let i = 1; i <= 4; i++) {
    const part = Number(match[i]);
    if (part > 255) return null;
    value = value * 256 + part;
  }
  return value;
}

/**
 * RFC 4291 §2.2 text forms: eight groups of 1-4 hex digits (any case), one `::`
 * standing for one or more zero groups, and an optional strict dotted-quad tail
 * in place of the last two groups (`::ffff:127.0.0.1`). Brackets and zone ids
 * (`fe80::1%eth0`) are not part of an address and are refused.
 */
export function parseIPv6(s: string): bigint | null {
  if (s.length < 2 || s.length > MAX_IPV6_LENGTH) return null;
  const halves = s.split('::');
  let groups: number[];
  if (halves.length === 1) {
    const all = parseGroups(s, true);
    if (all === null || all.length !== 8) return null;
    groups = all;
  } else if (halves.length === 2) {
    const head = parseGroups(halves[0]!, false);
    const tail = parseGroups(halves[1]!, true);
    if (head === null || tail === null) return null;
    const missing = 8 - head.length - tail.length;
    if (missing < 1) return null;
    groups = [...head, ...new Array<number>(missing).fill(0), ...tail];
  } else {
    return null;
  }
  let value = 0n;
  for (const group of groups) value = (value << 16n) | BigInt(group);
  return value;
}

/** Colon-separated groups of one side of `::`; "" is no groups at all. */
function parseGroups(part: string, ipv4TailAllowed: boolean): number[] | null {
  if (part === '') return [];
  const pieces = part.split(':');
  const groups: number[] = [];
  for (let i = 0; i < pieces.length; i++) {
    const piece = pieces[i]!;
    if (HEX_GROUP.test(piece)) {
      groups.push(parseInt(piece, 16));
    } else if (ipv4TailAllowed && i === pieces.length - 1 && piece.includes('.')) {
      const v4 = parseIPv4(piece);
      if (v4 === null) return null;
      groups.push(Math.floor(v4 / 0x10000), v4 % 0x10000);
    } else {
      return null;
    }
  }
  return groups;
}

/** Either kind of address literal (unbracketed), or null. */
export function parseIpAddress(s: string): IpAddress | null {
  const v4 = parseIPv4(s);
  if (v4 !== null) return { version: 4, value: BigInt(v4) };
  const v6 = parseIPv6(s);
  if (v6 !== null) return { version: 6, value: v6 };
  return null;
}

const PREFIX = /^(0|[1-9]\d{0,2})$/;

/**
 * `address/prefix` with a strict address (see `parseIPv4`, `parseIPv6`) and a
 * decimal prefix 0-32 (IPv4) or 0-128 (IPv6), no leading zeros.
 *
 * Host bits may be set: `10.1.2.3/8` is accepted and normalized to its network,
 * `10.0.0.0/8` (the usual behaviour of routers and of Python's `strict=False`).
 * A bare address (no `/`) is not a CIDR here; see `parseCidrOrAddress`.
 */
export function parseCidr(s: string): ParsedCidr | null {
  const slash = s.indexOf('/');
  if (slash < 0) return null;
  const address = parseIpAddress(s.slice(0, slash));
  const prefixText = s.slice(slash + 1);
  if (address === null || !PREFIX.test(prefixText)) return null;
  const prefix = Number(prefixText);
  if (prefix > BITS[address.version]) return null;
  return { version: address.version, network: address.value & prefixMask(address.version, prefix), prefix };
}

/** A CIDR, or a bare address taken as its single-address block (/32 or /128). */
export function parseCidrOrAddress(s: string): ParsedCidr | null {
  if (s.includes('/')) return parseCidr(s);
  const address = parseIpAddress(s);
  return address === null ? null : hostCidr(address);
}

// ---------------------------------------------------------------------------
// CIDR arithmetic

function allOnes(bits: number): bigint {
  return (1n << BigInt(bits)) - 1n;
}

function prefixMask(version: IpVersion, prefix: number): bigint {
  const bits = BITS[version];
  return allOnes(bits) ^ allOnes(bits - prefix);
}

/** The block holding exactly one address (/32 or /128). */
export function hostCidr(address: IpAddress): ParsedCidr {
  return { version: address.version, network: address.value, prefix: BITS[address.version] };
}

export function cidrContains(cidr: ParsedCidr, address: IpAddress): boolean {
  return cidr.version === address.version && (address.value & prefixMask(cidr.version, cidr.prefix)) === cidr.network;
}

/** Whether every address of `inner` lies in `outer`. */
export function cidrContainsCidr(outer: ParsedCidr, inner: ParsedCidr): boolean {
  return (
    outer.version === inner.version &&
    outer.prefix <= inner.prefix &&
    (inner.network & prefixMask(outer.version, outer.prefix)) === outer.network
  );
}

/** Two CIDR blocks either nest or are disjoint; this says whether they share any address. */
export function cidrOverlaps(a: ParsedCidr, b: ParsedCidr): boolean {
  return cidrContainsCidr(a, b) || cidrContainsCidr(b, a);
}

/** Number of addresses in the block: 2^(bits - prefix). */
export function cidrSize(cidr: ParsedCidr): bigint {
  return 1n << BigInt(BITS[cidr.version] - cidr.prefix);
}

/** The lowest and highest address of the block. */
export function cidrBounds(cidr: ParsedCidr): { first: IpAddress; last: IpAddress } {
  return {
    first: { version: cidr.version, value: cidr.network },
    last: { version: cidr.version, value: cidr.network + cidrSize(cidr) - 1n },
  };
}

/** The two halves of a block (prefix + 1). The block must not be a single address. */
export function splitCidr(cidr: ParsedCidr): [ParsedCidr, ParsedCidr] {
  const prefix = cidr.prefix + 1;
  if (prefix > BITS[cidr.version]) throw new Error('cannot split a single-address block');
  const half = 1n << BigInt(BITS[cidr.version] - prefix);
  return [
    { version: cidr.version, network: cidr.network, prefix },
    { version: cidr.version, network: cidr.network + half, prefix },
  ];
}

// ---------------------------------------------------------------------------
// Formatting

function formatIPv4(value: bigint): string {
  return [24n, 16n, 8n, 0n].map((shift) => String((value >> shift) & 0xffn)).join('.');
}

/**
 * RFC 5952: lowercase hex, no leading zeros, the longest run (first on a tie) of
 * two or more zero groups compressed to `::`. IPv4-mapped addresses keep their
 * dotted tail (`::ffff:127.0.0.1`, RFC 5952 §5).
 */
function formatIPv6(value: bigint): string {
  if (value >> 32n === 0xffffn) return `::ffff:${formatIPv4(value & 0xffffffffn)}`;
  const groups: number[] = [];
  for (let shift = 112n; shift >= 0n; shift -= 16n) groups.push(Number((value >> shift) & 0xffffn));
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = groups.map((group) => group.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}

/** Canonical text: dotted quad, or RFC 5952 IPv6 (unbracketed). */
export function formatAddress(address: IpAddress): string {
  return address.version === 4 ? formatIPv4(address.value) : formatIPv6(address.value);
}

export function formatCidr(cidr: ParsedCidr): string {
  return `${formatAddress({ version: cidr.version, value: cidr.network })}/${cidr.prefix}`;
}

// ---------------------------------------------------------------------------
// Classification

/**
 * One entry of the special-purpose table. Lookups take the most specific block
 * holding an address. `embedsIPv4` blocks carry an IPv4 address in 32 bits
 * starting at `ipv4BitOffset` (counted from the most significant bit, equal to
 * the block's prefix); their addresses are classified by that IPv4 address.
 */
export type AddressBlock =
  | { readonly kind: 'class'; readonly cidr: ParsedCidr; readonly class: AddressClass; readonly name: string }
  | {
      readonly kind: 'embedsIPv4';
      readonly cidr: ParsedCidr;
      readonly name: string;
      readonly ipv4BitOffset: number;
      /** IPv4-mapped (::ffff:0:0/96): the operating system treats it as the IPv4 address itself. */
      readonly ipv4Mapped: boolean;
    };

function cidrConstant(text: string): ParsedCidr {
  const cidr = parseCidr(text);
  if (cidr === null || formatCidr(cidr) !== text) throw new Error(`bad CIDR constant: ${text}`);
  return cidr;
}

function classBlock(text: string, addressClass: AddressClass, name: string): AddressBlock {
  return { kind: 'class', cidr: cidrConstant(text), class: addressClass, name };
}

function embeddingBlock(text: string, name: string): AddressBlock {
  const cidr = cidrConstant(text);
  return { kind: 'embedsIPv4', cidr, name, ipv4BitOffset: cidr.prefix, ipv4Mapped: text === '::ffff:0.0.0.0/96' };
}

/**
 * The IANA special-purpose registries (RFC 6890 and successors), reduced to the
 * classes the SSRF guard needs. IPv4 is public unless listed. IPv6 is public
 * only inside 2000::/3 (global unicast, the only space IANA allocates); the rest
 * is reserved unless listed.
 */
export const ADDRESS_BLOCKS: readonly AddressBlock[] = [
  classBlock('0.0.0.0/0', 'public', 'IPv4 unicast'),
  classBlock('0.0.0.0/8', 'unspecified', '"this network" (RFC 791)'),
  classBlock('10.0.0.0/8', 'private', 'private use (RFC 1918)'),
  classBlock('100.64.0.0/10', 'shared', 'shared address space, carrier-grade NAT (RFC 6598)'),
  classBlock('127.0.0.0/8', 'loopback', 'loopback (RFC 1122)'),
  classBlock('169.254.0.0/16', 'link_local', 'link local, incl. cloud metadata 169.254.169.254 (RFC 3927)'),
  classBlock('172.16.0.0/12', 'private', 'private use (RFC 1918)'),
  classBlock('192.0.0.0/24', 'reserved', 'IETF protocol assignments (RFC 6890)'),
  classBlock('192.0.2.0/24', 'documentation', 'documentation TEST-NET-1 (RFC 5737)'),
  classBlock('192.88.99.0/24', 'reserved', 'deprecated 6to4 relay anycast (RFC 7526)'),
  classBlock('192.168.0.0/16', 'private', 'private use (RFC 1918)'),
  classBlock('198.18.0.0/15', 'benchmarking', 'benchmarking (RFC 2544)'),
  classBlock('198.51.100.0/24', 'documentation', 'documentation TEST-NET-2 (RFC 5737)'),
  classBlock('203.0.113.0/24', 'documentation', 'documentation TEST-NET-3 (RFC 5737)'),
  classBlock('224.0.0.0/4', 'multicast', 'multicast (RFC 5771)'),
  classBlock('240.0.0.0/4', 'reserved', 'reserved for future use (RFC 1112)'),
  classBlock('255.255.255.255/32', 'broadcast', 'limited broadcast (RFC 919)'),

  classBlock('::/0', 'reserved', 'IPv6 space outside global unicast 2000::/3 (reserved by IETF)'),
  classBlock('2000::/3', 'public', 'IPv6 global unicast'),
  classBlock('::/128', 'unspecified', 'unspecified address (RFC 4291)'),
  classBlock('::1/128', 'loopback', 'loopback (RFC 4291)'),
  embeddingBlock('::/96', 'deprecated IPv4-compatible (RFC 4291)'),
  embeddingBlock('::ffff:0.0.0.0/96', 'IPv4-mapped (RFC 4291)'),
  embeddingBlock('64:ff9b::/96', 'NAT64 well-known prefix (RFC 6052)'),
  classBlock('64:ff9b:1::/48', 'private', 'local-use IPv4/IPv6 translation (RFC 8215)'),
  classBlock('100::/64', 'reserved', 'discard-only (RFC 6666)'),
  classBlock('2001::/23', 'reserved', 'IETF protocol assignments, incl. Teredo 2001::/32 (RFC 2928)'),
  classBlock('2001:2::/48', 'benchmarking', 'benchmarking (RFC 5180)'),
  classBlock('2001:db8::/32', 'documentation', 'documentation (RFC 3849)'),
  embeddingBlock('2002::/16', '6to4 (RFC 3056)'),
  classBlock('3fff::/20', 'documentation', 'documentation (RFC 9637)'),
  classBlock('fc00::/7', 'private', 'unique local (RFC 4193)'),
  classBlock('fe80::/10', 'link_local', 'link local (RFC 4291)'),
  classBlock('ff00::/8', 'multicast', 'multicast (RFC 4291)'),
];

/** The most specific table entry holding the whole block (always exists: ::/0 and 0.0.0.0/0 are listed). */
export function governingBlock(cidr: ParsedCidr): AddressBlock {
  let best: AddressBlock | undefined;
  for (const block of ADDRESS_BLOCKS) {
    if (cidrContainsCidr(block.cidr, cidr) && (best === undefined || block.cidr.prefix > best.cidr.prefix))
      best = block;
  }
  if (best === undefined) throw new Error('address table has no default entry');
  return best;
}

/** Table entries lying strictly inside the block (more specific than it). */
export function blocksInside(cidr: ParsedCidr): AddressBlock[] {
  return ADDRESS_BLOCKS.filter((block) => block.cidr.prefix > cidr.prefix && cidrContainsCidr(cidr, block.cidr));
}

/**
 * The IPv4 block carried by an IPv6 block lying inside an `embedsIPv4` entry.
 * `complete` is false when the IPv6 block holds only some of the IPv6 addresses
 * embedding its IPv4 image (possible for 6to4, where 80 bits follow the IPv4 part).
 */
export function embeddedIPv4Block(
  block: Extract<AddressBlock, { kind: 'embedsIPv4' }>,
  inner: ParsedCidr,
): { cidr: ParsedCidr; complete: boolean } {
  const shift = BigInt(128 - block.ipv4BitOffset - 32);
  const prefix = Math.min(32, Math.max(0, inner.prefix - block.ipv4BitOffset));
  const network = (inner.network >> shift) & 0xffffffffn & prefixMask(4, prefix);
  return { cidr: { version: 4, network, prefix }, complete: inner.prefix <= block.ipv4BitOffset + 32 };
}

export type AddressClassification = {
  readonly class: AddressClass;
  /** The table entry that decided, e.g. 10.0.0.0/8 (for an embedding address: the IPv4 entry). */
  readonly block: string;
  readonly name: string;
  /** For IPv4-mapped, NAT64, 6to4 and IPv4-compatible addresses: the IPv4 address they carry. */
  readonly embeddedIPv4?: IpAddress;
};

/** The class of an address, with the table entry that gave it. */
export function explainAddress(address: IpAddress): AddressClassification {
  const block = governingBlock(hostCidr(address));
  if (block.kind === 'class') return { class: block.class, block: formatCidr(block.cidr), name: block.name };
  const v4 = embeddedIPv4Block(block, hostCidr(address)).cidr;
  const embedded: IpAddress = { version: 4, value: v4.network };
  const inner = explainAddress(embedded);
  return {
    class: inner.class,
    block: inner.block,
    name: `${block.name} of ${formatAddress(embedded)}: ${inner.name}`,
    embeddedIPv4: embedded,
  };
}

export function classifyAddress(address: IpAddress): AddressClass {
  return explainAddress(address).class;
}
