import { describe, expect, it } from 'vitest';
import {
  checkPortRange,
  NmapScanConfig,
  nmapArguments,
  portCount,
  type NmapScanConfigInput,
} from '../../../scanners/nmap/nmapConfig.js';

function issues(input: unknown): Array<[string, string]> {
  const parsed = NmapScanConfig.safeParse(input);
  expect(parsed.success).toBe(false);
  return parsed.success ? [] : parsed.error.issues.map((i) => [i.path.join('.'), i.message]);
}

const COMMON_TAIL = ['-Pn', '-n', '--max-retries', '2'];

describe('NmapScanConfig', () => {
  it('applies the defaults: quick, not aggressive, no port_range', () => {
    expect(NmapScanConfig.parse({})).toEqual({ scan_type: 'quick', aggressive: false });
    expect(NmapScanConfig.parse({}).port_range).toBeUndefined();
  });

  it('accepts the documented shape', () => {
    const input: NmapScanConfigInput = { scan_type: 'full', port_range: '1-1000', aggressive: false };
    expect(NmapScanConfig.parse(input)).toEqual({ scan_type: 'full', port_range: '1-1000', aggressive: false });
    expect(NmapScanConfig.parse({ scan_type: 'fast' }).scan_type).toBe('fast');
  });

  it('takes booleans as true/false or the strings "true"/"false", nothing else', () => {
    expect(NmapScanConfig.parse({ aggressive: true }).aggressive).toBe(true);
    expect(NmapScanConfig.parse({ aggressive: 'true' }).aggressive).toBe(true);
    expect(NmapScanConfig.parse({ aggressive: 'false' }).aggressive).toBe(false);
    expect(NmapScanConfig.parse({ aggressive: false }).aggressive).toBe(false);
    for (const bad of ['yes', 'TRUE', 'True', '1', '', ' true', 1, 0, null, [], {}]) {
      expect(issues({ aggressive: bad })).toEqual([['aggressive', 'must be true or false']]);
    }
  });

  it('rejects an unknown scan_type', () => {
    for (const bad of ['QUICK', 'slow', 'Full', '', 1, null, ['quick']]) {
      expect(issues({ scan_type: bad })).toEqual([['scan_type', 'scan_type must be one of quick, fast, full']]);
    }
  });

  it('rejects unknown keys and names them and the allowed ones', () => {
    expect(issues({ scan_type: 'quick', scripts: 'vuln' })).toEqual([
      ['', 'unknown scan_config field(s) "scripts"; nmap accepts scan_type, port_range, aggressive'],
    ]);
    const many = Object.fromEntries(Array.from({ length: 8 }, (_, i) => [`k${i}`, 1]));
    const [[, message] = ['', '']] = issues(many);
    expect(message).toContain('"k0", "k1", "k2", "k3", "k4" and 3 more');
    // A JSON body can carry an own "__proto__" key: it is an unknown key like any other.
    expect(issues(JSON.parse('{"__proto__": {"aggressive": true}}'))[0]?.[1]).toContain('"__proto__"');
  });

  it('rejects a scan_config that is not an object', () => {
    for (const bad of [null, 'quick', 42, []]) {
      expect(issues(bad)).toEqual([['', 'scan_config must be an object']]);
    }
  });

  it('treats a null or empty port_range as no range, and normalizes spaces around commas', () => {
    expect(NmapScanConfig.parse({ port_range: null }).port_range).toBeUndefined();
    expect(NmapScanConfig.parse({ port_range: '' }).port_range).toBeUndefined();
    expect(NmapScanConfig.parse({ port_range: '22 , 80,443 ,8000-8100' }).port_range).toBe('22,80,443,8000-8100');
  });

  it('accepts ports and ranges within 1-65535, up to 100 items', () => {
    for (const good of ['1', '65535', '1-65535', '80-80', '22,80,443', '1-1000,8080,8443']) {
      expect(NmapScanConfig.parse({ scan_type: 'full', port_range: good }).port_range).toBe(good);
    }
    const hundred = Array.from({ length: 100 }, (_, i) => String(i + 1)).join(',');
    expect(NmapScanConfig.parse({ port_range: hundred }).port_range).toBe(hundred);
  });

  it('rejects injection attempts and anything that is not a TCP port list', () => {
    const bad = [
      '-oN /tmp/x',
      '1-2 --script',
      '80;rm',
      '80;rm -rf /',
      '80|id',
      '$(id)',
      '`id`',
      '80&&id',
      '--',
      '-',
      '-80',
      '80-',
      '--script=vuln',
      '-iL /etc/passwd',
      'T:80',
      'U:53',
      'http',
      '80,',
      ',80',
      '80,,81',
      ' 80',
      '80 ',
      '1 -2',
      '1- 2',
      '1-2-3',
      '80\n',
      '80\t,81',
      '80\u00a0,81',
      '８０',
      '1e3',
      '0x50',
      '+80',
    ];
    for (const input of bad) {
      const result = NmapScanConfig.safeParse({ port_range: input });
      expect(result.success, `port_range ${JSON.stringify(input)} must be rejected`).toBe(false);
      if (!result.success) expect(result.error.issues[0]?.path).toEqual(['port_range']);
    }
  });

  it('rejects out-of-range and reversed ports with a message saying why', () => {
    expect(issues({ port_range: '0' })).toEqual([['port_range', 'port_range item "0": ports are 1-65535']]);
    expect(issues({ port_range: '70000' })).toEqual([['port_range', 'port_range item "70000": ports are 1-65535']]);
    expect(issues({ port_range: '65536' })[0]?.[1]).toContain('ports are 1-65535');
    expect(issues({ port_range: '0-5' })[0]?.[1]).toContain('ports are 1-65535');
    expect(issues({ port_range: '99999999' })[0]?.[1]).toContain('is not a port or a range');
    expect(issues({ port_range: '5-1' })).toEqual([
      ['port_range', 'port_range item "5-1": a range goes from low to high (a-b with a ≤ b)'],
    ]);
    expect(issues({ port_range: '080' })[0]?.[1]).toContain('no leading zeros');
    const tooMany = Array.from({ length: 101 }, (_, i) => String(i + 1)).join(',');
    expect(issues({ port_range: tooMany })).toEqual([
      ['port_range', 'port_range may list at most 100 ports or ranges'],
    ]);
    expect(issues({ port_range: '1,'.repeat(1500) + '1' })[0]?.[1]).toContain('too long');
    expect(issues({ port_range: 80 })[0]?.[1]).toContain('port_range must be a string');
    expect(issues({ port_range: ['80'] })[0]?.[1]).toContain('port_range must be a string');
  });

  it('reports every bad field at once', () => {
    expect(
      issues({ scan_type: 'x', aggressive: 'y', port_range: '-p-' })
        .map(([path]) => path)
        .sort(),
    ).toEqual(['aggressive', 'port_range', 'scan_type']);
  });

  it('checkPortRange is the same check, usable on its own', () => {
    expect(checkPortRange('22 ,80')).toEqual({ ok: true, value: '22,80' });
    expect(checkPortRange('80;rm').ok).toBe(false);
  });
});

