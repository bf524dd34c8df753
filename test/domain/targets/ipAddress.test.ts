import { describe, expect, it } from 'vitest';
import {
  ADDRESS_BLOCKS,
  ADDRESS_CLASSES,
  cidrBounds,
  cidrContains,
  cidrContainsCidr,
  cidrOverlaps,
  cidrSize,
  classifyAddress,
  explainAddress,
  formatAddress,
  formatCidr,
  parseCidr,
  parseCidrOrAddress,
  parseIPv4,
  parseIPv6,
  parseIpAddress,
  splitCidr,
  type AddressClass,
  type IpAddress,
} from '../../../domain/targets/ipAddress.js';

function ip(text: string): IpAddress {
  const address = parseIpAddress(text);
  if (address === null) throw new Error(`test fixture is not an address: ${text}`);
  return address;
}

function cidr(text: string) {
  const parsed = parseCidr(text);
  if (parsed === null) throw new Error(`test fixture is not a CIDR: ${text}`);
  return parsed;
}

/** Deterministic xorshift, so failures reproduce. */
function randomBits(seed: number) {
  let state = BigInt(seed) | 1n;
  const mask64 = (1n << 64n) - 1n;
  const next64 = () => {
    state ^= (state << 13n) & mask64;
    state ^= state >> 7n;
    state ^= (state << 17n) & mask64;
    return state;
  };
  return (bits: number): bigint => ((next64() << 64n) | next64()) & ((1n << BigInt(bits)) - 1n);
}

describe('parseIPv4', () => {
  it.each([
    ['0.0.0.0', 0],
    ['127.0.0.1', 2130706433],
    ['10.0.0.1', 0x0a000001],
    ['169.254.169.254', 0xa9fea9fe],
    ['255.255.255.255', 0xffffffff],
    ['1.2.3.4', 0x01020304],
  ])('accepts %s', (text, value) => {
    expect(parseIPv4(text)).toBe(value);
  });

  it.each([
    ['127.1', 'short form'],
    ['127.0.1', 'short form'],
    ['2130706433', 'integer form'],
    ['0x7f000001', 'hex integer form'],
    ['0177.0.0.1', 'octal part'],
    ['0x7f.0.0.1', 'hex part'],
    ['127.000.000.001', 'zero-padded parts'],
    ['01.2.3.4', 'leading zero'],
    ['1.2.3.04', 'leading zero in the last part'],
    ['00.0.0.0', 'double zero'],
    ['256.0.0.1', 'part over 255'],
    ['1.2.3.1000', 'four-digit part'],
    ['1.2.3.4.5', 'five parts'],
    ['1.2.3.', 'trailing dot'],
    ['.1.2.3', 'leading dot'],
    ['1..2.3', 'empty part'],
    ['+1.2.3.4', 'sign'],
    ['1.2.3.-4', 'negative part'],
    [' 1.2.3.4', 'leading space'],
    ['1.2.3.4 ', 'trailing space'],
    ['1.2.3.4\n', 'trailing newline'],
    ['١.٢.٣.٤', 'non-ASCII digits'],
    ['1e2.0.0.1', 'exponent'],
    ['', 'empty'],
    ['::1', 'IPv6'],
  ])('rejects %j (%s)', (text) => {
    expect(parseIPv4(text)).toBeNull();
  });
});

