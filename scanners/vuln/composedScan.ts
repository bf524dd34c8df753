/**
 * The composed vulnerability scan: nmap discovers and identifies services, nmap's NSE
 * scripts check them, and our TLS, web and template engines look at the services they
 * understand. One phase after the other, each with a share of the time budget
 * (vulnPlan.ts), all of it stopped at once by the job's signal.
 *
 * Safety: every connection goes to `input.host` (the checked address) only; the
 * target's name (`input.target.hostname`) is what is spoken (Host header, SNI) and what
 * findings are located at. nmap runs with `-n` (no DNS) and scripts that would leave
 * the target are never selected (nseScripts.ts).
 *
 * Failures: discovery failing fails the scan (no inventory, nothing to assess); a
 * target that answers on no port at all is TargetUnreachableError. A later phase that
 * times out or fails is recorded (phase status, engine summary, error per endpoint) and
 * the scan goes on with what it has. Cancel (the signal) is never swallowed: every
 * child process and engine call is stopped and the scan rejects with ScanAbortedError.
 */
import { readFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { ScannerFinding as ScannerFindingSchema, type ScannerFinding } from '../../domain/shared/finding.js';
import { nmapFindings } from '../nmap/nmapFindings.js';
import type { NmapHost, NmapResult } from '../nmap/nmapParser.js';
import {
  ScanAbortedError,
  ScanTimeoutError,
  ScannerUnavailableError,
  TargetUnreachableError,
} from '../shared/errors.js';
import type { ScanJobInput, ScanOutput } from '../shared/scanner.js';
import {
  NMAP_ENGINE,
  NSE_ENGINE,
  type EngineOutput,
  type EngineProgress,
  type VulnEngines,
  type WebOrigin,
} from './engines.js';
import { mergeFindings, type OriginFinding } from './findingMerge.js';
import { nseFindings } from './nseFindings.js';
import { nseScriptArgs, parseScriptDb, selectNseScripts } from './nseScripts.js';
import { httpScheme, isHttpService, serviceInventory, tlsVerdict, type ServiceRecord } from './serviceInventory.js';
import { nmapTaskFraction, progressTracker } from './vulnProgress.js';
import {
  boundedEngineResult,
  boundedText,
  boundResult,
  capFindings,
  findingsSummary,
  MAX_SCRIPT_OUTPUT_CHARS,
} from './vulnResult.js';
import type {
  EndpointRun,
  EngineSummary,
  InventoryService,
  PhaseStatus,
  PhaseTiming,
  VulnScanResult,
} from './vulnResultSchema.js';
import {
  describePorts,
  phaseBudgetMs,
  vulnPlan,
  type PortList,
  type PortSelection,
  type VulnPlan,
  type VulnProfile,
} from './vulnPlan.js';
import { discoveryArguments, runVulnNmap, servicesArguments } from './vulnNmap.js';

export const DEFAULT_SCRIPT_DB = '/usr/share/nmap/scripts/script.db';
export const USER_AGENT = 'Mozilla/5.0 (compatible; SecAbly-Vulnerability-Scanner/1.0; +https://secably.com/bot)';

/** At most this many endpoints per engine phase (each gets a share of the phase's time). */
export const MAX_TLS_ENDPOINTS = 32;
export const MAX_WEB_ORIGINS = 16;
/** Ports whose TLS nmap could not tell that are asked with a handshake, at most. */
export const MAX_TLS_PROBES = 64;
const TLS_PROBE_TIMEOUT_MS = 5_000;
const TLS_PROBE_CONCURRENCY = 4;
/** How long an engine may take to stop after its signal aborted before we stop waiting. */
const ENGINE_STOP_GRACE_MS = 3_000;
/** Scripts on one service in the inventory, at most. */
const MAX_SCRIPTS_PER_SERVICE = 20;

export interface ComposedScanOptions {
  readonly engines: VulnEngines;
  readonly nmapPath: string;
  readonly scriptDbPath: string;
  /** Replaces the profile's ports (tests and benchmarks on loopback scan only their own services). */
  readonly ports?: PortSelection;
  /** Every nmap process started, with its arguments (tests check the argv and /proc). */
  readonly onNmapSpawn?: (pid: number, args: readonly string[]) => void;
}

type Config = { scan_profile: VulnProfile; port_list: PortList };

function isAbort(error: unknown): boolean {
  return error instanceof ScanAbortedError;
}

function message(error: unknown): string {
  return boundedText(error instanceof Error ? error.message : String(error), 500);
}

/**
 * Waits for `work`; once `signal` aborts, waits at most `graceMs` more, then rejects
 * (ScanAbortedError when `cancel` aborted, else ScanTimeoutError): an engine that does
 * not stop promptly cannot hold the scan.
 */
function settleWithin<T>(work: Promise<T>, signal: AbortSignal, cancel: AbortSignal, graceMs: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    const onAbort = () => {
      timer = setTimeout(
        () => reject(cancel.aborted ? new ScanAbortedError('scan cancelled') : new ScanTimeoutError('time is up')),
        graceMs,
      );
    };
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

/** `signal` aborted after `ms`, or with `parent`. */
function phaseSignal(parent: AbortSignal, ms: number): AbortSignal {
  return AbortSignal.any([parent, AbortSignal.timeout(Math.max(1, Math.floor(ms)))]);
}

/** Replaces the checked address in an engine's location by the target's name (identity never holds an address). */
function withoutAddress(location: string, address: string, hostname: string): string {
  if (address === hostname || !location.includes(address)) return location;
  const escaped = address.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return location.replace(new RegExp(`(?<![0-9A-Za-z.:])${escaped}(?![0-9A-Za-z])`, 'g'), hostname);
}

interface Reachability {
  readonly reachable: boolean;
  readonly reason: string;
}

export function reachabilityOf(host: NmapHost | undefined): Reachability {
  if (!host) return { reachable: false, reason: 'nmap reported no host' };
  const open = host.open_ports.length;
  const closed = host.port_counts.closed ?? 0;
  const answered = open + closed + (host.port_counts.unfiltered ?? 0);
  if (answered > 0) {
    return { reachable: true, reason: `${open} open and ${closed} closed port(s) answered` };
  }
  const filtered = Object.entries(host.port_counts)
    .map(([state, count]) => `${count} ${state}`)
    .join(', ');
  return { reachable: false, reason: `no port answered (${filtered || 'nothing scanned'})` };
}

interface PhaseClock {
  readonly phases: PhaseTiming[];
  /** Time left until the scan's own deadline. */
  remaining(): number;
  /** Starts a phase; the returned function ends it with its status. */
  begin(name: string, budgetMs: number): (status: PhaseStatus, detail?: string) => PhaseTiming;
}

function phaseClock(startedAt: number, deadline: number): PhaseClock {
  const phases: PhaseTiming[] = [];
  return {
    phases,
    remaining: () => Math.max(0, deadline - performance.now()),
    begin(name, budgetMs) {
      const started = performance.now();
      return (status, detail) => {
        const timing: PhaseTiming = {
          name,
          status,
          started_ms: Math.max(0, Math.round(started - startedAt)),
          duration_ms: Math.max(0, Math.round(performance.now() - started)),
          budget_ms: Math.max(0, Math.round(budgetMs)),
          ...(detail ? { detail } : {}),
        };
        phases.push(timing);
        return timing;
      };
    },
  };
}

/** Status of a phase from its endpoints. */
function phaseStatusOf(runs: readonly EndpointRun[]): PhaseStatus {
  if (runs.length === 0) return 'skipped';
  if (runs.every((r) => r.status === 'completed')) return 'completed';
  if (runs.every((r) => r.status === 'failed')) return 'failed';
  if (runs.every((r) => r.status === 'timed_out')) return 'timed_out';
  return 'partial';
}

export async function runComposedScan(input: ScanJobInput, options: ComposedScanOptions): Promise<ScanOutput> {
  const startedAt = performance.now();
  const config = input.config as Config;
  const basePlan = vulnPlan(config);
  const plan: VulnPlan = options.ports ? { ...basePlan, ports: options.ports } : basePlan;
  const hostname = input.target.hostname;
  const address = input.host;
  const cancel = input.signal;
  // Keep a little time to assemble the result before the worker's own limit.
  const reserve = Math.min(30_000, Math.max(1_000, input.timeoutMs * 0.03));
  const clock = phaseClock(startedAt, startedAt + input.timeoutMs - reserve);
  const progress = progressTracker(plan, input.onProgress);
  const engines: EngineSummary[] = [];
  const collected: OriginFinding[] = [];
  const checkCancel = () => {
    if (cancel.aborted) throw new ScanAbortedError('scan cancelled');
  };

  // ------------------------------------------------------------ discovery
  checkCancel();
  const discoveryBudget = phaseBudgetMs(plan, 'discovery', clock.remaining());
  const endDiscovery = clock.begin('discovery', discoveryBudget);
  progress.report('discovery', 0);
  const discoveryArgs = discoveryArguments({
    address,
    ports: plan.ports,
    versionAll: plan.versionAll,
    hostTimeoutMs: Math.max(5_000, discoveryBudget - Math.min(15_000, discoveryBudget * 0.1)),
  });
  let discovery: NmapResult;
  try {
    const run = await runVulnNmap({
      nmapPath: options.nmapPath,
      args: discoveryArgs,
      timeoutMs: discoveryBudget,
      signal: cancel,
      onTask: ({ task, percent }) => {
        const fraction = nmapTaskFraction('discovery', task, percent);
        if (fraction !== null) progress.report('discovery', fraction);
      },
      onSpawn: (pid) => options.onNmapSpawn?.(pid, discoveryArgs),
    });
    discovery = run.result;
  } catch (error) {
    endDiscovery(error instanceof ScanTimeoutError ? 'timed_out' : 'failed', message(error));
    throw error;
  }
  const host = discovery.hosts[0];
  if (host?.timed_out) {
    endDiscovery('timed_out');
    throw new ScanTimeoutError(
      `discovery did not finish within ${Math.round(discoveryBudget / 1000)} s (nmap gave up on the host)`,
    );
  }
  const reachability = reachabilityOf(host);
  if (!reachability.reachable) {
    endDiscovery('completed', reachability.reason);
    throw new TargetUnreachableError(
      `the target answered on none of the ${describePorts(plan.ports)} TCP ports scanned (${reachability.reason}): ` +
        'it is down, or a firewall drops everything from the scanner',
    );
  }
  const services = serviceInventory(discovery, hostname);
  const discoveryTiming = endDiscovery('completed');
  const portFindings = nmapFindings(discovery, { hostLabel: () => hostname });
  for (const finding of portFindings) collected.push({ origin: 'discovery', finding });
  engines.push({
    name: NMAP_ENGINE,
    phase: 'discovery',
    status: 'completed',
    findings: portFindings.length,
    finding_engines: [NMAP_ENGINE],
    duration_ms: discoveryTiming.duration_ms,
    details: {
      version: discovery.scanner_version,
      args: discoveryArgs.slice(0, -1).join(' '),
      elapsed_s: discovery.runstats.elapsed,
    },
  });
  progress.report('discovery', 1);

  const inventory: InventoryService[] = services.map((s) => ({
    host: s.host,
    port: s.port,
    protocol: s.protocol,
    service: s.service,
    ...(s.product !== undefined ? { product: s.product } : {}),
    ...(s.version !== undefined ? { version: s.version } : {}),
    ...(s.extrainfo !== undefined ? { extrainfo: s.extrainfo } : {}),
    cpe: [...s.cpe],
    ...(s.tunnel !== undefined ? { tunnel: s.tunnel } : {}),
    tls: tlsVerdict(s) === 'unknown' ? null : tlsVerdict(s) === 'yes',
    http: false,
    ...(s.banner !== undefined ? { banner: s.banner } : {}),
  }));
  const byPort = new Map(inventory.map((s) => [s.port, s]));
  if (services.length === 0) {
    // Reachable, nothing open: the later phases have nothing to look at.
    for (const { phase } of plan.phases.slice(1)) clock.begin(phase, 0)('skipped', 'no open TCP port');
  }

  // ------------------------------------------------------------ services (NSE)
  if (plan.nse && services.length > 0) {
    checkCancel();
    const budget = phaseBudgetMs(plan, 'services', clock.remaining());
    const end = clock.begin('services', budget);
    progress.report('services', 0);
    let scripts: string[] = [];
    const summary: EngineSummary = {
      name: NSE_ENGINE,
      phase: 'services',
      status: 'completed',
      findings: 0,
      finding_engines: [NSE_ENGINE],
      duration_ms: 0,
      details: {},
    };
    try {
      scripts = selectNseScripts(parseScriptDb(await readFile(options.scriptDbPath, 'utf8')), plan.nse, {
        skip: ['banner'],
      });
      const args = servicesArguments({
        address,
        openPorts: services.map((s) => s.port),
        versionAll: plan.versionAll,
        scripts,
        scriptArgs: nseScriptArgs({ hostname, userAgent: USER_AGENT, maxPages: plan.profile === 'deep' ? 100 : 30 }),
        hostTimeoutMs: Math.max(5_000, budget - Math.min(15_000, budget * 0.1)),
        scriptTimeoutMs: Math.min(10 * 60_000, Math.max(10_000, budget * 0.6)),
      });
      const run = await runVulnNmap({
        nmapPath: options.nmapPath,
        args,
        timeoutMs: budget,
        signal: cancel,
        onTask: ({ task, percent }) => {
          const fraction = nmapTaskFraction('services', task, percent);
          if (fraction !== null) progress.report('services', fraction);
        },
        onSpawn: (pid) => options.onNmapSpawn?.(pid, args),
      });
      const nseHost = run.result.hosts[0];
      if (nseHost?.timed_out) {
        summary.status = 'timed_out';
      } else {
        const found = nseFindings(run.result, { hostLabel: hostname });
        summary.findings = found.length;
        for (const finding of found) collected.push({ origin: 'services', finding });
        let withOutput = 0;
        for (const port of nseHost?.open_ports ?? []) {
          const service = byPort.get(port.port);
          const outputs = (port.scripts ?? []).filter(
            (s) => s.id !== 'banner' && s.output.trim() !== '' && !/^\s*ERROR:/.test(s.output),
          );
          withOutput += outputs.length;
          if (service && outputs.length > 0) {
            service.scripts = outputs.slice(0, MAX_SCRIPTS_PER_SERVICE).map((s) => ({
              id: s.id,
              output: boundedText(s.output.trim(), MAX_SCRIPT_OUTPUT_CHARS),
            }));
          }
        }
        summary.details = { ...summary.details, script_results: withOutput };
      }
      summary.details = {
        ...summary.details,
        scripts_selected: scripts.length,
        categories: plan.nse === 'deep' ? 'vuln, safe, default, discovery' : 'vuln, safe, default',
        script_db: options.scriptDbPath,
      };
    } catch (error) {
      if (isAbort(error)) {
        end('failed', 'cancelled');
        throw error;
      }
      if (error instanceof ScannerUnavailableError) throw error;
      summary.status = error instanceof ScanTimeoutError ? 'timed_out' : 'failed';
      summary.details = { ...summary.details, error: message(error), scripts_selected: scripts.length };
    }
    summary.duration_ms = end(summary.status).duration_ms;
    engines.push(summary);
    progress.report('services', 1);
  }

  // ------------------------------------------------------------ TLS
  const tlsPorts = new Set<number>();
  if (plan.tls && services.length > 0) {
    checkCancel();
    const budget = phaseBudgetMs(plan, 'tls', clock.remaining());
    const end = clock.begin('tls', budget);
    progress.report('tls', 0);
    const signal = phaseSignal(cancel, budget);
    const tlsStarted = performance.now();
    const runs: EndpointRun[] = [];
    const engineNames = new Set<string>();
    let found = 0;
    const details: Record<string, unknown> = {};
    try {
      for (const s of services) if (tlsVerdict(s) === 'yes') tlsPorts.add(s.port);
      const unknown = services.filter((s) => tlsVerdict(s) === 'unknown');
      const probed = unknown.slice(0, MAX_TLS_PROBES);
      if (unknown.length > probed.length) details.not_probed = unknown.length - probed.length;
      const answers = await probeTls(options.engines, address, hostname, probed, signal, cancel);
      for (const [port, tls] of answers) {
        const service = byPort.get(port);
        if (service) service.tls = tls;
        if (tls) tlsPorts.add(port);
      }
      for (const s of services) {
        const service = byPort.get(s.port);
        if (service && tlsVerdict(s) === 'yes') service.tls = true;
      }
      const targets = [...tlsPorts].sort((a, b) => a - b);
      const analysed = targets.slice(0, MAX_TLS_ENDPOINTS);
      if (targets.length > analysed.length) details.not_analysed = targets.slice(analysed.length);
      details.tls_ports = targets;
      const results = await runEndpoints(
        analysed,
        signal,
        cancel,
        Math.max(0, budget - (performance.now() - tlsStarted)),
        (endpointIndex, portSignal, onProgress) => {
          const port = analysed[endpointIndex]!;
          return {
            endpoint: `${hostname.includes(':') ? `[${hostname}]` : hostname}:${port}`,
            port,
            work: options.engines.analyzeTlsEndpoint({
              address,
              port,
              hostname,
              signal: portSignal,
              onProgress,
              checks: { certificate: true, versions: true, cipherSuites: true },
            }),
          };
        },
        (fraction) => progress.report('tls', fraction),
      );
      for (const r of results) {
        runs.push(r.run);
        for (const finding of r.findings) {
          engineNames.add(finding.engine);
          collected.push({ origin: 'tls', finding });
          found += 1;
        }
      }
    } catch (error) {
      if (isAbort(error)) {
        end('failed', 'cancelled');
        throw error;
      }
      details.error = message(error);
    }
    const status = details.error ? 'failed' : tlsPorts.size === 0 ? 'skipped' : phaseStatusOf(runs);
    const timing = end(status, tlsPorts.size === 0 ? 'no port speaks TLS' : undefined);
    engines.push({
      name: 'tls',
      phase: 'tls',
      status,
      findings: found,
      finding_engines: [...engineNames],
      duration_ms: timing.duration_ms,
      endpoints: runs,
      details,
    });
    progress.report('tls', 1);
  }

  // ------------------------------------------------------------ web and templates
  const origins: Array<{ origin: WebOrigin; path?: string }> = [];
  if ((plan.web || plan.templates) && services.length > 0) {
    for (const s of services) {
      if (!isHttpService(s)) continue;
      const service = byPort.get(s.port);
      if (service) service.http = true;
      const scheme = httpScheme(s, tlsPorts.has(s.port));
      const url = input.target.url;
      const path = url && url.port === s.port && url.scheme === scheme && url.path !== '/' ? url.path : undefined;
      origins.push({ origin: { scheme, hostname, port: s.port }, ...(path ? { path } : {}) });
    }
  }
  const scannedOrigins = origins.slice(0, MAX_WEB_ORIGINS);
  const originLabel = (o: WebOrigin) =>
    `${o.scheme}://${o.hostname.includes(':') ? `[${o.hostname}]` : o.hostname}:${o.port}`;

  for (const phase of ['web', 'templates'] as const) {
    const mode = phase === 'web' ? plan.web : plan.templates;
    if (!mode || services.length === 0) continue;
    checkCancel();
    const budget = phaseBudgetMs(plan, phase, clock.remaining());
    const end = clock.begin(phase, budget);
    progress.report(phase, 0);
    const signal = phaseSignal(cancel, budget);
    const engineNames = new Set<string>();
    const details: Record<string, unknown> = { mode };
    if (origins.length > scannedOrigins.length)
      details.not_scanned = origins.slice(scannedOrigins.length).map((o) => originLabel(o.origin));
    let runs: EndpointRun[] = [];
    let found = 0;
    try {
      const results = await runEndpoints(
        scannedOrigins,
        signal,
        cancel,
        budget,
        (index, originSignal, onProgress, shareMs) => {
          const { origin, path } = scannedOrigins[index]!;
          const work =
            phase === 'web'
              ? options.engines.scanWebApp({
                  address,
                  origin,
                  ...(path ? { startPath: path } : {}),
                  mode: mode as 'baseline' | 'full',
                  spider: true,
                  signal: originSignal,
                  onProgress,
                  budget: { totalTimeMs: shareMs },
                })
              : options.engines.runTemplateScan({
                  address,
                  origin,
                  ...(path ? { basePath: path } : {}),
                  mode: mode as 'quick' | 'full',
                  signal: originSignal,
                  onProgress,
                  budget: { totalTimeMs: shareMs },
                });
          return { endpoint: originLabel(origin), port: origin.port, work };
        },
        (fraction) => progress.report(phase, fraction),
      );
      runs = results.map((r) => r.run);
      for (const r of results) {
        for (const finding of r.findings) {
          engineNames.add(finding.engine);
          collected.push({ origin: phase, finding });
          found += 1;
        }
      }
    } catch (error) {
      if (isAbort(error)) {
        end('failed', 'cancelled');
        throw error;
      }
      details.error = message(error);
    }
    const status = details.error ? 'failed' : phaseStatusOf(runs);
    const timing = end(status, scannedOrigins.length === 0 ? 'no HTTP service' : undefined);
    engines.push({
      name: phase,
      phase,
      status,
      findings: found,
      finding_engines: [...engineNames],
      duration_ms: timing.duration_ms,
      endpoints: runs,
      details,
    });
    progress.report(phase, 1);
  }
  checkCancel();

  // ------------------------------------------------------------ result
  const normalized = collected.map(({ origin, finding }) => ({
    origin,
    finding: { ...finding, location: withoutAddress(finding.location, address, hostname) },
  }));
  const merged = mergeFindings(normalized);
  const capped = capFindings(merged.findings);
  const result: VulnScanResult = {
    engine: 'composed',
    profile: plan.profile,
    port_list: plan.portList,
    ports_scanned: describePorts(plan.ports),
    host: {
      hostname,
      reachable: true,
      reason: reachability.reason,
      latency: host?.latency ?? null,
      open_port_count: services.length,
      port_counts: { ...(host?.port_counts ?? {}) },
    },
    services: inventory,
    engines,
    phases: clock.phases,
    findings_summary: findingsSummary(capped.findings, merged.merged, capped.dropped),
    duration_ms: Math.round(performance.now() - startedAt),
    truncated: false,
  };
  progress.done();
  return { findings: capped.findings, scanResult: boundResult(result) };
}

/** Asks the TLS engine about each port, a few at a time, each bounded in time. */
async function probeTls(
  engines: VulnEngines,
  address: string,
  hostname: string,
  services: readonly ServiceRecord[],
  signal: AbortSignal,
  cancel: AbortSignal,
): Promise<Map<number, boolean>> {
  const answers = new Map<number, boolean>();
  let next = 0;
  const worker = async () => {
    while (next < services.length && !signal.aborted) {
      const service = services[next++]!;
      const probeSignal = phaseSignal(signal, TLS_PROBE_TIMEOUT_MS);
      try {
        const tls = await settleWithin(
          engines.speaksTls(address, service.port, hostname, probeSignal),
          probeSignal,
          cancel,
          ENGINE_STOP_GRACE_MS,
        );
        answers.set(service.port, tls === true);
      } catch {
        if (cancel.aborted) throw new ScanAbortedError('scan cancelled');
        // No answer in time, or the engine failed: not known to speak TLS.
        answers.set(service.port, false);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(TLS_PROBE_CONCURRENCY, services.length) }, worker));
  if (cancel.aborted) throw new ScanAbortedError('scan cancelled');
  return answers;
}

interface EndpointWork {
  readonly endpoint: string;
  readonly port: number;
  readonly work: Promise<EngineOutput>;
}

interface EndpointOutcome {
  readonly run: EndpointRun;
  readonly findings: ScannerFinding[];
}

/**
 * Runs an engine on each endpoint, one after the other; each gets an equal share of
 * the phase's remaining time (its own signal aborts when that share is used).
 * Findings that do not pass the shared finding schema are dropped and counted.
 */
async function runEndpoints<T>(
  items: readonly T[],
  phaseSignalValue: AbortSignal,
  cancel: AbortSignal,
  phaseBudget: number,
  start: (index: number, signal: AbortSignal, onProgress: (p: EngineProgress) => void, shareMs: number) => EndpointWork,
  onFraction: (fraction: number) => void,
): Promise<EndpointOutcome[]> {
  const outcomes: EndpointOutcome[] = [];
  const phaseEnds = performance.now() + phaseBudget;
  for (let index = 0; index < items.length; index++) {
    if (cancel.aborted) throw new ScanAbortedError('scan cancelled');
    const left = Math.max(0, phaseEnds - performance.now());
    const shareMs = Math.max(1, Math.floor(left / (items.length - index)));
    const began = performance.now();
    const endpointSignal = phaseSignal(phaseSignalValue, shareMs);
    const onProgress = (p: EngineProgress) =>
      onFraction((index + Math.min(100, Math.max(0, p.percent)) / 100) / items.length);
    let work: EndpointWork | undefined;
    try {
      if (phaseSignalValue.aborted) throw new ScanTimeoutError('no time left in this phase');
      work = start(index, endpointSignal, onProgress, shareMs);
      const output = await settleWithin(work.work, endpointSignal, cancel, ENGINE_STOP_GRACE_MS);
      const valid: ScannerFinding[] = [];
      let invalid = 0;
      for (const finding of output.findings ?? []) {
        const parsed = ScannerFindingSchema.safeParse(finding);
        if (parsed.success) valid.push(finding);
        else invalid += 1;
      }
      const kept = boundedEngineResult(output.result ?? {});
      outcomes.push({
        findings: valid,
        run: {
          endpoint: work.endpoint,
          port: work.port,
          status: 'completed',
          duration_ms: Math.round(performance.now() - began),
          findings: valid.length,
          ...(invalid > 0 ? { error: `${invalid} finding(s) dropped: not in the shared finding shape` } : {}),
          ...(kept ? { result: kept } : {}),
        },
      });
    } catch (error) {
      if (cancel.aborted) throw new ScanAbortedError('scan cancelled');
      const timedOut = endpointSignal.aborted || error instanceof ScanTimeoutError;
      outcomes.push({
        findings: [],
        run: {
          endpoint: work?.endpoint ?? String(index),
          port: work?.port ?? 0,
          status: timedOut ? 'timed_out' : 'failed',
          duration_ms: Math.round(performance.now() - began),
          findings: 0,
          error: timedOut ? `stopped after its share of the phase (${Math.round(shareMs / 1000)} s)` : message(error),
        },
      });
    }
    onFraction((index + 1) / items.length);
  }
  return outcomes;
}
