import { describe, expect, it } from 'vitest';
import type { ScanProgress } from '../../../scanners/shared/scanner.js';
import { vulnScanner } from '../../../scanners/vuln/vuln.plugin.js';
import { discoveryArguments, servicesArguments } from '../../../scanners/vuln/vulnNmap.js';
import { nmapTaskFraction, progressTracker } from '../../../scanners/vuln/vulnProgress.js';
import { describePorts, phaseBudgetMs, portArguments, vulnPlan } from '../../../scanners/vuln/vulnPlan.js';

describe('vulnPlan', () => {
  it('discovery: the port list, -sV, nothing after', () => {
    const plan = vulnPlan({ scan_profile: 'discovery', port_list: 'top_1000_tcp' });
    expect(plan).toMatchObject({
      ports: { kind: 'top', count: 1000 },
      versionAll: false,
      nse: null,
      tls: false,
      web: null,
      templates: null,
    });
    expect(plan.phases.map((p) => p.phase)).toEqual(['discovery']);
  });

  it('full_and_fast: NSE, TLS, web baseline, quick templates on the port list', () => {
    const plan = vulnPlan({ scan_profile: 'full_and_fast', port_list: 'all_tcp' });
    expect(plan).toMatchObject({
      ports: { kind: 'all' },
      versionAll: false,
      nse: 'full_and_fast',
      tls: true,
      web: 'baseline',
      templates: 'quick',
    });
    expect(plan.phases.map((p) => p.phase)).toEqual(['discovery', 'services', 'tls', 'web', 'templates']);
  });

  it('deep: every TCP port whatever port_list says, --version-all, full web and templates', () => {
    const plan = vulnPlan({ scan_profile: 'deep', port_list: 'top_1000_tcp' });
    expect(plan).toMatchObject({
      ports: { kind: 'all' },
      versionAll: true,
      nse: 'deep',
      web: 'full',
      templates: 'full',
    });
    expect(plan.portList).toBe('top_1000_tcp');
  });

  it('shares the remaining time by weight; unused time flows to later phases', () => {
    const plan = vulnPlan({ scan_profile: 'full_and_fast', port_list: 'all_tcp' });
    const total = 120 * 60_000;
    expect(phaseBudgetMs(plan, 'discovery', total)).toBe(total * 0.3);
    // Discovery took 10 of its 36 minutes: the services phase gets 30/70 of what is left.
    expect(phaseBudgetMs(plan, 'services', total - 10 * 60_000)).toBe(Math.floor((110 * 60_000 * 30) / 70));
    expect(phaseBudgetMs(plan, 'templates', 60_000)).toBe(60_000);
    expect(phaseBudgetMs(plan, 'tls', 0)).toBe(0);
    expect(phaseBudgetMs(plan, 'tls', 2_000)).toBe(2_000); // never more than is left
    expect(phaseBudgetMs(vulnPlan({ scan_profile: 'discovery', port_list: 'all_tcp' }), 'web', total)).toBe(0);
  });

  it('fits every profile in the plug-in timeout', () => {
    for (const scan_profile of ['discovery', 'full_and_fast', 'deep'] as const) {
      const plan = vulnPlan({ scan_profile, port_list: 'all_tcp' });
      const timeout = vulnScanner.timeoutMs({ scan_profile, port_list: 'all_tcp' });
      let remaining = timeout;
      let used = 0;
      for (const { phase } of plan.phases) {
        const budget = phaseBudgetMs(plan, phase, remaining);
        used += budget;
        remaining -= budget;
      }
      expect(used).toBeLessThanOrEqual(timeout);
    }
  });
});

describe('port arguments', () => {
  it('all, top N, or an exact list (sorted, each once)', () => {
    expect(portArguments({ kind: 'all' })).toEqual(['-p', '1-65535']);
    expect(portArguments({ kind: 'top', count: 1000 })).toEqual(['--top-ports', '1000']);
    expect(portArguments({ kind: 'list', ports: [443, 21, 443, 80] })).toEqual(['-p', '21,80,443']);
    expect(describePorts({ kind: 'top', count: 1000 })).toBe('top 1000');
    expect(() => portArguments({ kind: 'list', ports: [] })).toThrow();
    expect(() => portArguments({ kind: 'list', ports: [0] })).toThrow();
    expect(() => portArguments({ kind: 'list', ports: [70000] })).toThrow();
  });
});

