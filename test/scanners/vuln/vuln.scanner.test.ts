/**
 * The openvas runner end to end: real nmap, real NSE scripts, real services started by
 * this file on 127.0.0.1 (support/vulnServices.ts: anonymous FTP, SSH (dropbear, or a
 * banner), SMTP, a legacy TLS service, an insecure web app), and fake TLS, web and
 * template engines (support/fakeEngines.ts: the real ones are built elsewhere).
 *
 * Safety: every scan targets 127.0.0.1, and only the ports of the listeners this file
 * opens (the `ports` hook replaces port_list: other services listen on this machine's
 * loopback). The target is named `scanme.vuln.test` (never resolved): locations must
 * carry that name, never the address.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ScannerFinding } from '../../../domain/shared/finding.js';
import { ScanAbortedError } from '../../../scanners/shared/errors.js';
import type { ScanJobInput, ScanOutput, ScanProgress } from '../../../scanners/shared/scanner.js';
import { NSE_EXCLUDED_CATEGORIES, parseScriptDb } from '../../../scanners/vuln/nseScripts.js';
import { createRunnerWith } from '../../../scanners/vuln/vuln.scanner.js';
import { VulnScanResultSchema, type VulnScanResult } from '../../../scanners/vuln/vulnResultSchema.js';
import { waitFor } from '../../support/waitFor.js';
import { fakeEngines, type FakeEngines } from './support/fakeEngines.js';
import { startVulnServices, type VulnServices } from './support/vulnServices.js';

const nmapAvailable = spawnSync('nmap', ['--version'], { stdio: 'ignore' }).status === 0;
const SCRIPT_DB = '/usr/share/nmap/scripts/script.db';
const HOSTNAME = 'scanme.vuln.test';
const ADDRESS = '127.0.0.1';

interface Spawned {
  readonly pid: number;
  readonly args: readonly string[];
  /** /proc/<pid>/cmdline when we were told it started. */
  readonly cmdline: string[];
}

function cmdlineOf(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  } catch {
    return [];
  }
}

