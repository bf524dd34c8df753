/**
 * How the composed scan behaves around its engines, with nmap replaced by a stand-in
 * that prints real nmap XML (fixtures/, recorded from real runs; a few variants are
 * derived from them by editing one element, as noted) — so each case is exact and
 * fast: services nmap could not identify, URL targets, engines that fail, time out or
 * return bad findings, unreachable targets, a discovery that timed out, an NSE run that
 * failed. Nothing here opens a network connection except the fake engines' own.
 */
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ScanTimeoutError, TargetUnreachableError } from '../../../scanners/shared/errors.js';
import type { ScanJobInput, ScanTarget } from '../../../scanners/shared/scanner.js';
import type { VulnEngines } from '../../../scanners/vuln/engines.js';
import { createRunnerWith } from '../../../scanners/vuln/vuln.scanner.js';
import { VulnScanResultSchema } from '../../../scanners/vuln/vulnResultSchema.js';
import { fakeEngines } from './support/fakeEngines.js';

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');
const DISCOVERY = fixture('discovery-loopback-services.xml');
const SERVICES = fixture('services-nse-loopback.xml');
const TLS_PORT = 43721;
const WEB_PORT = 35367;

/** The discovery fixture with the TLS service unidentified, as nmap leaves a service it cannot probe. */
const DISCOVERY_UNKNOWN_TLS = DISCOVERY.replace(
  /<service name="imap" product="Dovecot imapd" tunnel="ssl" method="probed" conf="10"><cpe>cpe:\/a:dovecot:dovecot<\/cpe><\/service>/,
  '<service name="unknown" method="table" conf="3"/>',
);
/** Every port filtered: nothing answered. */
const DISCOVERY_FILTERED = DISCOVERY.replace(
  /<ports>[\s\S]*<\/ports>/,
  '<ports><extraports state="filtered" count="5"><extrareasons reason="no-response" count="5"/></extraports></ports>',
);
/** nmap gave up on the host (--host-timeout): no ports. */
const DISCOVERY_TIMED_OUT = DISCOVERY.replace(
  /<host starttime="(\d+)" endtime="(\d+)">/,
  '<host starttime="$1" endtime="$2" timedout="true">',
).replace(/<ports>[\s\S]*<\/ports>/, '');

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'secably-fake-nmap-'));
  expect(DISCOVERY_UNKNOWN_TLS).not.toBe(DISCOVERY);
  expect(DISCOVERY_FILTERED).not.toBe(DISCOVERY);
  expect(DISCOVERY_TIMED_OUT).toContain('timedout="true"');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let counter = 0;
/** An executable that answers like nmap: `discovery` for the discovery run, `services` for the NSE run. */
function fakeNmap(discovery: string, services: string | { exitCode: number }): string {
  counter += 1;
  const discoveryFile = join(dir, `discovery-${counter}.xml`);
  writeFileSync(discoveryFile, discovery);
  let servicesCommand: string;
  if (typeof services === 'string') {
    const servicesFile = join(dir, `services-${counter}.xml`);
    writeFileSync(servicesFile, services);
    servicesCommand = `cat '${servicesFile}'`;
  } else {
    servicesCommand = `echo 'nmap: something went wrong' >&2; exit ${services.exitCode}`;
  }
  const script = join(dir, `nmap-${counter}`);
  writeFileSync(
    script,
    `#!/bin/sh\ncase " $* " in\n  *" --script banner "*) cat '${discoveryFile}' ;;\n  *) ${servicesCommand} ;;\nesac\n`,
  );
  chmodSync(script, 0o755);
  return script;
}

const hostTarget: ScanTarget = {
  id: 't1',
  value: 'shop.example.test',
  type: 'hostname',
  hostname: 'shop.example.test',
};

function job(overrides: Partial<ScanJobInput> = {}): ScanJobInput {
  return {
    host: '127.0.0.1',
    target: hostTarget,
    config: { scan_profile: 'full_and_fast', port_list: 'top_1000_tcp' },
    timeoutMs: 10 * 60_000,
    signal: new AbortController().signal,
    onProgress: () => undefined,
    scanId: 's1',
    targetValue: hostTarget.value,
    targetType: hostTarget.type,
    ...overrides,
  };
}

