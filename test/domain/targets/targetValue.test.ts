import { describe, expect, it } from 'vitest';
import { formatAddress, formatCidr, parseCidr } from '../../../domain/targets/ipAddress.js';
import {
  parseHostname,
  parseTargetValue,
  rangeSizeAllowed,
  TARGET_TYPES,
  targetTypeSchema,
  type ParsedTarget,
  type TargetType,
} from '../../../domain/targets/targetValue.js';

function parsed(raw: string, declared?: TargetType): ParsedTarget {
  const result = parseTargetValue(raw, declared);
  if (!result.ok) throw new Error(`expected ${JSON.stringify(raw)} to parse, got: ${result.error}`);
  return result.value;
}

function refusal(raw: string, declared?: TargetType): string {
  const result = parseTargetValue(raw, declared);
  if (result.ok) throw new Error(`expected ${JSON.stringify(raw)} to be refused, got ${result.value.normalized}`);
  return result.error;
}

describe('target types', () => {
  it('are ip, hostname, url and range', () => {
    expect(TARGET_TYPES).toEqual(['ip', 'hostname', 'url', 'range']);
    expect(targetTypeSchema.safeParse('url').success).toBe(true);
    expect(targetTypeSchema.safeParse('website').success).toBe(false);
  });

  it.each([
    ['10.0.0.0/8', 'range', '10.0.0.0/8'],
    ['2001:db8::/32', 'range', '2001:db8::/32'],
    ['10.0.0.1', 'ip', '10.0.0.1'],
    ['::1', 'ip', '::1'],
    ['http://example.com', 'url', 'http://example.com/'],
    ['https://example.com/login', 'url', 'https://example.com/login'],
    ['example.com', 'hostname', 'example.com'],
    ['localhost', 'hostname', 'localhost'],
  ] as const)('infers %s as %s', (raw, type, normalized) => {
    expect(parsed(raw)).toMatchObject({ type, normalized });
  });

  it.each([
    ['example.com', 'ip', 'target_value is not an IP address'],
    ['10.0.0.0/8', 'ip', "target_value is not an IP address (it is a CIDR range: use target_type 'range')"],
    ['10.0.0.1', 'hostname', "target_value is an IP address, not a hostname: use target_type 'ip'"],
    ['http://example.com/', 'hostname', "target_value is a URL, not a hostname: use target_type 'url'"],
    ['10.0.0.0/8', 'hostname', "target_value is a CIDR range, not a hostname: use target_type 'range'"],
    ['example.com', 'url', 'target_value is not a URL (expected http://… or https://…)'],
    ['10.0.0.1', 'url', 'target_value is not a URL (expected http://… or https://…)'],
    [
      '10.0.0.1',
      'range',
      "target_value is a single IP address, not a range: use target_type 'ip' (or a /32 or /128 block)",
    ],
    ['example.com', 'range', 'target_value is not a CIDR range (expected address/prefix, e.g. 10.0.0.0/28)'],
  ] as const)('refuses %s declared as %s', (raw, declared, error) => {
    expect(refusal(raw, declared)).toBe(error);
  });

  it.each([
    ['10.0.0.1', 'ip'],
    ['example.com', 'hostname'],
    ['https://example.com/', 'url'],
    ['10.0.0.0/24', 'range'],
  ] as const)('accepts %s declared as %s', (raw, declared) => {
    expect(parsed(raw, declared).type).toBe(declared);
  });

  it('trims and refuses empty or whitespace-only values', () => {
    expect(parsed('  example.com \n').normalized).toBe('example.com');
    expect(refusal('')).toBe('target_value is empty');
    expect(refusal('   ')).toBe('target_value is empty');
  });
});