describe('nmapArguments', () => {
  const parse = (input: NmapScanConfigInput) => NmapScanConfig.parse(input);

  it('quick: connect scan of the top 1000 ports, XML on stdout, target after --', () => {
    expect(nmapArguments(parse({}), '127.0.0.1', { rawSockets: false })).toEqual([
      '-sT',
      '--top-ports',
      '1000',
      ...COMMON_TAIL,
      '--host-timeout',
      '600s',
      '--stats-every',
      '1s',
      '-oX',
      '-',
      '--',
      '127.0.0.1',
    ]);
  });

  it('fast is the same scan as quick', () => {
    expect(nmapArguments(parse({ scan_type: 'fast' }), 'example.test', { rawSockets: false })).toEqual(
      nmapArguments(parse({ scan_type: 'quick' }), 'example.test', { rawSockets: false }),
    );
  });

  it('full, raw sockets, aggressive: SYN scan of every port with -sV (no -A, no scripts)', () => {
    const args = nmapArguments(parse({ scan_type: 'full', aggressive: 'true' }), 'scanme.test', { rawSockets: true });
    expect(args).toEqual([
      '-sS',
      '-sV',
      '-p',
      '1-65535',
      ...COMMON_TAIL,
      '--host-timeout',
      '3600s',
      '--stats-every',
      '1s',
      '-oX',
      '-',
      '--',
      'scanme.test',
    ]);
    for (const forbidden of ['-A', '-O', '-sC', '--script']) expect(args).not.toContain(forbidden);
  });

  it('an explicit port_range replaces the profile: exactly the range, for quick/fast (≤ 1,000 ports) and full', () => {
    for (const scan_type of ['quick', 'fast', 'full'] as const) {
      const args = nmapArguments(parse({ scan_type, port_range: '22 , 80,8000-8100' }), '10.0.0.0/30', {
        rawSockets: false,
      });
      expect(args.slice(0, 3)).toEqual(['-sT', '-p', '22,80,8000-8100']);
      expect(args).not.toContain('--top-ports');
      expect(args.slice(-2)).toEqual(['--', '10.0.0.0/30']);
    }
  });

  it('a quick/fast port_range of more than 1,000 ports is refused, pointing to full', () => {
    expect(portCount('1-1000')).toBe(1000);
    expect(portCount('1-600,500-1100,80')).toBe(1100);
    expect(NmapScanConfig.safeParse({ scan_type: 'quick', port_range: '1-1000' }).success).toBe(true);
    for (const scan_type of ['quick', 'fast'] as const) {
      const refused = NmapScanConfig.safeParse({ scan_type, port_range: '1-600,500-1100' });
      expect(refused.success).toBe(false);
      expect(refused.error?.issues[0]).toMatchObject({ path: ['port_range'] });
      expect(refused.error?.issues[0]?.message).toMatch(/at most 1000 ports.*1100.*"full"/);
    }
    expect(NmapScanConfig.safeParse({ scan_type: 'full', port_range: '1-65535' }).success).toBe(true);
    const forged = { scan_type: 'quick', aggressive: false, port_range: '1-2000' } as const;
    expect(() => nmapArguments(forged, '127.0.0.1', { rawSockets: false })).toThrow(/at most 1000/);
  });

  it('adds -6 for an IPv6 literal', () => {
    const args = nmapArguments(parse({}), '::1', { rawSockets: false });
    expect(args.slice(-3)).toEqual(['-6', '--', '::1']);
    expect(nmapArguments(parse({}), '127.0.0.1', { rawSockets: false })).not.toContain('-6');
  });

  it('takes a host timeout override, rounded up to seconds', () => {
    const args = nmapArguments(parse({}), '127.0.0.1', { rawSockets: false, hostTimeoutMs: 1500 });
    expect(args[args.indexOf('--host-timeout') + 1]).toBe('2s');
    expect(() => nmapArguments(parse({}), '127.0.0.1', { rawSockets: false, hostTimeoutMs: 0 })).toThrow(
      /hostTimeoutMs/,
    );
  });

  it('refuses an option-like, empty or spaced target even though targets are validated elsewhere', () => {
    for (const target of ['-oN', '--script=vuln', '-iL/etc/passwd', '', '127.0.0.1 -oN x']) {
      expect(() => nmapArguments(parse({}), target, { rawSockets: false })).toThrow(/refusing nmap target/);
    }
  });

  it('re-checks a port_range that did not come through the schema', () => {
    const forged = { scan_type: 'quick', aggressive: false, port_range: '80 --script vuln' } as const;
    expect(() => nmapArguments(forged, '127.0.0.1', { rawSockets: false })).toThrow(/port_range/);
  });
});