describe('parseIPv6 and formatAddress', () => {
  it.each([
    ['::', '::'],
    ['::1', '::1'],
    ['1::', '1::'],
    ['0:0:0:0:0:0:0:0', '::'],
    ['0:0:0:0:0:0:0:1', '::1'],
    ['2001:DB8::1', '2001:db8::1'],
    ['2001:0db8:0000:0000:0000:0000:0000:0001', '2001:db8::1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['1:0:0:2:0:0:0:3', '1:0:0:2::3'],
    ['1:0:0:0:2:0:0:3', '1::2:0:0:3'],
    ['1:0:1:0:1:0:1:0', '1:0:1:0:1:0:1:0'],
    ['1:2:3:4:5:6:7::', '1:2:3:4:5:6:7:0'],
    ['::2:3:4:5:6:7:8', '0:2:3:4:5:6:7:8'],
    ['1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8'],
    ['ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff'],
    ['fe80::1', 'fe80::1'],
    ['FF02::1', 'ff02::1'],
    ['::ffff:127.0.0.1', '::ffff:127.0.0.1'],
    ['::ffff:7f00:1', '::ffff:127.0.0.1'],
    ['::FFFF:7F00:0001', '::ffff:127.0.0.1'],
    ['0:0:0:0:0:ffff:169.254.169.254', '::ffff:169.254.169.254'],
    ['64:ff9b::127.0.0.1', '64:ff9b::7f00:1'],
    ['64:ff9b::7f00:1', '64:ff9b::7f00:1'],
    ['2002:7f00:1::', '2002:7f00:1::'],
    ['::127.0.0.1', '::7f00:1'],
    ['1:2:3:4:5:6:1.2.3.4', '1:2:3:4:5:6:102:304'],
    ['0000:0000:0000:0000:0000:ffff:255.255.255.255', '::ffff:255.255.255.255'],
  ])('parses %s as %s', (text, canonical) => {
    const value = parseIPv6(text);
    expect(value).not.toBeNull();
    expect(formatAddress({ version: 6, value: value! })).toBe(canonical);
    expect(parseIPv6(canonical)).toBe(value);
  });

  it.each([
    ['[::1]', 'brackets belong to URLs'],
    ['fe80::1%eth0', 'zone id'],
    ['fe80::1%25eth0', 'percent-encoded zone id'],
    [':::', 'triple colon'],
    ['1:::2', 'triple colon inside'],
    ['1::2::3', 'two compressions'],
    [':1', 'single leading colon'],
    ['1:', 'single trailing colon'],
    [':1:2:3:4:5:6:7', 'leading colon, seven groups'],
    ['1:2:3:4:5:6:7', 'seven groups'],
    ['1:2:3:4:5:6:7:8:9', 'nine groups'],
    ['1:2:3:4:5:6:7:8::', 'compression with eight groups'],
    ['::1:2:3:4:5:6:7:8', 'compression with eight groups (leading)'],
    ['1:2:3:4::5:6:7:8', 'compression with eight groups (middle)'],
    ['12345::', 'five hex digits'],
    ['g::1', 'not hex'],
    ['::ffff:127.1', 'short IPv4 tail'],
    ['::ffff:0177.0.0.1', 'octal IPv4 tail'],
    ['::ffff:1.2.3.4.5', 'five-part IPv4 tail'],
    ['::1.2.3.4:5', 'IPv4 not last'],
    ['1.2.3.4::', 'IPv4 before the compression'],
    ['1:2:3:4:5:6:7:1.2.3.4', 'nine groups with an IPv4 tail'],
    ['0x1::', 'hex prefix'],
    [' ::1', 'space'],
    ['', 'empty'],
    [':', 'colon'],
    ['127.0.0.1', 'IPv4'],
  ])('rejects %j (%s)', (text) => {
    expect(parseIPv6(text)).toBeNull();
  });

  it('round-trips random addresses through their canonical text', () => {
    const random = randomBits(42);
    for (let i = 0; i < 500; i++) {
      // Bias towards zero runs so that compression is exercised.
      const value = random(128) & random(128) & random(128);
      const text = formatAddress({ version: 6, value });
      expect(parseIPv6(text), text).toBe(value);
      const v4 = random(32);
      expect(BigInt(parseIPv4(formatAddress({ version: 4, value: v4 }))!)).toBe(v4);
    }
  });
});

describe('parseCidr', () => {
  it.each([
    ['10.0.0.0/8', '10.0.0.0/8', 8],
    ['10.1.2.3/8', '10.0.0.0/8', 8],
    ['0.0.0.0/0', '0.0.0.0/0', 0],
    ['1.2.3.4/32', '1.2.3.4/32', 32],
    ['127.0.0.0/30', '127.0.0.0/30', 30],
    ['::/0', '::/0', 0],
    ['::1/128', '::1/128', 128],
    ['2001:db8::1/32', '2001:db8::/32', 32],
    ['fe80::1:2:3:4/64', 'fe80::/64', 64],
    ['::ffff:127.0.0.1/104', '::ffff:127.0.0.0/104', 104],
  ])('parses %s as %s (host bits normalized away)', (text, canonical, prefix) => {
    const parsed = parseCidr(text);
    expect(parsed?.prefix).toBe(prefix);
    expect(formatCidr(parsed!)).toBe(canonical);
  });

  it.each([
    '10.0.0.0/33',
    '::/129',
    '10.0.0.0/',
    '10.0.0.0/08',
    '10.0.0.0/-1',
    '10.0.0.0/+8',
    '10.0.0.0/8.0',
    '10.0.0.0',
    '10/8',
    '127.1/8',
    '0x7f.0.0.0/8',
    '10.0.0.0/8/8',
    '10.0.0.0 /8',
    '[::1]/128',
    'fe80::%eth0/64',
    '/8',
    'example.com/24',
  ])('rejects %j', (text) => {
    expect(parseCidr(text)).toBeNull();
  });

  it('takes a bare address as a single-address block only in parseCidrOrAddress', () => {
    expect(parseCidr('127.0.0.1')).toBeNull();
    expect(formatCidr(parseCidrOrAddress('127.0.0.1')!)).toBe('127.0.0.1/32');
    expect(formatCidr(parseCidrOrAddress('::1')!)).toBe('::1/128');
    expect(formatCidr(parseCidrOrAddress('10.0.0.0/8')!)).toBe('10.0.0.0/8');
    expect(parseCidrOrAddress('127.1')).toBeNull();
  });
});

describe('CIDR arithmetic', () => {
  it.each([
    ['0.0.0.0/0', 1n << 32n],
    ['10.0.0.0/8', 1n << 24n],
    ['127.0.0.0/30', 4n],
    ['1.2.3.4/32', 1n],
    ['::/0', 1n << 128n],
    ['2001:db8::/32', 1n << 96n],
    ['::1/128', 1n],
  ])('%s holds %s addresses', (text, size) => {
    expect(cidrSize(cidr(text))).toBe(size);
  });

  it('tests membership by version and prefix', () => {
    expect(cidrContains(cidr('10.0.0.0/8'), ip('10.255.255.255'))).toBe(true);
    expect(cidrContains(cidr('10.0.0.0/8'), ip('11.0.0.0'))).toBe(false);
    expect(cidrContains(cidr('0.0.0.0/0'), ip('::1'))).toBe(false);
    expect(cidrContains(cidr('::/0'), ip('127.0.0.1'))).toBe(false);
    expect(cidrContains(cidr('::/0'), ip('::ffff:127.0.0.1'))).toBe(true);
    expect(cidrContains(cidr('127.0.0.1/32'), ip('127.0.0.1'))).toBe(true);
    expect(cidrContains(cidr('127.0.0.1/32'), ip('127.0.0.2'))).toBe(false);
    expect(cidrContainsCidr(cidr('10.0.0.0/8'), cidr('10.1.0.0/16'))).toBe(true);
    expect(cidrContainsCidr(cidr('10.1.0.0/16'), cidr('10.0.0.0/8'))).toBe(false);
    expect(cidrOverlaps(cidr('10.1.0.0/16'), cidr('10.0.0.0/8'))).toBe(true);
    expect(cidrOverlaps(cidr('10.0.0.0/8'), cidr('11.0.0.0/8'))).toBe(false);
  });

  it('gives bounds and halves', () => {
    const { first, last } = cidrBounds(cidr('192.168.0.0/16'));
    expect(formatAddress(first)).toBe('192.168.0.0');
    expect(formatAddress(last)).toBe('192.168.255.255');
    expect(splitCidr(cidr('10.0.0.0/8')).map(formatCidr)).toEqual(['10.0.0.0/9', '10.128.0.0/9']);
    expect(splitCidr(cidr('::/0')).map(formatCidr)).toEqual(['::/1', '8000::/1']);
    expect(() => splitCidr(cidr('1.2.3.4/32'))).toThrow();
  });
});

describe('classifyAddress', () => {
  const table: [string, AddressClass][] = [
    // IPv4
    ['0.0.0.0', 'unspecified'],
    ['0.1.2.3', 'unspecified'],
    ['0.255.255.255', 'unspecified'],
    ['10.0.0.1', 'private'],
    ['10.255.255.255', 'private'],
    ['100.63.255.255', 'public'],
    ['100.64.0.1', 'shared'],
    ['100.100.100.200', 'shared'],
    ['100.127.255.255', 'shared'],
    ['100.128.0.0', 'public'],
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['169.254.0.1', 'link_local'],
    ['169.254.169.254', 'link_local'],
    ['172.15.255.255', 'public'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['172.32.0.0', 'public'],
    ['192.0.0.8', 'reserved'],
    ['192.0.2.1', 'documentation'],
    ['192.88.99.1', 'reserved'],
    ['192.168.1.1', 'private'],
    ['198.18.0.1', 'benchmarking'],
    ['198.19.255.255', 'benchmarking'],
    ['198.20.0.0', 'public'],
    ['198.51.100.7', 'documentation'],
    ['203.0.113.9', 'documentation'],
    ['224.0.0.1', 'multicast'],
    ['239.255.255.250', 'multicast'],
    ['240.0.0.1', 'reserved'],
    ['255.255.255.254', 'reserved'],
    ['255.255.255.255', 'broadcast'],
    ['8.8.8.8', 'public'],
    ['1.1.1.1', 'public'],
    // IPv6
    ['::', 'unspecified'],
    ['::1', 'loopback'],
    ['fc00::1', 'private'],
    ['fd00:ec2::254', 'private'],
    ['fe80::1', 'link_local'],
    ['febf:ffff::1', 'link_local'],
    ['fec0::1', 'reserved'],
    ['ff02::1', 'multicast'],
    ['ff0e::1', 'multicast'],
    ['2001:db8::1', 'documentation'],
    ['3fff::1', 'documentation'],
    ['100::1', 'reserved'],
    ['2001::1', 'reserved'],
    ['2001:0:4136:e378:8000:63bf:3fff:fdd2', 'reserved'],
    ['2001:1ff:ffff::1', 'reserved'],
    ['2001:2::1', 'benchmarking'],
    ['2001:200::1', 'public'],
    ['2606:4700:4700::1111', 'public'],
    ['2a00:1450::1', 'public'],
    ['4000::1', 'reserved'],
    ['1::', 'reserved'],
    ['::ffff:0:0:1', 'reserved'],
    ['64:ff9b:1::1', 'private'],
    // IPv6 embedding IPv4: classified by the IPv4 address
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['::ffff:169.254.169.254', 'link_local'],
    ['::ffff:10.0.0.1', 'private'],
    ['::ffff:0.0.0.0', 'unspecified'],
    ['::ffff:255.255.255.255', 'broadcast'],
    ['::ffff:8.8.8.8', 'public'],
    ['64:ff9b::7f00:1', 'loopback'],
    ['64:ff9b::169.254.169.254', 'link_local'],
    ['64:ff9b::808:808', 'public'],
    ['2002:7f00:1::', 'loopback'],
    ['2002:a9fe:a9fe::1', 'link_local'],
    ['2002:c000:201::', 'documentation'],
    ['2002:808:808::1', 'public'],
    ['::127.0.0.1', 'loopback'],
    ['::10.0.0.1', 'private'],
    ['::2', 'unspecified'],
    ['::8.8.8.8', 'public'],
  ];

  it.each(table)('%s is %s', (text, expected) => {
    expect(classifyAddress(ip(text))).toBe(expected);
  });

  it('covers every class', () => {
    const seen = new Set(table.map(([, c]) => c));
    expect([...seen].sort()).toEqual([...ADDRESS_CLASSES].sort());
  });

  it('explains which entry decided, and the IPv4 address an IPv6 address carries', () => {
    expect(explainAddress(ip('169.254.169.254'))).toMatchObject({ class: 'link_local', block: '169.254.0.0/16' });
    const mapped = explainAddress(ip('::ffff:127.0.0.1'));
    expect(mapped).toMatchObject({ class: 'loopback', block: '127.0.0.0/8' });
    expect(formatAddress(mapped.embeddedIPv4!)).toBe('127.0.0.1');
    expect(formatAddress(explainAddress(ip('2002:7f00:1::')).embeddedIPv4!)).toBe('127.0.0.1');
    expect(explainAddress(ip('::1')).embeddedIPv4).toBeUndefined();
  });

  it('keeps its table in canonical form', () => {
    for (const block of ADDRESS_BLOCKS) expect(parseCidr(formatCidr(block.cidr))).toEqual(block.cidr);
  });
});