describe('ip targets', () => {
  it.each([
    ['169.254.169.254', '169.254.169.254'],
    ['10.0.0.1', '10.0.0.1'],
    ['0.0.0.0', '0.0.0.0'],
    ['127.0.0.1', '127.0.0.1'],
    ['::1', '::1'],
    ['::ffff:127.0.0.1', '::ffff:127.0.0.1'],
    ['::ffff:7f00:1', '::ffff:127.0.0.1'],
    ['64:ff9b::7f00:1', '64:ff9b::7f00:1'],
    ['2002:7f00:1::', '2002:7f00:1::'],
    ['2001:DB8:0:0:0:0:0:1', '2001:db8::1'],
  ])('parses %s as %s (policy is separate)', (raw, normalized) => {
    const value = parsed(raw);
    expect(value).toMatchObject({ type: 'ip', normalized, host: normalized });
    expect(value.addresses.map(formatAddress)).toEqual([normalized]);
  });

  it.each([
    '127.1',
    '0177.0.0.1',
    '0x7f.0.0.1',
    '0x7f000001',
    '2130706433',
    '127.000.000.001',
    '127.0.0.1.',
    '10.0.0.0x1',
    '1.2.3',
  ])('refuses the obfuscated IPv4 form %s, both as an IP and as a hostname', (raw) => {
    expect(refusal(raw)).toMatch(/not a valid IP address or hostname/);
    expect(refusal(raw, 'ip')).toBe('target_value is not an IP address');
    expect(refusal(raw, 'hostname')).toMatch(/^target_value /);
    expect(refusal(`http://${raw}/`)).toMatch(/^target_value /);
  });

  it('refuses zone ids and brackets with a hint', () => {
    expect(refusal('fe80::1%eth0')).toBe('target_value is not an IP address (IPv6 zone identifiers are not supported)');
    expect(refusal('[::1]')).toBe(
      'target_value is an IPv6 address in brackets; give it without brackets (brackets belong in URLs)',
    );
    expect(refusal('1::2::3')).toBe('target_value is not an IP address');
  });
});

