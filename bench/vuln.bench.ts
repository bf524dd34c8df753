/**
 * Vulnerability scanner benchmark (issue 12):
 *
 * 1. `discovery` (our runner: nmap -sV + banners, parsing, inventory, findings) against
 *    nmap -sV run directly on the same services — wall-time ratio and how many services
 *    both name the same. Two direct baselines per round:
 *      plain    `nmap -sV -oX - <ports> 127.0.0.1` (what one would type; SYN scan as root)
 *      same     our discovery argv run directly (isolates what the runner adds)
 * 2. `full_and_fast` wall time broken down by phase (discovery, services/NSE, tls, web,
 *    templates), from the scan_result's phase timings. The TLS, web and template engines
 *    are the FAKES of test/scanners/vuln/support/fakeEngines.ts (answer at once): until
 *    the real engines are integrated, those phases measure only our orchestration.
 *
 *   npx tsx bench/vuln.bench.ts                 # defaults below
 *   npx tsx bench/vuln.bench.ts --rounds=5 --full-rounds=1 --netns=off
 *
 * Settings (`--<name>=value` or environment `BENCH_<NAME>`):
 *   rounds        discovery rounds, each: ours, plain, same (order rotating) (3)
 *   full-rounds   full_and_fast runs (1; each takes a minute or two)
 *   netns         auto | on | off. on: run in a private network namespace (`unshare --net`,
 *                 root), where the services listen on their usual ports (21, 22, 25, 80, 993)
 *                 and the scans use the real port_list top_1000_tcp / --top-ports 1000;
 *                 off: services on random loopback ports, every scan given exactly those
 *                 ports (other services on this machine's loopback stay out). auto: on when
 *                 possible.
 *   json          a file to write every figure to
 *
 * Only 127.0.0.1 is scanned (inside the namespace when netns is on), only the services
 * this bench starts; every loop is bounded; children are stopped by pid.
 */
import { spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseNmapXml, type NmapResult } from '../scanners/nmap/nmapParser.js';
import { runTool } from '../scanners/shared/childProcess.js';
import type { ScanJobInput } from '../scanners/shared/scanner.js';
import { createRunnerWith } from '../scanners/vuln/vuln.scanner.js';
import { discoveryArguments } from '../scanners/vuln/vulnNmap.js';
import type { PortSelection } from '../scanners/vuln/vulnPlan.js';
import type { VulnScanResult } from '../scanners/vuln/vulnResultSchema.js';
import { fakeEngines } from '../test/scanners/vuln/support/fakeEngines.js';
import {
  startVulnServices,
  type VulnServicePorts,
  type VulnServices,
} from '../test/scanners/vuln/support/vulnServices.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SCRIPT = fileURLToPath(import.meta.url);
const IN_NETNS_ENV = 'SECABLY_VULN_BENCH_IN_NETNS';

function setting(name: string, fallback: string): string {
  const flag = process.argv.find((a) => a.startsWith(`--${name}=`));
  if (flag) return flag.slice(name.length + 3);
  return process.env[`BENCH_${name.toUpperCase().replace(/-/g, '_')}`] ?? fallback;
}
function count(name: string, fallback: number, max: number): number {
  const value = Math.round(Number(setting(name, String(fallback))));
  if (!Number.isFinite(value) || value < 0 || value > max) throw new Error(`--${name} must be 0-${max}`);
  return value;
}

const S = {
  rounds: count('rounds', 3, 50),
  fullRounds: count('full-rounds', 1, 10),
  netns: setting('netns', 'auto'),
  json: setting('json', ''),
};
if (!['auto', 'on', 'off'].includes(S.netns)) throw new Error('--netns must be auto, on or off');

const ADDRESS = '127.0.0.1';
const STANDARD_PORTS: VulnServicePorts = { ftp: 21, ssh: 22, smtp: 25, web: 80, legacyTls: 993 };

function canUnshare(): boolean {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return false;
  return spawnSync('unshare', ['--net', '--', 'ip', 'link', 'set', 'lo', 'up'], { timeout: 10_000 }).status === 0;
}

