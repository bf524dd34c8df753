/**
 * A vulnerability scan run by a real Greenbone (gvmd + OpenVAS) the operator runs,
 * through GMP (gmpClient.ts). Chosen when GVM_HOST or GVM_SOCKET is set; otherwise the
 * composed scan is the default.
 *
 * Flow: authenticate → pick the scan config (profile → Greenbone's well-known config
 * ids, falling back when gvmd lacks one) → port list (All TCP, or nmap's top 1000 as a
 * port list we create) → create target (the checked address only, "Consider Alive"
 * like our -Pn) → create task → start → poll the task until Done → fetch the report →
 * map it (gvmReport.ts) → delete the task, target and port list we created.
 * Cancel stops the task in gvmd and deletes what we created; so does a timeout.
 */
import { readFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { ScanAbortedError, ScanTimeoutError, ToolFailedError } from '../../shared/errors.js';
import type { ScanJobInput, ScanOutput, ScannerSettings } from '../../shared/scanner.js';
import { child, type XmlElement } from '../../shared/xml.js';
import { GVM_ENGINE } from '../engines.js';
import { mergeFindings } from '../findingMerge.js';
import { boundResult, capFindings, findingsSummary } from '../vulnResult.js';
import type { PhaseStatus, PhaseTiming, VulnScanResult } from '../vulnResultSchema.js';
import type { PortList, VulnProfile } from '../vulnPlan.js';
import { GmpError, openGmpSession, xmlEscape, type GmpEndpoint, type GmpSession } from './gmpClient.js';
import { gmpTcpRange, topTcpPorts } from './gvmPortList.js';
import { gvmReportFindings } from './gvmReport.js';

/** Greenbone's built-in scan configs (ids are the same on every gvmd). */
export const GVM_SCAN_CONFIGS: Readonly<Record<VulnProfile, readonly { id: string; name: string }[]>> = {
  discovery: [{ id: '8715c877-47a0-438d-98a3-27c7a6ab2196', name: 'Discovery' }],
  full_and_fast: [{ id: 'daba56c8-73ec-11df-a475-002264764cea', name: 'Full and fast' }],
  // "Full and very deep" was dropped from newer feeds: then "Full and fast".
  deep: [
    { id: '708f25c4-7489-11df-8094-002264764cea', name: 'Full and very deep' },
    { id: 'daba56c8-73ec-11df-a475-002264764cea', name: 'Full and fast' },
  ],
};

/** Greenbone's built-in port lists. */
export const GVM_PORT_LISTS = {
  allTcp: { id: 'fd591a34-56fd-11e1-9f27-406186ea4fc5', name: 'All TCP' },
  allIanaTcp: { id: '33d0cd82-57c6-11e1-8ed1-406186ea4fc5', name: 'All IANA assigned TCP' },
} as const;

/** The "OpenVAS Default" scanner. */
export const GVM_DEFAULT_SCANNER_ID = '08b69003-5fc2-4037-a479-93b440211c73';
export const DEFAULT_NMAP_SERVICES = '/usr/share/nmap/nmap-services';

export interface GvmSettings {
  readonly endpoint: GmpEndpoint;
  readonly username: string;
  readonly password: string;
  readonly scannerId: string;
  readonly pollMs: number;
  readonly nmapServicesPath: string;
}

export interface GvmScanHooks {
  /** Poll gvmd this often instead of GVM_POLL_SECONDS (tests). */
  readonly gvmPollMs?: number;
}

function setting(settings: ScannerSettings, name: string): string | undefined {
  const value = settings[name];
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}

function flag(settings: ScannerSettings, name: string, fallback: boolean): boolean {
  const value = setting(settings, name);
  if (value === undefined) return fallback;
  if (/^(1|true|yes|on)$/i.test(value)) return true;
  if (/^(0|false|no|off)$/i.test(value)) return false;
  throw new Error(`${name} must be true or false, got ${JSON.stringify(value)}`);
}

/**
 * The GVM settings, or null when no Greenbone is configured (GVM_HOST and GVM_SOCKET
 * both unset). Half a configuration is an error that names what is missing.
 */
export function gvmSettingsOf(settings: ScannerSettings): GvmSettings | null {
  const host = setting(settings, 'GVM_HOST');
  const socketPath = setting(settings, 'GVM_SOCKET');
  if (!host && !socketPath) return null;
  if (host && socketPath) throw new Error('set GVM_HOST (with GVM_PORT) or GVM_SOCKET, not both');
  const username = setting(settings, 'GVM_USERNAME');
  const password = setting(settings, 'GVM_PASSWORD');
  if (!username || !password) throw new Error('GVM_USERNAME and GVM_PASSWORD are required with GVM_HOST or GVM_SOCKET');
  let endpoint: GmpEndpoint;
  if (socketPath) {
    endpoint = { kind: 'socket', path: socketPath };
  } else {
    const port = Number(setting(settings, 'GVM_PORT') ?? '9390');
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error('GVM_PORT must be a TCP port');
    const caFile = setting(settings, 'GVM_CA_FILE');
    const servername = setting(settings, 'GVM_TLS_SERVERNAME');
    endpoint = flag(settings, 'GVM_TLS', true)
      ? {
          kind: 'tls',
          host: host!,
          port,
          verify: !flag(settings, 'GVM_TLS_INSECURE', false),
          ...(servername ? { servername } : {}),
          ...(caFile ? { ca: readFileSync(caFile, 'utf8') } : {}),
        }
      : { kind: 'tcp', host: host!, port };
  }
  const pollSeconds = Number(setting(settings, 'GVM_POLL_SECONDS') ?? '15');
  if (!Number.isFinite(pollSeconds) || pollSeconds <= 0) throw new Error('GVM_POLL_SECONDS must be a positive number');
  return {
    endpoint,
    username,
    password,
    scannerId: setting(settings, 'GVM_SCANNER_ID') ?? GVM_DEFAULT_SCANNER_ID,
    pollMs: pollSeconds * 1000,
    nmapServicesPath: setting(settings, 'SECABLY_NMAP_SERVICES') ?? DEFAULT_NMAP_SERVICES,
  };
}

const TERMINAL_FAILURES = new Set(['Stopped', 'Interrupted', 'Deleted', 'Ultimate Deleted']);

function idOf(response: XmlElement, what: string): string {
  const id = response.attributes.id;
  if (!id || !/^[0-9a-f-]{8,64}$/i.test(id)) throw new ToolFailedError(`gvmd created no ${what} id`, null, '');
  return id;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new ScanAbortedError('scan cancelled'));
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(new ScanAbortedError('scan cancelled'));
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

export async function runGvmScan(
  input: ScanJobInput,
  settings: GvmSettings,
  hooks: GvmScanHooks = {},
): Promise<ScanOutput> {
  const startedAt = performance.now();
  const config = input.config as { scan_profile: VulnProfile; port_list: PortList };
  const profile = config.scan_profile;
  const hostname = input.target.hostname;
  const deadline = startedAt + input.timeoutMs - Math.min(60_000, Math.max(2_000, input.timeoutMs * 0.05));
  const pollMs = hooks.gvmPollMs ?? settings.pollMs;
  const credentials = { username: settings.username, password: settings.password };
  const phases: PhaseTiming[] = [];
  const phase = (name: string, budgetMs: number) => {
    const began = performance.now();
    return (status: PhaseStatus, detail?: string) =>
      phases.push({
        name,
        status,
        started_ms: Math.round(began - startedAt),
        duration_ms: Math.round(performance.now() - began),
        budget_ms: Math.max(0, Math.round(budgetMs)),
        ...(detail ? { detail } : {}),
      });
  };
  const open = () => openGmpSession(settings.endpoint, credentials, { signal: input.signal });
  const name = `secably-${input.scanId}`.slice(0, 80);
  const created: { task?: string; target?: string; portList?: string } = {};
  const gvm: Record<string, unknown> = { scanner_id: settings.scannerId };
  let reportRoot: XmlElement | undefined;
  let portsScanned: string;

  // gvmd's own progress can step back (e.g. -1 between states): ours never does.
  let shown = 0;
  const report = (percent: number, phase: string) => {
    shown = Math.max(shown, Math.min(99, Math.round(percent * 10) / 10));
    input.onProgress({ percent: shown, phase });
  };
  report(0, 'gvm: setup');
  try {
    // ---------------------------------------------------------------- setup
    const endSetup = phase('setup', 60_000);
    let session: GmpSession = await open();
    let reportId: string;
    try {
      let configId: string | undefined;
      for (const candidate of GVM_SCAN_CONFIGS[profile]) {
        try {
          const found = await session.command(`<get_configs config_id="${candidate.id}"/>`);
          if (child(found, 'config')) {
            configId = candidate.id;
            gvm.scan_config = { ...candidate, wanted: GVM_SCAN_CONFIGS[profile][0]?.name };
            break;
          }
        } catch (error) {
          if (!(error instanceof GmpError) || error.status !== 404) throw error;
        }
      }
      if (!configId) {
        throw new ToolFailedError(
          `gvmd has none of the scan configs ${GVM_SCAN_CONFIGS[profile].map((c) => `"${c.name}"`).join(', ')}`,
          null,
          '',
        );
      }
      let portListId: string = GVM_PORT_LISTS.allTcp.id;
      if (profile === 'deep' || config.port_list === 'all_tcp') {
        portsScanned = GVM_PORT_LISTS.allTcp.name;
      } else {
        const services = await readFile(settings.nmapServicesPath, 'utf8').catch(() => null);
        const top = services ? topTcpPorts(services, 1000) : [];
        if (top.length > 0) {
          const response = await session.command(
            `<create_port_list><name>${xmlEscape(`${name} top 1000 TCP`)}</name>` +
              `<comment>nmap's top 1000 TCP ports, created by SecAbly for one scan</comment>` +
              `<port_range>${gmpTcpRange(top)}</port_range></create_port_list>`,
          );
          portListId = created.portList = idOf(response, 'port list');
          portsScanned = `top ${top.length}`;
        } else {
          portListId = GVM_PORT_LISTS.allIanaTcp.id;
          portsScanned = GVM_PORT_LISTS.allIanaTcp.name;
        }
      }
      gvm.port_list = { id: portListId, name: portsScanned, created: created.portList !== undefined };
      const target = await session.command(
        `<create_target><name>${xmlEscape(name)}</name><hosts>${xmlEscape(input.host)}</hosts>` +
          `<port_list id="${portListId}"/><alive_tests>Consider Alive</alive_tests></create_target>`,
      );
      created.target = idOf(target, 'target');
      const task = await session.command(
        `<create_task><name>${xmlEscape(name)}</name><comment>SecAbly scan ${xmlEscape(input.scanId)}</comment>` +
          `<config id="${configId}"/><target id="${created.target}"/><scanner id="${xmlEscape(settings.scannerId)}"/>` +
          `</create_task>`,
      );
      created.task = idOf(task, 'task');
      const started = await session.command(`<start_task task_id="${created.task}"/>`);
      reportId = text(child(started, 'report_id'));
      if (!/^[0-9a-f-]{8,64}$/i.test(reportId))
        throw new ToolFailedError('gvmd started the task without a report id', null, '');
      gvm.task_id = created.task;
      gvm.report_id = reportId;
    } finally {
      session.close();
    }
    endSetup('completed');

    // ---------------------------------------------------------------- scan
    const endScan = phase('scan', deadline - performance.now());
    let status = 'Requested';
    for (;;) {
      if (performance.now() >= deadline) {
        endScan('timed_out', `gvmd status ${status}`);
        throw new ScanTimeoutError(`gvmd did not finish the scan in time (last status: ${status})`);
      }
      await sleep(Math.min(pollMs, Math.max(1, deadline - performance.now())), input.signal);
      session = await open();
      try {
        const tasks = await session.command(`<get_tasks task_id="${created.task}"/>`);
        const task = child(tasks, 'task');
        status = text(child(task ?? tasks, 'status')) || status;
        const progress = Number(text(child(task ?? tasks, 'progress')));
        if (Number.isFinite(progress) && progress >= 0) {
          report(5 + Math.min(100, progress) * 0.9, `gvm: ${status}`);
        } else {
          report(5, `gvm: ${status}`);
        }
      } finally {
        session.close();
      }
      if (status === 'Done') break;
      if (TERMINAL_FAILURES.has(status)) {
        endScan('failed', `gvmd status ${status}`);
        throw new ToolFailedError(`gvmd ended the scan with status "${status}"`, null, '');
      }
    }
    endScan('completed');

    // ---------------------------------------------------------------- report
    const endReport = phase('report', 5 * 60_000);
    session = await open();
    try {
      reportRoot = await session.command(
        `<get_reports report_id="${gvm.report_id as string}" details="1" ignore_pagination="1" ` +
          `filter="apply_overrides=1 min_qod=70 levels=hmlg rows=-1 first=1"/>`,
        { timeoutMs: 5 * 60_000, maxBytes: 64 * 1024 * 1024 },
      );
    } finally {
      session.close();
    }
    endReport('completed');
  } finally {
    await cleanup(settings, credentials, created);
  }

  if (!reportRoot) throw new ToolFailedError('gvmd returned no report', null, '');
  const mapped = gvmReportFindings(reportRoot, hostname);
  const merged = mergeFindings(mapped.findings.map((finding) => ({ origin: 'services' as const, finding })));
  const capped = capFindings(merged.findings);
  const result: VulnScanResult = {
    engine: 'openvas-gvm',
    profile,
    port_list: config.port_list,
    ports_scanned: portsScanned,
    host: {
      hostname,
      reachable: mapped.services.length > 0 || mapped.resultCount > 0,
      reason: `gvmd reported ${mapped.resultCount} result(s) on ${mapped.services.length} port(s)`,
      latency: null,
      open_port_count: mapped.services.filter((s) => s.protocol === 'tcp').length,
      port_counts: {},
    },
    services: mapped.services.map((s) => ({
      host: hostname,
      port: s.port,
      protocol: s.protocol,
      service: 'unknown',
      cpe: [],
      tls: null,
      http: false,
    })),
    engines: [
      {
        name: GVM_ENGINE,
        phase: 'scan',
        status: 'completed',
        findings: mapped.findings.length,
        finding_engines: [GVM_ENGINE],
        duration_ms: Math.round(performance.now() - startedAt),
        details: { result_count: mapped.resultCount, errors: mapped.errors },
      },
    ],
    phases,
    findings_summary: findingsSummary(capped.findings, merged.merged, capped.dropped),
    duration_ms: Math.round(performance.now() - startedAt),
    gvm: { ...gvm, scan_run_status: mapped.scanRunStatus, host_cpes: mapped.hostCpes },
    truncated: false,
  };
  input.onProgress({ percent: 100, phase: 'done' });
  return { findings: capped.findings, scanResult: boundResult(result) };
}

function text(element: XmlElement | undefined): string {
  return element?.text.trim() ?? '';
}

/**
 * Stops the task if it may still run and deletes what we created (best effort, on a
 * fresh connection that the job's cancel does not close: the clean-up must run after
 * a cancel too), each step bounded in time.
 */
async function cleanup(
  settings: GvmSettings,
  credentials: { username: string; password: string },
  created: { task?: string; target?: string; portList?: string },
): Promise<void> {
  if (!created.task && !created.target && !created.portList) return;
  const signal = AbortSignal.timeout(30_000);
  let session: GmpSession | undefined;
  try {
    session = await openGmpSession(settings.endpoint, credentials, { signal, timeoutMs: 10_000 });
    const step = async (xml: string) => {
      try {
        await session!.command(xml, { timeoutMs: 10_000 });
      } catch {
        // best effort: a stopped or missing object is fine
      }
    };
    if (created.task) {
      await step(`<stop_task task_id="${created.task}"/>`);
      await step(`<delete_task task_id="${created.task}" ultimate="1"/>`);
    }
    if (created.target) await step(`<delete_target target_id="${created.target}" ultimate="1"/>`);
    if (created.portList) await step(`<delete_port_list port_list_id="${created.portList}" ultimate="1"/>`);
  } catch {
    // gvmd unreachable now: nothing more we can do
  } finally {
    session?.close();
  }
}