describe('nmap argv', () => {
  it('discovery: connect scan, -sV, banners, no DNS, XML on stdout, the address after --', () => {
    expect(
      discoveryArguments({
        address: '203.0.113.7',
        ports: { kind: 'top', count: 1000 },
        versionAll: false,
        hostTimeoutMs: 600_000,
      }),
    ).toEqual([
      '-sT',
      '-sV',
      '--top-ports',
      '1000',
      '-Pn',
      '-n',
      '-T4',
      '--max-retries',
      '2',
      '--host-timeout',
      '600s',
      '--script',
      'banner',
      '--script-args',
      'banner.timeout=1s',
      '--script-timeout',
      '30s',
      '--stats-every',
      '2s',
      '-oX',
      '-',
      '--',
      '203.0.113.7',
    ]);
  });

  it('deep discovery adds --version-all; IPv6 adds -6', () => {
    const args = discoveryArguments({
      address: '2001:db8::1',
      ports: { kind: 'all' },
      versionAll: true,
      hostTimeoutMs: 1_000,
    });
    expect(args.slice(0, 5)).toEqual(['-sT', '-sV', '--version-all', '-p', '1-65535']);
    expect(args.slice(-3)).toEqual(['-6', '--', '2001:db8::1']);
  });

  it('services: explicit script names and the open ports only', () => {
    const args = servicesArguments({
      address: '203.0.113.7',
      openPorts: [443, 21],
      versionAll: false,
      scripts: ['ftp-anon', 'ssl-heartbleed'],
      scriptArgs: 'httpspider.withinhost=true',
      hostTimeoutMs: 60_000,
      scriptTimeoutMs: 30_000,
    });
    expect(args).toEqual([
      '-sT',
      '-sV',
      '-p',
      '21,443',
      '-Pn',
      '-n',
      '-T4',
      '--max-retries',
      '2',
      '--host-timeout',
      '60s',
      '--script',
      'ftp-anon,ssl-heartbleed',
      '--script-args',
      'httpspider.withinhost=true',
      '--script-timeout',
      '30s',
      '--stats-every',
      '2s',
      '-oX',
      '-',
      '--',
      '203.0.113.7',
    ]);
  });

  it('refuses what could smuggle an option or another target', () => {
    const base = { ports: { kind: 'all' as const }, versionAll: false, hostTimeoutMs: 1_000 };
    for (const address of ['-iL/etc/passwd', '10.0.0.1 10.0.0.2', '10.0.0.0/8', '10.0.0.1,10.0.0.2', '']) {
      expect(() => discoveryArguments({ ...base, address }), address).toThrow();
    }
    const services = {
      address: '10.0.0.1',
      openPorts: [80],
      versionAll: false,
      scriptArgs: '',
      hostTimeoutMs: 1_000,
      scriptTimeoutMs: 1_000,
    };
    expect(() => servicesArguments({ ...services, scripts: ['vuln'.toUpperCase()] })).toThrow();
    expect(() => servicesArguments({ ...services, scripts: ['+ftp-anon'] })).toThrow();
    expect(() => servicesArguments({ ...services, scripts: ['ftp-anon,intrusive'] })).toThrow();
    expect(() => servicesArguments({ ...services, scripts: [] })).toThrow();
  });
});

describe('progress', () => {
  it('moves through the phases, never back, and ends at 100 with done', () => {
    const seen: ScanProgress[] = [];
    const tracker = progressTracker(vulnPlan({ scan_profile: 'full_and_fast', port_list: 'all_tcp' }), (p) =>
      seen.push(p),
    );
    tracker.report('discovery', 0);
    tracker.report('discovery', 0.5);
    tracker.report('discovery', 0.2); // nmap tasks restart: never back (and nothing new to say)
    tracker.report('services', 0.5);
    tracker.report('tls', 1);
    tracker.report('web', 0.5);
    tracker.report('templates', 1);
    tracker.done();
    expect(seen.map((p) => p.phase)).toEqual(['discovery', 'discovery', 'services', 'tls', 'web', 'templates', 'done']);
    expect(seen.map((p) => p.percent)).toEqual([0, 15, 45, 70, 80, 99.9, 100]);
  });

  it("maps nmap's tasks onto a run", () => {
    expect(nmapTaskFraction('discovery', 'Connect Scan', 50)).toBeCloseTo(0.3);
    expect(nmapTaskFraction('discovery', 'Service scan', 100)).toBeCloseTo(0.9);
    expect(nmapTaskFraction('services', 'NSE', 50)).toBeCloseTo(0.65);
    expect(nmapTaskFraction('services', 'Ping Scan', 50)).toBeCloseTo(0.025);
    expect(nmapTaskFraction('discovery', 'Parallel DNS resolution of 1 host.', 50)).toBeNull();
  });
});