function reexecInNetns(): Promise<number> {
  return new Promise((done) => {
    const child = spawn(
      'unshare',
      ['--net', '--', process.execPath, '--import', 'tsx', SCRIPT, ...process.argv.slice(2)],
      {
        cwd: ROOT,
        stdio: 'inherit',
        env: { ...process.env, [IN_NETNS_ENV]: '1' },
      },
    );
    const timer = setTimeout(() => child.kill('SIGKILL'), 60 * 60_000);
    const forward = () => child.kill('SIGTERM');
    process.on('SIGINT', forward);
    child.on('close', (code) => {
      clearTimeout(timer);
      process.off('SIGINT', forward);
      done(code ?? 1);
    });
  });
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};
const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

async function nmapDirect(args: string[]): Promise<{ ms: number; result: NmapResult }> {
  const started = performance.now();
  const run = await runTool({ command: 'nmap', args, toolName: 'nmap', timeoutMs: 15 * 60_000 });
  const ms = performance.now() - started;
  if (run.exitCode !== 0) throw new Error(`nmap exited with ${run.exitCode}: ${run.stderr.slice(-500)}`);
  return { ms, result: parseNmapXml(run.stdout.toString('utf8')) };
}

function job(config: Record<string, unknown>): ScanJobInput {
  return {
    host: ADDRESS,
    target: { id: 'bench', value: 'bench.vuln.test', type: 'hostname', hostname: 'bench.vuln.test' },
    config,
    timeoutMs: 60 * 60_000,
    signal: new AbortController().signal,
    onProgress: () => undefined,
    scanId: 'bench',
    targetValue: 'bench.vuln.test',
    targetType: 'hostname',
  };
}

function servicesOf(result: NmapResult): Map<number, string> {
  return new Map((result.hosts[0]?.open_ports ?? []).map((p) => [p.port, p.service]));
}

