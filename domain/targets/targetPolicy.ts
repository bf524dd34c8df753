/**
 * The SSRF guard: which addresses a scan may reach. Pure; the caller resolves
 * hostnames and passes every resolved address (and must connect to exactly
 * those addresses afterwards, or DNS rebinding walks around this check).
 *
 * Rule: an address may be scanned when its class (`classifyAddress`) is
 * 'public', or when it lies inside a CIDR of the operator's allow-list
 * (SECABLY_ALLOWED_TARGETS). A range may be scanned when every address in it
 * may. An IPv4-mapped address (::ffff:a.b.c.d) is the IPv4 address to the
 * operating system, so an IPv4 allow-list entry covers it too; other embeddings
 * (NAT64, 6to4, IPv4-compatible) are matched against IPv6 entries only.
 */
import {
  blocksInside,
  cidrContainsCidr,
  embeddedIPv4Block,
  formatAddress,
  formatCidr,
  governingBlock,
  hostCidr,
  parseCidrOrAddress,
  splitCidr,
  type AddressBlock,
  type AddressClass,
  type IpAddress,
  type ParsedCidr,
} from './ipAddress.js';

export type AddressCheck = { ok: true } | { ok: false; address: string; class: AddressClass; reason: string };

export type RangeCheck =
  | { ok: true }
  | {
      ok: false;
      /** The range checked, normalized. */
      range: string;
      /** The refused block inside it, e.g. 10.0.0.0/8 (for an embedding block: "::ffff:0:0/96 → 127.0.0.0/8"). */
      block: string;
      class: AddressClass;
      reason: string;
    };

const CLASS_WORDING: Record<AddressClass, string> = {
  public: 'public',
  loopback: 'loopback',
  private: 'private',
  link_local: 'link-local',
  multicast: 'multicast',
  reserved: 'reserved',
  unspecified: 'unspecified',
  shared: 'shared (carrier-grade NAT)',
  documentation: 'documentation',
  benchmarking: 'benchmarking',
  broadcast: 'broadcast',
};

function withArticle(word: string): string {
  return /^[aeiou]/.test(word) ? `an ${word}` : `a ${word}`;
}

type Violation = { block: string; class: AddressClass; name: string };

/** Whether the union of `allowed` covers every address of `range`. */
function coveredBy(range: ParsedCidr, allowed: readonly ParsedCidr[]): boolean {
  if (allowed.some((entry) => cidrContainsCidr(entry, range))) return true;
  if (!allowed.some((entry) => entry.prefix > range.prefix && cidrContainsCidr(range, entry))) return false;
  const [low, high] = splitCidr(range);
  return coveredBy(low, allowed) && coveredBy(high, allowed);
}

/**
 * The first non-public, non-allowed part of `range`, or null. A block holding no
 * more specific table entry has one class throughout (CIDR blocks nest or are
 * disjoint); otherwise it is halved until that holds. Blocks embedding IPv4 are
 * checked through their IPv4 image.
 */
function findViolation(range: ParsedCidr, allowed: readonly ParsedCidr[]): Violation | null {
  if (coveredBy(range, allowed)) return null;
  if (blocksInside(range).length > 0) {
    const [low, high] = splitCidr(range);
    return findViolation(low, allowed) ?? findViolation(high, allowed);
  }
  const governing = governingBlock(range);
  if (governing.kind === 'class') {
    return governing.class === 'public'
      ? null
      : { block: formatCidr(governing.cidr), class: governing.class, name: governing.name };
  }
  const image = embeddedIPv4Block(governing, range).cidr;
  const inner = findViolation(image, allowedInsideImage(governing, allowed));
  return inner === null
    ? null
    : {
        block: `${formatCidr(governing.cidr)} → ${inner.block}`,
        class: inner.class,
        name: `${governing.name}: ${inner.name}`,
      };
}

/**
 * The allow-list as seen from the IPv4 space embedded in `block`: IPv6 entries
 * inside the block covering whole IPv4 preimages, plus IPv4 entries for the
 * IPv4-mapped block.
 */
function allowedInsideImage(
  block: Extract<AddressBlock, { kind: 'embedsIPv4' }>,
  allowed: readonly ParsedCidr[],
): ParsedCidr[] {
  const result: ParsedCidr[] = [];
  for (const entry of allowed) {
    if (entry.version === 4 && block.ipv4Mapped) result.push(entry);
    if (entry.version === 6 && cidrContainsCidr(block.cidr, entry)) {
      const image = embeddedIPv4Block(block, entry);
      if (image.complete) result.push(image.cidr);
    }
  }
  return result;
}

/**
 * Refuses the set unless every address is public or allow-listed (a hostname
 * resolving to one public and one private address is refused). An empty set is
 * refused too: there is nothing to prove safe (resolve the hostname first).
 */
export function checkAddresses(addresses: readonly IpAddress[], allowedCidrs: readonly ParsedCidr[]): AddressCheck {
  if (addresses.length === 0) {
    return {
      ok: false,
      address: '',
      class: 'unspecified',
      reason: 'no address to check: the target did not resolve to any address',
    };
  }
  for (const address of addresses) {
    const violation = findViolation(hostCidr(address), allowedCidrs);
    if (violation !== null) {
      const text = formatAddress(address);
      return {
        ok: false,
        address: text,
        class: violation.class,
        reason: `scanning ${text} is not allowed: it is ${withArticle(CLASS_WORDING[violation.class])} address (${violation.block}: ${violation.name})`,
      };
    }
  }
  return { ok: true };
}

/**
 * Refuses a range when any part of it is non-public and not covered by the
 * allow-list (0.0.0.0/0 and ::/0 are always refused by the default, empty list).
 */
export function checkRange(cidr: ParsedCidr, allowedCidrs: readonly ParsedCidr[]): RangeCheck {
  const violation = findViolation(cidr, allowedCidrs);
  if (violation === null) return { ok: true };
  const range = formatCidr(cidr);
  return {
    ok: false,
    range,
    block: violation.block,
    class: violation.class,
    reason: `scanning ${range} is not allowed: it includes ${CLASS_WORDING[violation.class]} addresses (${violation.block}: ${violation.name})`,
  };
}

/**
 * SECABLY_ALLOWED_TARGETS: comma-separated CIDRs or bare addresses (taken as /32
 * or /128), e.g. "127.0.0.0/8,::1/128". Spaces around entries and empty entries
 * are ignored; "" is the empty list. Host bits are normalized away like every CIDR.
 */
export function parseAllowList(csv: string): { ok: true; cidrs: ParsedCidr[] } | { ok: false; error: string } {
  const cidrs: ParsedCidr[] = [];
  const entries = csv.split(',');
  for (let i = 0; i < entries.length; i++) {
    const entry = entries[i]!.trim();
    if (entry === '') continue;
    const cidr = parseCidrOrAddress(entry);
    if (cidr === null) {
      return {
        ok: false,
        error: `SECABLY_ALLOWED_TARGETS entry ${i + 1} (${JSON.stringify(entry)}) is not an IP address or CIDR block (e.g. 127.0.0.0/8, ::1)`,
      };
    }
    cidrs.push(cidr);
  }
  return { ok: true, cidrs };
}