describe('hostname targets', () => {
  const label63 = 'a'.repeat(63);
  const label64 = 'a'.repeat(64);
  // 3 × (63 + 1) + 61 = 253 characters.
  const name253 = `${label63}.${label63}.${label63}.${'b'.repeat(57)}.com`;
  const name254 = `${name253.slice(0, -4)}x.com`;

  it('builds its length fixtures right', () => {
    expect(name253).toHaveLength(253);
    expect(name254).toHaveLength(254);
  });

  it.each([
    ['example.com', 'example.com'],
    ['EXAMPLE.com.', 'example.com'],
    ['Sub.Example.COM', 'sub.example.com'],
    ['localhost', 'localhost'],
    ['LOCALHOST.', 'localhost'],
    ['a-b.example', 'a-b.example'],
    ['1.2.3.com', '1.2.3.com'],
    ['0x7f.example', '0x7f.example'],
    ['xn--bcher-kva.example', 'xn--bcher-kva.example'],
    ['example.xn--p1ai', 'example.xn--p1ai'],
    ['127.0.0.1.nip.io', '127.0.0.1.nip.io'],
    [`${label63}.com`, `${label63}.com`],
    [name253, name253],
    [`${name253}.`, name253],
  ])('accepts %s as %s', (raw, normalized) => {
    expect(parsed(raw)).toEqual({ type: 'hostname', normalized, host: normalized, addresses: [] });
  });

  it.each([
    ['a-.com', /labels are letters, digits and hyphens/],
    ['-a.com', /labels are letters, digits and hyphens/],
    ['a_b.com', /labels are letters, digits and hyphens/],
    ['exa%6dple.com', /labels are letters, digits and hyphens/],
    [`${label64}.com`, /label longer than 63 characters/],
    [name254, /longer than 253 characters/],
    ['example..com', /empty label/],
    ['.example.com', /empty label/],
    ['example.com..', /empty label/],
    ['.', /empty hostname/],
    ['intranet', /fully qualified/],
    ['bücher.example', /punycode \(xn--…\)/],
    ['例え.jp', /punycode/],
    ['localhost:8080', /use a URL such as http:\/\/host:8080\//],
    ['example.com/path', /use a URL such as https:\/\/example.com\/path/],
    ['exa mple.com', /spaces or control characters/],
    ['example.com\u0000', /spaces or control characters/],
    ['example\u00a0.com', /spaces or control characters/],
  ])('refuses %j', (raw, error) => {
    expect(refusal(raw)).toMatch(error);
  });

  it('is exported on its own for other callers', () => {
    expect(parseHostname('Example.COM.')).toEqual({ ok: true, hostname: 'example.com' });
    expect(parseHostname('127.1').ok).toBe(false);
  });
});

describe('url targets', () => {
  it.each([
    ['http://example.com', 'http://example.com/', 'example.com', 80, '/'],
    ['HTTPS://Example.COM:443/Path?Q=1', 'https://example.com/Path?Q=1', 'example.com', 443, '/Path?Q=1'],
    ['http://example.com:80/', 'http://example.com/', 'example.com', 80, '/'],
    ['http://example.com:443/', 'http://example.com:443/', 'example.com', 443, '/'],
    ['https://example.com:80/', 'https://example.com:80/', 'example.com', 80, '/'],
    ['http://example.com:080/', 'http://example.com/', 'example.com', 80, '/'],
    ['http://example.com:8080', 'http://example.com:8080/', 'example.com', 8080, '/'],
    ['http://example.com:65535/', 'http://example.com:65535/', 'example.com', 65535, '/'],
    ['http://example.com:1/', 'http://example.com:1/', 'example.com', 1, '/'],
    ['http://example.com/a#section', 'http://example.com/a', 'example.com', 80, '/a'],
    ['http://example.com#top', 'http://example.com/', 'example.com', 80, '/'],
    ['http://example.com?x=1', 'http://example.com/?x=1', 'example.com', 80, '/?x=1'],
    ['http://example.com/a/./b/../c', 'http://example.com/a/c', 'example.com', 80, '/a/c'],
    ['http://example.com/caf\u00e9', 'http://example.com/caf%C3%A9', 'example.com', 80, '/caf%C3%A9'],
    [
      'http://example.com//other.example/x',
      'http://example.com//other.example/x',
      'example.com',
      80,
      '//other.example/x',
    ],
    ['http://example.com./', 'http://example.com/', 'example.com', 80, '/'],
    ['http://localhost:3000/health', 'http://localhost:3000/health', 'localhost', 3000, '/health'],
    ['http://127.0.0.1:8080/', 'http://127.0.0.1:8080/', '127.0.0.1', 8080, '/'],
    ['http://[::1]/', 'http://[::1]/', '::1', 80, '/'],
    ['http://[::1]:8080/x', 'http://[::1]:8080/x', '::1', 8080, '/x'],
    ['https://[2001:DB8:0::1]/', 'https://[2001:db8::1]/', '2001:db8::1', 443, '/'],
    ['http://[::ffff:7f00:1]/', 'http://[::ffff:127.0.0.1]/', '::ffff:127.0.0.1', 80, '/'],
  ])('parses %s', (raw, normalized, host, port, path) => {
    const value = parsed(raw);
    expect(value).toMatchObject({ type: 'url', normalized, host, url: { port, path } });
    expect(value.url?.scheme).toBe(normalized.startsWith('https') ? 'https' : 'http');
  });

  it('lists the literal address of an IP host, and none for a hostname', () => {
    expect(parsed('http://[::1]/').addresses.map(formatAddress)).toEqual(['::1']);
    expect(parsed('http://169.254.169.254/latest/meta-data/').addresses.map(formatAddress)).toEqual([
      '169.254.169.254',
    ]);
    expect(parsed('http://example.com/').addresses).toEqual([]);
  });

  it.each([
    ['http://user:pass@example.com', /credentials in target URLs are refused/],
    ['http://user@example.com/', /credentials/],
    ['http://@example.com/', /credentials/],
    ['http://example.com@127.0.0.1/', /credentials/],
    ['ftp://x', /scheme must be http or https/],
    ['file:///etc/passwd', /scheme must be http or https/],
    ['gopher://127.0.0.1:6379/_INFO', /scheme must be http or https/],
    ['javascript:alert(1)', /scheme must be http or https/],
    ['http://example.com:0', /port must be a number from 1 to 65535/],
    ['http://example.com:65536', /port must be a number from 1 to 65535/],
    ['http://example.com:/', /port must be a number from 1 to 65535/],
    ['http://example.com:8o/', /port must be a number from 1 to 65535/],
    ['http://example.com:-1/', /port must be a number from 1 to 65535/],
    ['http:///path', /URL has no host/],
    ['http://', /URL has no host/],
    ['http://:8080/', /URL has no host/],
    ['http:example.com', /expected http:\/\/host/],
    ['http:/example.com', /expected http:\/\/host/],
    ['http://exa mple.com', /spaces or control characters/],
    ['http://example.com/a\tb', /spaces or control characters/],
    ['http://example.com/\nHost: evil', /spaces or control characters/],
    ['http://0x7f000001/', /not a valid IP address or hostname/],
    ['http://2130706433/', /not a valid IP address or hostname/],
    ['http://127.1/', /not a valid IP address or hostname/],
    ['http://0177.0.0.1/', /not a valid IP address or hostname/],
    ['http://%31%32%37.0.0.1/', /not a valid hostname/],
    ['http://a-.com/', /not a valid hostname/],
    ['http://bücher.example/', /punycode/],
    ['http://intranet/', /fully qualified/],
    ['http://::1/', /must be in brackets/],
    ['http://[::1/', /unclosed \[/],
    ['http://[::1]x/', /unexpected characters after its IPv6 host/],
    ['http://[127.0.0.1]/', /not an IPv6 address/],
    ['http://[fe80::1%25eth0]/', /zone identifiers are not supported/],
    ['http://[example.com]/', /not an IPv6 address/],
    ['http://example.com\\@127.0.0.1/', /backslashes/],
    ['http:\\\\example.com/', /expected http:\/\/host/],
    [`http://example.com/${'a'.repeat(2048)}`, /longer than 2048 characters/],
  ])('refuses %j', (raw, error) => {
    expect(refusal(raw)).toMatch(error);
  });

  it('measures the 2048-character limit on the whole URL', () => {
    const base = 'http://example.com/';
    expect(parsed(`${base}${'a'.repeat(2048 - base.length)}`).normalized).toHaveLength(2048);
    expect(refusal(`${base}${'a'.repeat(2049 - base.length)}`)).toMatch(/longer than 2048/);
  });
});

describe('range targets', () => {
  it.each([
    ['10.0.0.0/8', '10.0.0.0/8', 1n << 24n],
    ['10.1.2.3/8', '10.0.0.0/8', 1n << 24n],
    ['127.0.0.0/30', '127.0.0.0/30', 4n],
    ['8.8.8.0/24', '8.8.8.0/24', 256n],
    ['0.0.0.0/0', '0.0.0.0/0', 1n << 32n],
    ['192.0.2.7/32', '192.0.2.7/32', 1n],
    ['2001:db8::/32', '2001:db8::/32', 1n << 96n],
    ['::1/128', '::1/128', 1n],
    ['FE80::1/64', 'fe80::/64', 1n << 64n],
  ])('parses %s as %s', (raw, normalized, size) => {
    const value = parsed(raw);
    expect(value).toMatchObject({ type: 'range', normalized, host: normalized, addresses: [] });
    expect(formatCidr(value.cidr!)).toBe(normalized);
    expect(rangeSizeAllowed(value.cidr!, size)).toBe(true);
    expect(rangeSizeAllowed(value.cidr!, size - 1n)).toBe(false);
  });

  it.each([
    ['10.0.0.1-10.0.0.20', /dash are not supported; give a CIDR block/],
    ['10.0.0.1-10.0.0.20', /dash are not supported/, 'range'],
    ['10.0.0.1-10.0.0.20', /dash are not supported/, 'hostname'],
    ['::1-::5', /dash are not supported/],
    ['fe80::1-fe80::5', /dash are not supported/],
    ['10.0.0.0/33', /prefix of 0-32 for IPv4 or 0-128 for IPv6/],
    ['fe80::/129', /prefix of 0-32 for IPv4 or 0-128 for IPv6/],
    ['10.0.0.0/', /not a CIDR range/],
    ['10.0.0.0/08', /not a CIDR range/],
    ['10/8', /not a CIDR range/, 'range'],
    ['127.1/8', /not a CIDR range/, 'range'],
  ] as const)('refuses %j', (raw, error, declared?: TargetType) => {
    expect(refusal(raw, declared)).toMatch(error);
  });
});

describe('rangeSizeAllowed', () => {
  it('compares the number of addresses with the limit', () => {
    expect(rangeSizeAllowed(parseCidr('10.0.0.0/24')!, 256n)).toBe(true);
    expect(rangeSizeAllowed(parseCidr('10.0.0.0/23')!, 256n)).toBe(false);
    expect(rangeSizeAllowed(parseCidr('::/0')!, 1n << 127n)).toBe(false);
  });
});