async function main(): Promise<void> {
  const inNetns = process.env[IN_NETNS_ENV] === '1';
  if (!inNetns && S.netns !== 'off' && (S.netns === 'on' || canUnshare())) {
    if (S.netns === 'on' && !canUnshare()) throw new Error('--netns=on needs root and unshare');
    process.exitCode = await reexecInNetns();
    return;
  }
  if (inNetns) spawnSync('ip', ['link', 'set', 'lo', 'up']);
  const services: VulnServices = await startVulnServices(inNetns ? STANDARD_PORTS : {});
  const ports = services.all.map((s) => s.port).sort((a, b) => a - b);
  // In our own namespace the real port list is scanned; on the shared loopback only our ports.
  const portHook: PortSelection | undefined = inNetns ? undefined : { kind: 'list', ports };
  const portArgs = inNetns ? ['--top-ports', '1000'] : ['-p', ports.join(',')];
  const portList = inNetns ? 'top_1000_tcp' : `exactly ${ports.join(',')}`;
  const figures: Record<string, unknown> = {
    netns: inNetns,
    ports: portList,
    services: services.all.map((s) => ({ name: s.name, port: s.port })),
    ssh: services.ssh.kind,
    nmap: spawnSync('nmap', ['--version']).stdout.toString().split('\n')[0],
    node: process.version,
    loadavg_start: loadavg(),
  };
  console.log(`vulnerability scanner benchmark — ${inNetns ? 'private network namespace' : 'shared loopback'}`);
  console.log(`services: ${services.all.map((s) => `${s.name}:${s.port}`).join(' ')} (ssh: ${services.ssh.kind})`);
  console.log(
    `ports scanned: ${portList}; load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}\n`,
  );

  try {
    // ------------------------------------------------------------ discovery
    const runner = createRunnerWith(fakeEngines(), {}, portHook ? { ports: portHook } : {});
    const sameArgs = discoveryArguments({
      address: ADDRESS,
      ports: portHook ?? { kind: 'top', count: 1000 },
      versionAll: false,
      hostTimeoutMs: 30 * 60_000,
    });
    const plainArgs = ['-sV', ...portArgs, '-oX', '-', ADDRESS];
    const rounds: Array<{
      ours: number;
      plain: number;
      same: number;
      agreed: number;
      total: number;
      differences: string[];
    }> = [];
    for (let round = 0; round < S.rounds; round++) {
      const order = ['ours', 'plain', 'same'].map((_, i, all) => all[(i + round) % all.length]!);
      const times: Record<string, number> = {};
      let ours: VulnScanResult | undefined;
      let plain: NmapResult | undefined;
      for (const which of order) {
        if (which === 'ours') {
          const started = performance.now();
          const output = await runner(job({ scan_profile: 'discovery', port_list: 'top_1000_tcp' }));
          times.ours = performance.now() - started;
          ours = output.scanResult as VulnScanResult;
        } else if (which === 'plain') {
          const run = await nmapDirect(plainArgs);
          times.plain = run.ms;
          plain = run.result;
        } else {
          times.same = (await nmapDirect(sameArgs)).ms;
        }
      }
      const direct = servicesOf(plain!);
      const differences: string[] = [];
      let agreed = 0;
      const allPorts = new Set([...direct.keys(), ...ours!.services.map((s) => s.port)]);
      for (const port of allPorts) {
        const mine = ours!.services.find((s) => s.port === port)?.service;
        if (mine !== undefined && mine === direct.get(port)) agreed += 1;
        else differences.push(`${port}: ours ${mine ?? '-'} / nmap ${direct.get(port) ?? '-'}`);
      }
      rounds.push({
        ours: times.ours!,
        plain: times.plain!,
        same: times.same!,
        agreed,
        total: allPorts.size,
        differences,
      });
      console.log(
        `discovery round ${round + 1}: ours ${seconds(times.ours!)}, nmap -sV ${seconds(times.plain!)} ` +
          `(ratio ${(times.ours! / times.plain!).toFixed(2)}), same argv ${seconds(times.same!)} ` +
          `(ratio ${(times.ours! / times.same!).toFixed(2)}); services agreed ${agreed}/${allPorts.size}` +
          (differences.length ? ` (${differences.join('; ')})` : ''),
      );
    }
    if (rounds.length > 0) {
      const ratioPlain = median(rounds.map((r) => r.ours / r.plain));
      const ratioSame = median(rounds.map((r) => r.ours / r.same));
      console.log(
        `\ndiscovery median: ours ${seconds(median(rounds.map((r) => r.ours)))}, nmap -sV ${seconds(median(rounds.map((r) => r.plain)))}, ` +
          `same argv ${seconds(median(rounds.map((r) => r.same)))}; ratio vs nmap -sV ${ratioPlain.toFixed(2)}, ` +
          `vs same argv ${ratioSame.toFixed(2)}\n`,
      );
      figures.discovery = { rounds, median_ratio_plain: ratioPlain, median_ratio_same: ratioSame };
    }

    // ------------------------------------------------------------ full_and_fast
    const full: Array<{ total: number; phases: Record<string, number>; findings: number; scripts: unknown }> = [];
    for (let round = 0; round < S.fullRounds; round++) {
      const started = performance.now();
      const output = await runner(job({ scan_profile: 'full_and_fast', port_list: 'top_1000_tcp' }));
      const total = performance.now() - started;
      const result = output.scanResult as VulnScanResult;
      const phases = Object.fromEntries(result.phases.map((p) => [p.name, p.duration_ms]));
      const scripts = result.engines.find((e) => e.name === 'nmap-nse')?.details?.scripts_selected;
      full.push({ total, phases, findings: output.findings.length, scripts });
      console.log(
        `full_and_fast round ${round + 1}: ${seconds(total)} — ` +
          result.phases
            .map((p) => `${p.name} ${seconds(p.duration_ms)} (${((p.duration_ms / total) * 100).toFixed(0)} %)`)
            .join(', ') +
          `; ${output.findings.length} findings (${result.findings_summary.merged} merged), ${String(scripts)} NSE scripts` +
          ' [tls/web/templates: fake engines]',
      );
    }
    figures.full_and_fast = full;
  } finally {
    await services.close();
  }
  figures.loadavg_end = loadavg();
  if (S.json) writeFileSync(S.json, JSON.stringify(figures, null, 2));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