describe('the composed scan around its engines (nmap replaced by recorded output)', () => {
  it('asks the TLS engine for a handshake where nmap could not tell, and analyses the port when it speaks TLS', async () => {
    const engines = fakeEngines();
    const handshakes: number[] = [];
    const withTls: VulnEngines = {
      ...engines,
      speaksTls: async (address, port) => {
        handshakes.push(port);
        expect(address).toBe('127.0.0.1');
        return port === TLS_PORT;
      },
    };
    const run = createRunnerWith(withTls, { SECABLY_NMAP_PATH: fakeNmap(DISCOVERY_UNKNOWN_TLS, SERVICES) });
    const output = await run(job());
    expect(handshakes).toEqual([TLS_PORT]);
    expect(engines.calls.filter((c) => c.engine === 'tls').map((c) => c.port)).toEqual([TLS_PORT]);
    const result = VulnScanResultSchema.parse(output.scanResult);
    expect(result.services.find((s) => s.port === TLS_PORT)).toMatchObject({ service: 'unknown', tls: true });
    expect(result.engines.find((e) => e.name === 'tls')?.details).toMatchObject({ tls_ports: [TLS_PORT] });
  });

  it("a URL target: the web and template engines start at the URL's path on its port", async () => {
    const engines = fakeEngines();
    const paths: Array<string | undefined> = [];
    const recording: VulnEngines = {
      ...engines,
      scanWebApp: (input) => {
        paths.push(input.startPath);
        return engines.scanWebApp(input);
      },
      runTemplateScan: (input) => {
        paths.push(input.basePath);
        return engines.runTemplateScan(input);
      },
    };
    const target: ScanTarget = {
      id: 't2',
      value: `http://shop.example.test:${WEB_PORT}/app/`,
      type: 'url',
      hostname: 'shop.example.test',
      url: { scheme: 'http', port: WEB_PORT, path: '/app/' },
    };
    const run = createRunnerWith(recording, { SECABLY_NMAP_PATH: fakeNmap(DISCOVERY, SERVICES) });
    const output = await run(job({ target }));
    expect(paths).toEqual(['/app/', '/app/']);
    const web = output.findings.find((f) => f.engine === 'secably-web');
    expect(web?.location).toBe(`http://shop.example.test:${WEB_PORT}/app/`);
  });

  it('an engine that fails is recorded, and the scan goes on', async () => {
    const engines = fakeEngines();
    const failing: VulnEngines = {
      ...engines,
      analyzeTlsEndpoint: async () => {
        throw new Error('handshake engine crashed');
      },
    };
    const run = createRunnerWith(failing, { SECABLY_NMAP_PATH: fakeNmap(DISCOVERY, SERVICES) });
    const output = await run(job());
    const result = VulnScanResultSchema.parse(output.scanResult);
    const tls = result.engines.find((e) => e.name === 'tls');
    expect(tls).toMatchObject({ status: 'failed', findings: 0 });
    expect(tls?.endpoints).toEqual([
      expect.objectContaining({ port: TLS_PORT, status: 'failed', error: 'handshake engine crashed' }),
    ]);
    expect(result.phases.find((p) => p.name === 'tls')?.status).toBe('failed');
    // NSE's own finding stays (nothing to fold it into), and the web engines still ran.
    expect(output.findings.some((f) => f.rule_id === 'nse.ssl-dh-params')).toBe(true);
    expect(engines.calls.map((c) => c.engine)).toEqual(['web', 'templates']);
  });

  it('bad findings from an engine are dropped and counted; an address in a location becomes the name', async () => {
    const engines = fakeEngines();
    const sloppy: VulnEngines = {
      ...engines,
      runTemplateScan: async (input) => ({
        findings: [
          {
            name: 'Exposed .env',
            risk: 'high',
            description: 'd',
            solution: 's',
            location: `http://127.0.0.1:${input.origin.port}/.env`,
            rule_id: 'dotenv',
            engine: 'secably-templates',
          },
          { name: '', risk: 'high', description: '', solution: '', location: 'x', rule_id: 'bad', engine: 'e' },
          { risk: 'urgent' } as never,
        ],
        result: {},
      }),
    };
    const run = createRunnerWith(sloppy, { SECABLY_NMAP_PATH: fakeNmap(DISCOVERY, SERVICES) });
    const output = await run(job());
    const dotenv = output.findings.find((f) => f.rule_id === 'dotenv');
    expect(dotenv?.location).toBe(`http://shop.example.test:${WEB_PORT}/.env`);
    const result = VulnScanResultSchema.parse(output.scanResult);
    expect(result.engines.find((e) => e.name === 'templates')?.endpoints?.[0]).toMatchObject({
      status: 'completed',
      findings: 1,
      error: '2 finding(s) dropped: not in the shared finding shape',
    });
  });

  it('an engine that runs out of its share of time is stopped; the next phase still runs', async () => {
    const engines = fakeEngines({ hang: { engine: 'web', signal: 'honour' } });
    const run = createRunnerWith(engines, { SECABLY_NMAP_PATH: fakeNmap(DISCOVERY, SERVICES) });
    const output = await run(job({ timeoutMs: 15_000 }));
    const result = VulnScanResultSchema.parse(output.scanResult);
    expect(result.phases.find((p) => p.name === 'web')?.status).toBe('timed_out');
    expect(result.engines.find((e) => e.name === 'web')?.endpoints?.[0]).toMatchObject({ status: 'timed_out' });
    expect(engines.calls.find((c) => c.engine === 'web')?.signal.aborted).toBe(true);
    expect(engines.calls.filter((c) => c.engine === 'templates')).toHaveLength(1);
    expect(output.findings.some((f) => f.engine === 'secably-templates')).toBe(true);
  }, 90_000); // the scan's own budget is 15 s; the margin is for a loaded machine

  it('a failed NSE run is recorded and the engines still run', async () => {
    const engines = fakeEngines();
    const run = createRunnerWith(engines, { SECABLY_NMAP_PATH: fakeNmap(DISCOVERY, { exitCode: 1 }) });
    const output = await run(job());
    const result = VulnScanResultSchema.parse(output.scanResult);
    const nse = result.engines.find((e) => e.name === 'nmap-nse');
    expect(nse?.status).toBe('failed');
    expect(String(nse?.details?.error)).toMatch(/exited with code 1: nmap: something went wrong/);
    expect(output.findings.some((f) => f.engine === 'nmap-nse')).toBe(false);
    expect(engines.calls.map((c) => c.engine)).toEqual(['tls', 'web', 'templates']);
  });

  it('a target that answers on no port is unreachable (the scan fails with a reason)', async () => {
    const run = createRunnerWith(fakeEngines(), { SECABLY_NMAP_PATH: fakeNmap(DISCOVERY_FILTERED, SERVICES) });
    await expect(run(job())).rejects.toThrow(TargetUnreachableError);
    await expect(run(job())).rejects.toThrow(
      /answered on none of the top 1000 TCP ports scanned \(no port answered \(5 filtered\)\)/,
    );
  });

  it('a discovery nmap gave up on is a timeout', async () => {
    const run = createRunnerWith(fakeEngines(), { SECABLY_NMAP_PATH: fakeNmap(DISCOVERY_TIMED_OUT, SERVICES) });
    await expect(run(job())).rejects.toThrow(ScanTimeoutError);
  });

  it('discovery does not read script.db nor start a second nmap', async () => {
    const engines = fakeEngines();
    const run = createRunnerWith(engines, {
      SECABLY_NMAP_PATH: fakeNmap(DISCOVERY, { exitCode: 3 }),
      SECABLY_NMAP_SCRIPT_DB: '/nonexistent/script.db',
    });
    const output = await run(job({ config: { scan_profile: 'discovery', port_list: 'all_tcp' } }));
    const result = VulnScanResultSchema.parse(output.scanResult);
    expect(result.services).toHaveLength(5);
    expect(result.ports_scanned).toBe('1-65535');
    expect(engines.calls).toEqual([]);
  });

  it('a missing script.db fails the NSE phase only', async () => {
    const engines = fakeEngines();
    const run = createRunnerWith(engines, {
      SECABLY_NMAP_PATH: fakeNmap(DISCOVERY, SERVICES),
      SECABLY_NMAP_SCRIPT_DB: '/nonexistent/script.db',
    });
    const output = await run(job());
    const result = VulnScanResultSchema.parse(output.scanResult);
    expect(result.engines.find((e) => e.name === 'nmap-nse')).toMatchObject({ status: 'failed' });
    expect(engines.calls.map((c) => c.engine)).toEqual(['tls', 'web', 'templates']);
  });
});