/** Running (not zombie) processes whose command line contains `marker`. */
function processesWith(marker: string): number[] {
  if (!existsSync('/proc/self')) return [];
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const cmdline = cmdlineOf(Number(entry)).join(' ');
    if (!cmdline.includes(marker) || !/\bnmap\b/.test(cmdline)) continue;
    try {
      const state = /^State:\s+(\S)/m.exec(readFileSync(`/proc/${entry}/status`, 'utf8'))?.[1];
      if (state !== 'Z') found.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

function job(
  config: Record<string, unknown>,
  signal: AbortSignal,
  progress: ScanProgress[] = [],
  timeoutMs = 20 * 60_000,
): ScanJobInput {
  return {
    host: ADDRESS,
    target: { id: 'target-1', value: HOSTNAME, type: 'hostname', hostname: HOSTNAME },
    config,
    timeoutMs,
    signal,
    onProgress: (p) => progress.push(p),
    scanId: 'scan-1',
    targetValue: HOSTNAME,
    targetType: 'hostname',
  };
}

const realScans = 'openvas scans of real local services (nmap, NSE) with fake engines';
describe.skipIf(!nmapAvailable)(nmapAvailable ? realScans : `${realScans} (skipped: nmap is not installed)`, () => {
  let services: VulnServices;
  let ports: number[];
  const portOf = (name: string) => services.all.find((s) => s.name === name)!.port;

  beforeAll(async () => {
    services = await startVulnServices();
    ports = services.all.map((s) => s.port);
  });

  afterAll(async () => {
    await services?.close();
  });

  describe('discovery', () => {
    let output: ScanOutput;
    let result: VulnScanResult;
    let engines: FakeEngines;
    const spawned: Spawned[] = [];
    const progress: ScanProgress[] = [];

    beforeAll(async () => {
      engines = fakeEngines();
      const run = createRunnerWith(
        engines,
        {},
        {
          ports: { kind: 'list', ports },
          onNmapSpawn: (pid, args) => spawned.push({ pid, args, cmdline: cmdlineOf(pid) }),
        },
      );
      output = await run(
        job({ scan_profile: 'discovery', port_list: 'top_1000_tcp' }, new AbortController().signal, progress),
      );
      result = VulnScanResultSchema.parse(output.scanResult);
    }, 180_000);

    it('lists every local service with the right service name, product, version and CPE', () => {
      const byPort = new Map(result.services.map((s) => [s.port, s]));
      expect(result.services.map((s) => s.port)).toEqual([...ports].sort((a, b) => a - b));
      for (const service of services.all) {
        const found = byPort.get(service.port);
        expect(service.expectedServices, `${service.name} on ${service.port}`).toContain(found?.service);
        expect(found?.host).toBe(HOSTNAME);
        expect(found?.protocol).toBe('tcp');
      }
      expect(byPort.get(portOf('ftp'))).toMatchObject({
        service: 'ftp',
        product: 'vsftpd',
        version: '3.0.3',
        cpe: ['cpe:/a:vsftpd:vsftpd:3.0.3'],
        banner: '220 (vsFTPd 3.0.3)',
        tls: false,
      });
      expect(byPort.get(portOf('smtp'))).toMatchObject({ service: 'smtp', product: 'Postfix smtpd' });
      expect(byPort.get(portOf('web'))).toMatchObject({
        service: 'http',
        product: 'Apache httpd',
        version: '2.4.49',
        cpe: ['cpe:/a:apache:http_server:2.4.49'],
      });
      expect(byPort.get(portOf('legacy-tls'))).toMatchObject({ tunnel: 'ssl', tls: true });
      const ssh = byPort.get(portOf('ssh'));
      expect(ssh?.service).toBe('ssh');
      expect(ssh?.product).toBe(services.ssh.kind === 'dropbear' ? 'Dropbear sshd' : 'OpenSSH');
    });

    it('reports reachability, and runs neither NSE nor any engine', () => {
      expect(result.host).toMatchObject({ hostname: HOSTNAME, reachable: true, open_port_count: 5 });
      expect(spawned).toHaveLength(1);
      expect(engines.calls).toEqual([]);
      expect(result.phases.map((p) => [p.name, p.status])).toEqual([['discovery', 'completed']]);
      expect(result.engines.map((e) => e.name)).toEqual(['nmap']);
    });

    it('the one nmap run is -sV with banners on exactly our ports, nothing else', () => {
      const [run] = spawned;
      expect(run?.args).toEqual(expect.arrayContaining(['-sT', '-sV', '-Pn', '-n', '--script', 'banner']));
      expect(run?.args.slice(-2)).toEqual(['--', ADDRESS]);
      expect(run?.args[run.args.indexOf('-p') + 1]).toBe([...ports].sort((a, b) => a - b).join(','));
      // What the kernel ran is that argv (behind the parent-death wrapper).
      expect(run?.cmdline.slice(-run.args.length)).toEqual(run?.args);
    });

    it('findings: nmap port findings at the target name only', () => {
      for (const finding of output.findings) {
        expect(() => ScannerFinding.parse(finding)).not.toThrow();
        expect(finding.engine).toBe('nmap');
        expect(finding.location.startsWith(`${HOSTNAME}:`)).toBe(true);
        expect(finding.location).not.toContain(ADDRESS);
      }
      expect(output.findings.filter((f) => f.rule_id === 'nmap.open-port')).toHaveLength(5);
    });

    it('progress goes through discovery to done', () => {
      expect(progress[0]).toEqual({ percent: 0, phase: 'discovery' });
      expect(progress.at(-1)).toEqual({ percent: 100, phase: 'done' });
      for (let i = 1; i < progress.length; i++)
        expect(progress[i]!.percent).toBeGreaterThanOrEqual(progress[i - 1]!.percent);
    });
  });

  describe('full_and_fast', () => {
    let output: ScanOutput;
    let result: VulnScanResult;
    let engines: FakeEngines;
    const spawned: Spawned[] = [];
    const progress: ScanProgress[] = [];
    const findingsBy = (engine: string) => output.findings.filter((f) => f.engine === engine);

    beforeAll(async () => {
      engines = fakeEngines();
      const run = createRunnerWith(
        engines,
        {},
        {
          ports: { kind: 'list', ports },
          onNmapSpawn: (pid, args) => spawned.push({ pid, args, cmdline: cmdlineOf(pid) }),
        },
      );
      output = await run(
        job({ scan_profile: 'full_and_fast', port_list: 'all_tcp' }, new AbortController().signal, progress),
      );
      result = VulnScanResultSchema.parse(output.scanResult);
    }, 600_000);

    it('reports the anonymous FTP login from NSE ftp-anon', () => {
      const [anon] = output.findings.filter((f) => f.rule_id === 'nse.ftp-anon');
      expect(anon).toMatchObject({
        engine: 'nmap-nse',
        location: `${HOSTNAME}:${portOf('ftp')}/tcp`,
        name: 'Anonymous FTP login allowed, with a writable directory',
        risk: 'high',
      });
    });

    it('reports the TLS weaknesses from our TLS engine, with NSE ssl-dh-params folded in as a source', () => {
      const tls = findingsBy('secably-tls');
      expect(tls.map((f) => f.rule_id).sort()).toEqual(['tls.protocol.tls1_0', 'tls.weak-dh']);
      const dh = tls.find((f) => f.rule_id === 'tls.weak-dh');
      expect(dh?.location).toBe(`${HOSTNAME}:${portOf('legacy-tls')}`);
      expect(dh?.sources).toEqual([{ engine: 'nmap-nse', rule_id: 'nse.ssl-dh-params' }]);
      expect(dh?.evidence).toContain('Also reported by nmap-nse (nse.ssl-dh-params)');
      expect(output.findings.filter((f) => f.rule_id === 'nse.ssl-dh-params')).toEqual([]);
      expect(result.findings_summary.merged).toBeGreaterThanOrEqual(1);
    });

    it('reports the web findings from the web and template engines, and NSE web findings', () => {
      const web = findingsBy('secably-web');
      expect(web.map((f) => f.rule_id).sort()).toEqual(['10010', '10038']);
      expect(web[0]?.location.startsWith(`http://${HOSTNAME}:${portOf('web')}/`)).toBe(true);
      // The cookie weakness NSE found too is one finding, from the web engine.
      expect(web.find((f) => f.rule_id === '10010')?.sources).toEqual([
        { engine: 'nmap-nse', rule_id: 'nse.http-cookie-flags' },
      ]);
      const git = findingsBy('secably-templates').find((f) => f.rule_id === 'git-config');
      expect(git?.sources).toEqual([{ engine: 'nmap-nse', rule_id: 'nse.http-git' }]);
      expect(git?.risk).toBe('high'); // NSE said high: the merged finding keeps the most severe
      const nse = findingsBy('nmap-nse').map((f) => f.rule_id);
      expect(nse).toEqual(expect.arrayContaining(['nse.ftp-anon', 'nse.http-vuln-cve2011-3192', 'nse.http-trace']));
      const range = output.findings.find((f) => f.rule_id === 'nse.http-vuln-cve2011-3192');
      expect(range?.cve).toEqual(['CVE-2011-3192']);
    });

    it('every finding names its engine and sits at the target name, never the address', () => {
      for (const finding of output.findings) {
        expect(() => ScannerFinding.parse(finding)).not.toThrow();
        expect(['nmap', 'nmap-nse', 'secably-tls', 'secably-web', 'secably-templates']).toContain(finding.engine);
        expect(finding.location).toContain(HOSTNAME);
        expect(finding.location).not.toContain(ADDRESS);
      }
    });

    it('the engines were asked about the right services only, at the checked address, speaking the name', () => {
      const tls = engines.calls.filter((c) => c.engine === 'tls');
      expect(tls.map((c) => [c.address, c.hostname, c.port])).toEqual([[ADDRESS, HOSTNAME, portOf('legacy-tls')]]);
      const web = engines.calls.filter((c) => c.engine === 'web');
      expect(web.map((c) => [c.address, c.hostname, c.port, c.scheme, c.mode])).toEqual([
        [ADDRESS, HOSTNAME, portOf('web'), 'http', 'baseline'],
      ]);
      const templates = engines.calls.filter((c) => c.engine === 'templates');
      expect(templates.map((c) => [c.port, c.mode])).toEqual([[portOf('web'), 'quick']]);
      for (const call of [...web, ...templates]) expect(call.budgetMs).toBeGreaterThan(0);
      // nmap identified every service: no handshake was needed to tell TLS apart.
      expect(engines.calls.filter((c) => c.engine === 'speaksTls')).toEqual([]);
    });

    it('never passes an excluded NSE category, nor a category name, to nmap (argv and /proc)', () => {
      expect(spawned).toHaveLength(2);
      const nse = spawned[1]!;
      const scriptList = nse.args[nse.args.indexOf('--script') + 1]!;
      const scripts = scriptList.split(',');
      const db = new Map(parseScriptDb(readFileSync(SCRIPT_DB, 'utf8')).map((e) => [e.name, e.categories]));
      const categoryNames = new Set([...db.values()].flat());
      expect(scripts.length).toBeGreaterThan(200);
      for (const script of scripts) {
        expect(categoryNames.has(script), `${script} is a category name`).toBe(false);
        expect(script.startsWith('+'), script).toBe(false);
        const categories = db.get(script);
        expect(categories, `${script} is in script.db`).toBeDefined();
        expect(
          categories!.filter((c) => (NSE_EXCLUDED_CATEGORIES as readonly string[]).includes(c)),
          script,
        ).toEqual([]);
      }
      expect(scripts).toEqual(expect.arrayContaining(['ftp-anon', 'ssl-dh-params', 'http-git']));
      for (const forbidden of ['vulners', 'http-enum', 'ftp-bounce', 'ssl-enum-ciphers', 'broadcast-ping']) {
        expect(scripts).not.toContain(forbidden);
      }
      // What the kernel ran: the same argv, one --script, no category anywhere.
      expect(nse.cmdline.slice(-nse.args.length)).toEqual(nse.args);
      expect(nse.cmdline.filter((a) => a === '--script')).toHaveLength(1);
      const scriptArgs = nse.args[nse.args.indexOf('--script-args') + 1]!;
      expect(scriptArgs).toContain('httpspider.withinhost=true');
      expect(scriptArgs).toContain(`http.host=${HOSTNAME}`);
      expect(scriptArgs).toContain('SecAbly-Vulnerability-Scanner');
      expect(scriptArgs).not.toContain('newtargets');
      // Only the open ports found by discovery.
      expect(nse.args[nse.args.indexOf('-p') + 1]).toBe([...ports].sort((a, b) => a - b).join(','));
    });

    it('the result has the inventory, per-engine summaries and phase timings, under 512 KiB', () => {
      expect(result.engine).toBe('composed');
      expect(result.phases.map((p) => p.name)).toEqual(['discovery', 'services', 'tls', 'web', 'templates']);
      for (const phase of result.phases) {
        expect(phase.status).toBe('completed');
        expect(phase.budget_ms).toBeGreaterThan(0);
      }
      expect(result.engines.map((e) => [e.name, e.status])).toEqual([
        ['nmap', 'completed'],
        ['nmap-nse', 'completed'],
        ['tls', 'completed'],
        ['web', 'completed'],
        ['templates', 'completed'],
      ]);
      expect(result.engines.find((e) => e.name === 'tls')?.finding_engines).toEqual(['secably-tls']);
      const web = result.services.find((s) => s.port === portOf('web'));
      expect(web?.http).toBe(true);
      expect(web?.scripts?.map((s) => s.id)).toEqual(expect.arrayContaining(['http-title']));
      expect(Buffer.byteLength(JSON.stringify(output.scanResult))).toBeLessThan(512 * 1024);
      expect(result.findings_summary.total).toBe(output.findings.length);
      expect(result.findings_summary.by_engine['secably-tls']).toBe(2);
    });

    it('progress moves through discovery, services, tls, web, templates, done', () => {
      const phases = progress.map((p) => p.phase).filter((p, i, all) => all.indexOf(p) === i);
      expect(phases).toEqual(['discovery', 'services', 'tls', 'web', 'templates', 'done']);
      for (let i = 1; i < progress.length; i++)
        expect(progress[i]!.percent).toBeGreaterThanOrEqual(progress[i - 1]!.percent);
    });
  });

  describe('cancel', () => {
    let quiet: Server;
    let quietPort: number;
    const sockets = new Set<Socket>();

    beforeAll(async () => {
      // Accepts and never answers: nmap's service detection keeps probing it for minutes.
      quiet = createServer((socket) => {
        sockets.add(socket);
        socket.on('error', () => undefined);
        socket.on('close', () => sockets.delete(socket));
      });
      quietPort = await new Promise<number>((resolve) =>
        quiet.listen(0, ADDRESS, () => resolve((quiet.address() as { port: number }).port)),
      );
    });

    afterAll(async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => quiet.close(() => resolve()));
    });

    it('mid-discovery: nmap is stopped at once and none is left running (/proc)', async () => {
      const controller = new AbortController();
      const spawned: Spawned[] = [];
      const run = createRunnerWith(
        fakeEngines(),
        {},
        {
          ports: { kind: 'list', ports: [portOf('ftp'), quietPort] },
          onNmapSpawn: (pid, args) => spawned.push({ pid, args, cmdline: cmdlineOf(pid) }),
        },
      );
      const scan = run(job({ scan_profile: 'full_and_fast', port_list: 'all_tcp' }, controller.signal));
      scan.catch(() => undefined);
      const marker = `${Math.min(portOf('ftp'), quietPort)},${Math.max(portOf('ftp'), quietPort)}`;
      await waitFor(() => processesWith(marker).length > 0, 30_000, 50);
      controller.abort();
      await expect(scan).rejects.toBeInstanceOf(ScanAbortedError);
      expect(spawned).toHaveLength(1);
      expect(existsSync(`/proc/${spawned[0]!.pid}`)).toBe(false);
      expect(processesWith(marker)).toEqual([]);
    }, 60_000);

    describe('mid-engine', () => {
      let dir: string;
      let scriptDb: string;

      beforeAll(() => {
        // A two-script index keeps the NSE phase short; the scan then reaches the web engine.
        dir = mkdtempSync(join(tmpdir(), 'secably-scriptdb-'));
        scriptDb = join(dir, 'script.db');
        writeFileSync(
          scriptDb,
          'Entry { filename = "ftp-anon.nse", categories = { "auth", "default", "safe", } }\n' +
            'Entry { filename = "http-title.nse", categories = { "default", "discovery", "safe", } }\n',
        );
      });
      afterAll(() => rmSync(dir, { recursive: true, force: true }));

      for (const behaviour of ['honour', 'ignore'] as const) {
        it(`an engine that ${behaviour === 'honour' ? 'stops on' : 'ignores'} its signal cannot hold the scan`, async () => {
          const controller = new AbortController();
          let webSignal: AbortSignal | undefined;
          const engines = fakeEngines({
            hang: { engine: 'web', signal: behaviour },
            onStart: (call) => {
              if (call.engine === 'web') webSignal = call.signal;
            },
          });
          const spawned: Spawned[] = [];
          const run = createRunnerWith(
            engines,
            { SECABLY_NMAP_SCRIPT_DB: scriptDb },
            {
              ports: { kind: 'list', ports: [portOf('ftp'), portOf('web')] },
              onNmapSpawn: (pid, args) => spawned.push({ pid, args, cmdline: cmdlineOf(pid) }),
            },
          );
          const scan = run(job({ scan_profile: 'full_and_fast', port_list: 'all_tcp' }, controller.signal));
          scan.catch(() => undefined);
          await waitFor(() => webSignal !== undefined, 120_000, 50);
          controller.abort();
          // Settles even when the engine never does (it is given a grace period, then left behind).
          await expect(scan).rejects.toBeInstanceOf(ScanAbortedError);
          // The engine's own signal aborted with the scan's.
          expect(webSignal?.aborted).toBe(true);
          expect(spawned).toHaveLength(2);
          for (const { pid } of spawned) expect(existsSync(`/proc/${pid}`)).toBe(false);
          expect(engines.calls.filter((c) => c.engine === 'templates')).toEqual([]);
        }, 180_000);
      }
    });
  });
});
