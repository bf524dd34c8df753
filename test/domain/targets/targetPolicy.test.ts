import { describe, expect, it } from 'vitest';
import {
  ADDRESS_BLOCKS,
  formatCidr,
  hostCidr,
  parseCidr,
  parseIpAddress,
  type AddressClass,
  type IpAddress,
  type ParsedCidr,
} from '../../../domain/targets/ipAddress.js';
import { checkAddresses, checkRange, parseAllowList } from '../../../domain/targets/targetPolicy.js';
import { parseTargetValue } from '../../../domain/targets/targetValue.js';

// Inputs only: nothing in these tests touches the network.

function ip(text: string): IpAddress {
  const address = parseIpAddress(text);
  if (address === null) throw new Error(`test fixture is not an address: ${text}`);
  return address;
}

function cidr(text: string): ParsedCidr {
  const parsed = parseCidr(text);
  if (parsed === null) throw new Error(`test fixture is not a CIDR: ${text}`);
  return parsed;
}

function allowList(csv: string): ParsedCidr[] {
  const result = parseAllowList(csv);
  if (!result.ok) throw new Error(result.error);
  return result.cidrs;
}

const NONE: ParsedCidr[] = [];
const LOOPBACK = allowList('127.0.0.0/8,::1/128');

describe('checkAddresses', () => {
  it.each([
    ['169.254.169.254', 'link_local'],
    ['10.0.0.1', 'private'],
    ['172.16.5.4', 'private'],
    ['192.168.0.1', 'private'],
    ['100.64.0.1', 'shared'],
    ['100.100.100.200', 'shared'],
    ['127.0.0.1', 'loopback'],
    ['0.0.0.0', 'unspecified'],
    ['192.0.0.8', 'reserved'],
    ['192.0.2.1', 'documentation'],
    ['198.18.0.1', 'benchmarking'],
    ['224.0.0.251', 'multicast'],
    ['240.0.0.1', 'reserved'],
    ['255.255.255.255', 'broadcast'],
    ['::', 'unspecified'],
    ['::1', 'loopback'],
    ['fd00:ec2::254', 'private'],
    ['fe80::1', 'link_local'],
    ['ff02::1', 'multicast'],
    ['2001:db8::1', 'documentation'],
    ['100::1', 'reserved'],
    ['2001::1', 'reserved'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['::ffff:169.254.169.254', 'link_local'],
    ['64:ff9b::7f00:1', 'loopback'],
    ['64:ff9b::a9fe:a9fe', 'link_local'],
    ['2002:7f00:1::', 'loopback'],
    ['2002:a00:1::', 'private'],
    ['::127.0.0.1', 'loopback'],
  ] as [string, AddressClass][])('refuses %s (%s) by default', (text, addressClass) => {
    const result = checkAddresses([ip(text)], NONE);
    expect(result).toMatchObject({ ok: false, class: addressClass });
    if (!result.ok) expect(result.reason).toMatch(/is not allowed/);
  });

  it.each(['8.8.8.8', '1.1.1.1', '2606:4700:4700::1111', '::ffff:8.8.8.8', '64:ff9b::808:808', '2002:808:808::1'])(
    'accepts the public address %s',
    (text) => {
      expect(checkAddresses([ip(text)], NONE)).toEqual({ ok: true });
    },
  );

  it('names the refused address canonically and explains why', () => {
    expect(checkAddresses([ip('::ffff:7f00:1')], NONE)).toEqual({
      ok: false,
      address: '::ffff:127.0.0.1',
      class: 'loopback',
      reason:
        'scanning ::ffff:127.0.0.1 is not allowed: it is a loopback address (::ffff:0.0.0.0/96 → 127.0.0.0/8: IPv4-mapped (RFC 4291): loopback (RFC 1122))',
    });
    const metadata = checkAddresses([ip('169.254.169.254')], NONE);
    expect(metadata.ok === false && metadata.reason).toBe(
      'scanning 169.254.169.254 is not allowed: it is a link-local address (169.254.0.0/16: link local, incl. cloud metadata 169.254.169.254 (RFC 3927))',
    );
  });

  it('refuses the whole set when any one address is not public (DNS answers mixing public and private)', () => {
    const result = checkAddresses([ip('8.8.8.8'), ip('10.0.0.1'), ip('1.1.1.1')], NONE);
    expect(result).toMatchObject({ ok: false, address: '10.0.0.1', class: 'private' });
    expect(checkAddresses([ip('2606:4700:4700::1111'), ip('::1')], NONE)).toMatchObject({ ok: false, address: '::1' });
    expect(checkAddresses([ip('8.8.8.8'), ip('1.1.1.1')], NONE)).toEqual({ ok: true });
  });

  it('refuses an empty set: nothing was proven safe', () => {
    expect(checkAddresses([], NONE)).toMatchObject({ ok: false, address: '' });
  });

  it('lets allow-listed addresses through, and only those', () => {
    expect(checkAddresses([ip('127.0.0.1')], LOOPBACK)).toEqual({ ok: true });
    expect(checkAddresses([ip('127.255.0.9')], LOOPBACK)).toEqual({ ok: true });
    expect(checkAddresses([ip('::1')], LOOPBACK)).toEqual({ ok: true });
    expect(checkAddresses([ip('127.0.0.1'), ip('::1')], LOOPBACK)).toEqual({ ok: true });
    expect(checkAddresses([ip('127.0.0.1'), ip('10.0.0.1')], LOOPBACK)).toMatchObject({
      ok: false,
      address: '10.0.0.1',
    });
    expect(checkAddresses([ip('169.254.169.254')], LOOPBACK)).toMatchObject({ ok: false, class: 'link_local' });
    expect(checkAddresses([ip('::2')], LOOPBACK)).toMatchObject({ ok: false });
  });

  it('applies IPv4 entries to IPv4-mapped addresses only, not to other embeddings', () => {
    expect(checkAddresses([ip('::ffff:127.0.0.1')], LOOPBACK)).toEqual({ ok: true });
    expect(checkAddresses([ip('64:ff9b::7f00:1')], LOOPBACK)).toMatchObject({ ok: false, class: 'loopback' });
    expect(checkAddresses([ip('2002:7f00:1::')], LOOPBACK)).toMatchObject({ ok: false, class: 'loopback' });
    expect(checkAddresses([ip('64:ff9b::7f00:1')], allowList('64:ff9b::7f00:0/120'))).toEqual({ ok: true });
  });

  it('checks the addresses parsed from a target', () => {
    for (const raw of [
      'http://[::1]:8080/',
      'http://169.254.169.254/latest/meta-data/',
      '0.0.0.0',
      'http://[::ffff:10.0.0.1]/',
    ]) {
      const target = parseTargetValue(raw);
      if (!target.ok) throw new Error(target.error);
      expect(checkAddresses(target.value.addresses, NONE).ok, raw).toBe(false);
    }
    const loopbackUrl = parseTargetValue('http://[::1]:8080/');
    expect(loopbackUrl.ok && checkAddresses(loopbackUrl.value.addresses, LOOPBACK)).toEqual({ ok: true });
  });
});

describe('checkRange', () => {
  it.each([
    ['10.0.0.0/8', 'private'],
    ['10.0.0.0/30', 'private'],
    ['0.0.0.0/0', 'unspecified'],
    ['::/0', 'unspecified'],
    ['8.0.0.0/6', 'private'],
    ['127.0.0.0/30', 'loopback'],
    ['169.254.169.0/24', 'link_local'],
    ['100.64.0.0/16', 'shared'],
    ['192.0.0.0/16', 'reserved'],
    ['198.0.0.0/8', 'benchmarking'],
    ['224.0.0.0/3', 'multicast'],
    ['255.255.255.0/24', 'reserved'],
    ['255.255.255.255/32', 'broadcast'],
    ['2000::/3', 'reserved'],
    ['2001:db8::/48', 'documentation'],
    ['fc00::/7', 'private'],
    ['fe80::/64', 'link_local'],
    ['::ffff:0.0.0.0/96', 'unspecified'],
    ['::ffff:127.0.0.0/120', 'loopback'],
    ['::ffff:8.8.0.0/112', 'public'],
    ['64:ff9b::/96', 'unspecified'],
    ['64:ff9b::a00:0/104', 'private'],
    ['2002::/16', 'unspecified'],
    ['2002:a9fe::/32', 'link_local'],
    ['2002:808:808::/48', 'public'],
    ['2002:808:808:1::/64', 'public'],
  ] as [string, AddressClass | 'public'][])('judges %s by default (%s)', (text, expected) => {
    const result = checkRange(cidr(text), NONE);
    if (expected === 'public') expect(result).toEqual({ ok: true });
    else expect(result).toMatchObject({ ok: false, range: text, class: expected });
  });

  it.each(['8.8.8.0/24', '1.0.0.0/8', '8.8.8.8/32', '2606:4700::/32', '2a00::/12'])(
    'accepts the public range %s',
    (text) => {
      expect(checkRange(cidr(text), NONE)).toEqual({ ok: true });
    },
  );

  it('names the offending block inside a larger range', () => {
    expect(checkRange(cidr('172.0.0.0/8'), NONE)).toMatchObject({
      ok: false,
      range: '172.0.0.0/8',
      block: '172.16.0.0/12',
      class: 'private',
      reason:
        'scanning 172.0.0.0/8 is not allowed: it includes private addresses (172.16.0.0/12: private use (RFC 1918))',
    });
    expect(checkRange(cidr('2002:a9fe::/32'), NONE)).toMatchObject({
      block: '2002::/16 → 169.254.0.0/16',
      class: 'link_local',
    });
  });

  it('lets a non-public range through when the allow-list covers it', () => {
    expect(checkRange(cidr('127.0.0.0/30'), LOOPBACK)).toEqual({ ok: true });
    expect(checkRange(cidr('127.0.0.0/8'), LOOPBACK)).toEqual({ ok: true });
    expect(checkRange(cidr('::1/128'), LOOPBACK)).toEqual({ ok: true });
    expect(checkRange(cidr('::ffff:127.0.0.0/104'), LOOPBACK)).toEqual({ ok: true });
    expect(checkRange(cidr('126.0.0.0/7'), LOOPBACK)).toEqual({ ok: true });
    expect(checkRange(cidr('10.0.0.0/8'), LOOPBACK)).toMatchObject({ ok: false, class: 'private' });
    expect(checkRange(cidr('0.0.0.0/0'), LOOPBACK)).toMatchObject({ ok: false });
    expect(checkRange(cidr('::/120'), LOOPBACK)).toMatchObject({ ok: false, class: 'unspecified' });
    expect(checkRange(cidr('64:ff9b::7f00:0/120'), LOOPBACK)).toMatchObject({ ok: false, class: 'loopback' });
  });

  it('accepts a range whose non-public parts are covered by several allow-list entries together', () => {
    const halves = allowList('10.0.0.0/9,10.128.0.0/9');
    expect(checkRange(cidr('10.0.0.0/8'), halves)).toEqual({ ok: true });
    expect(checkRange(cidr('8.0.0.0/7'), halves)).toEqual({ ok: true });
    expect(checkRange(cidr('10.0.0.0/8'), allowList('10.0.0.0/9'))).toMatchObject({ ok: false, class: 'private' });
  });

  it('needs the allow-list to cover every non-public part', () => {
    expect(checkRange(cidr('0.0.0.0/0'), allowList('0.0.0.0/1'))).toMatchObject({ ok: false });
    expect(checkRange(cidr('0.0.0.0/0'), allowList('0.0.0.0/0'))).toEqual({ ok: true });
  });

  it('agrees with checkAddresses on every single address it is asked about', () => {
    const samples: string[] = [];
    for (const block of ADDRESS_BLOCKS) {
      const network = formatCidr(block.cidr).split('/')[0]!;
      samples.push(network);
    }
    samples.push('8.8.8.8', '::ffff:127.0.0.1', '64:ff9b::7f00:1', '2002:7f00:1::', '127.0.0.1', '::1', '2001:2::1');
    for (const allowed of [NONE, LOOPBACK]) {
      for (const text of samples) {
        const address = ip(text);
        expect(checkRange(hostCidr(address), allowed).ok, text).toBe(checkAddresses([address], allowed).ok);
      }
    }
  });
});

describe('parseAllowList (SECABLY_ALLOWED_TARGETS)', () => {
  it.each([
    ['', []],
    ['   ', []],
    ['127.0.0.0/8,::1/128', ['127.0.0.0/8', '::1/128']],
    ['127.0.0.1', ['127.0.0.1/32']],
    ['::1', ['::1/128']],
    [' 127.0.0.0/8 , ::1 ,', ['127.0.0.0/8', '::1/128']],
    ['10.1.2.3/8', ['10.0.0.0/8']],
    ['::ffff:127.0.0.1', ['::ffff:127.0.0.1/128']],
  ])('parses %j', (csv, expected) => {
    const result = parseAllowList(csv);
    expect(result.ok && result.cidrs.map(formatCidr)).toEqual(expected);
  });

  it.each([
    ['localhost', 1, 'localhost'],
    ['127.0.0.0/8,127.1', 2, '127.1'],
    ['127.0.0.0/33', 1, '127.0.0.0/33'],
    ['::1,10.0.0.0/8,example.com', 3, 'example.com'],
    ['0x7f000001', 1, '0x7f000001'],
    ['10.0.0.1-10.0.0.9', 1, '10.0.0.1-10.0.0.9'],
    ['[::1]', 1, '[::1]'],
    ['127.0.0.0/8;::1', 1, '127.0.0.0/8;::1'],
  ])('refuses %j, naming entry %i', (csv, position, entry) => {
    expect(parseAllowList(csv)).toEqual({
      ok: false,
      error: `SECABLY_ALLOWED_TARGETS entry ${position} (${JSON.stringify(entry)}) is not an IP address or CIDR block (e.g. 127.0.0.0/8, ::1)`,
    });
  });
});
