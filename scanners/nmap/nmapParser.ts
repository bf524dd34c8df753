/**
 * Pure parser from nmap's XML output (`-oX -`, nmap 7.x, xmloutputversion 1.05)
 * to our `NmapResult`, and from that to the API's `scan_result`.
 *
 * - A small XML reader (below) handles what nmap writes: the `<?xml?>` and
 *   `<?xml-stylesheet?>` prologue, `<!DOCTYPE nmaprun>`, comments, self-closing
 *   tags, attributes in either quote, the five named entities and numeric ones.
 *   A DOCTYPE with an internal subset (entity definitions) is refused.
 * - Non-nmap or truncated XML (nmap killed mid-scan) throws `NmapOutputError`.
 * - `open_ports` lists only ports in state `open`. Every other state
 *   (`closed`, `filtered`, `open|filtered`, `closed|filtered`, `unfiltered`) is only
 *   counted in `port_counts` (including nmap's collapsed `<extraports>`). Our TCP
 *   connect/SYN scans never yield `open|filtered`; should a UDP profile come, those
 *   ports are "maybe open" and would need their own list, not `open_ports`.
 * - `latency` is the host's smoothed round-trip time `<times srtt>` (microseconds)
 *   in seconds, the figure nmap prints as "Host is up (0.00038s latency)";
 *   null when nmap did not measure it.
 * - A host nmap gave up on (`--host-timeout`) has `timed_out: true` and no ports:
 *   nmap discards a timed-out host's port results.
 */

export class NmapOutputError extends Error {
  override name = 'NmapOutputError';
}

import { child, childrenNamed, parseXml as parseXmlDocument, type XmlElement } from '../shared/xml.js';

function parseXml(xml: string): XmlElement {
  return parseXmlDocument(xml, { what: 'nmap XML output', errorOf: (message) => new NmapOutputError(message) });
}

function requiredAttr(element: XmlElement, name: string): string {
  const value = element.attributes[name];
  if (value === undefined)
    throw new NmapOutputError(`invalid nmap XML output: <${element.name}> has no ${name} attribute`);
  return value;
}

function numberAttr(element: XmlElement | undefined, name: string): number | null {
  const value = element?.attributes[name];
  if (value === undefined || value.trim() === '') return null;
  const n = Number(value);
  return Number.isFinite(n) ? n : null;
}

// ------------------------------------------------------------------ nmap model

export interface NmapPort {
  port: number;
  /** 'tcp' for our scans. */
  protocol: string;
  /** 'open' here (only open ports are listed). */
  state: string;
  /** Why nmap says so ('syn-ack', ...). */
  reason: string | null;
  /** nmap's service name; 'unknown' when nmap has none. */
  service: string;
  /** 'probed' (identified by -sV), 'table' (guessed from the port number), null (no guess). */
  method: 'probed' | 'table' | null;
  /** nmap's confidence 0-10. */
  confidence: number | null;
  product?: string;
  version?: string;
  extrainfo?: string;
  /** 'ssl' when the service was found inside TLS. */
  tunnel?: string;
  ostype?: string;
  cpe?: string[];
  /** NSE script results on this port (set only when a script ran and reported). */
  scripts?: NmapScriptResult[];
}

/** One element of an NSE script's structured output: a value or a nested table, optionally keyed. */
export type NmapScriptElement =
  { readonly key?: string; readonly value: string } | { readonly key?: string; readonly table: NmapScriptElement[] };

/** What one NSE script reported (`<script id output>` with its `<elem>`/`<table>` children). */
export interface NmapScriptResult {
  readonly id: string;
  /** The script's text output, as nmap prints it. */
  readonly output: string;
  /** Its structured output (empty for scripts that return text only). */
  readonly elements: NmapScriptElement[];
}

export interface NmapHost {
  address: string;
  /** 'ipv4' | 'ipv6'. */
  address_type: string;
  hostnames: string[];
  /** 'up' | 'down' | 'unknown' | 'skipped'. */
  status: string;
  /** Why ('user-set' with -Pn, 'syn-ack', 'localhost-response', ...). */
  status_reason: string | null;
  /** Smoothed round-trip time in seconds, or null. */
  latency: number | null;
  /** nmap gave up on this host (--host-timeout): its ports are unknown. */
  timed_out: boolean;
  open_ports: NmapPort[];
  /** How many ports were seen in each state, including nmap's collapsed <extraports>. */
  port_counts: Record<string, number>;
  /** Host NSE script results (`<hostscript>`; set only when present). */
  host_scripts?: NmapScriptResult[];
}

export interface NmapSkippedTarget {
  specification: string;
  status: string;
  reason: string | null;
}

export interface NmapResult {
  scanner_version: string | null;
  /** The command line nmap reports it ran. */
  args: string | null;
  /** Scan techniques run: [{type: 'connect' | 'syn' | ..., protocol: 'tcp', services: count}]. */
  scan_info: Array<{ type: string; protocol: string; services: number | null }>;
  hosts: NmapHost[];
  /** Targets nmap could not scan at all (no route, IPv6 without -6, ...). */
  skipped_targets: NmapSkippedTarget[];
  runstats: {
    /** Seconds. */
    elapsed: number | null;
    summary: string;
    /** 'success' | 'error'. */
    exit: string;
    errormsg?: string;
    hosts: { up: number; down: number; total: number };
  };
}

function parseScriptElements(element: XmlElement): NmapScriptElement[] {
  const elements: NmapScriptElement[] = [];
  for (const c of element.children) {
    const key = c.attributes.key;
    if (c.name === 'elem') elements.push(key !== undefined ? { key, value: c.text } : { value: c.text });
    else if (c.name === 'table') {
      const table = parseScriptElements(c);
      elements.push(key !== undefined ? { key, table } : { table });
    }
  }
  return elements;
}

function parseScripts(parent: XmlElement): NmapScriptResult[] {
  return childrenNamed(parent, 'script').map((script) => ({
    id: requiredAttr(script, 'id'),
    output: script.attributes.output ?? '',
    elements: parseScriptElements(script),
  }));
}

function parsePort(element: XmlElement): { port: NmapPort; state: string } {
  const portid = Number(requiredAttr(element, 'portid'));
  if (!Number.isInteger(portid) || portid < 0 || portid > 65535) {
    throw new NmapOutputError(`invalid nmap XML output: bad portid ${JSON.stringify(element.attributes.portid)}`);
  }
  const stateElement = child(element, 'state');
  if (!stateElement) throw new NmapOutputError(`invalid nmap XML output: port ${portid} has no <state>`);
  const state = requiredAttr(stateElement, 'state');
  const service = child(element, 'service');
  const method = service?.attributes.method;
  const port: NmapPort = {
    port: portid,
    protocol: requiredAttr(element, 'protocol'),
    state,
    reason: stateElement.attributes.reason ?? null,
    service: service?.attributes.name ?? 'unknown',
    method: method === 'probed' || method === 'table' ? method : null,
    confidence: numberAttr(service, 'conf'),
  };
  for (const key of ['product', 'version', 'extrainfo', 'tunnel', 'ostype'] as const) {
    const value = service?.attributes[key];
    if (value !== undefined && value !== '') port[key] = value;
  }
  const cpe = service
    ? childrenNamed(service, 'cpe')
        .map((c) => c.text.trim())
        .filter((c) => c !== '')
    : [];
  if (cpe.length > 0) port.cpe = cpe;
  const scripts = parseScripts(element);
  if (scripts.length > 0) port.scripts = scripts;
  return { port, state };
}

function parseHost(element: XmlElement): NmapHost {
  const addresses = childrenNamed(element, 'address');
  const ip =
    addresses.find((a) => a.attributes.addrtype === 'ipv4' || a.attributes.addrtype === 'ipv6') ?? addresses[0];
  if (!ip) throw new NmapOutputError('invalid nmap XML output: <host> without <address>');
  const status = child(element, 'status');
  if (!status) throw new NmapOutputError('invalid nmap XML output: <host> without <status>');
  const hostnamesElement = child(element, 'hostnames');
  const hostnames = hostnamesElement
    ? childrenNamed(hostnamesElement, 'hostname')
        .map((h) => h.attributes.name ?? '')
        .filter((name, index, all) => name !== '' && all.indexOf(name) === index)
    : [];
  const srtt = numberAttr(child(element, 'times'), 'srtt');
  const open_ports: NmapPort[] = [];
  const port_counts: Record<string, number> = {};
  const ports = child(element, 'ports');
  if (ports) {
    for (const extra of childrenNamed(ports, 'extraports')) {
      const state = requiredAttr(extra, 'state');
      const count = numberAttr(extra, 'count') ?? 0;
      port_counts[state] = (port_counts[state] ?? 0) + count;
    }
    for (const portElement of childrenNamed(ports, 'port')) {
      const { port, state } = parsePort(portElement);
      port_counts[state] = (port_counts[state] ?? 0) + 1;
      if (state === 'open') open_ports.push(port);
    }
  }
  open_ports.sort((a, b) => a.port - b.port || a.protocol.localeCompare(b.protocol));
  const hostscript = child(element, 'hostscript');
  const host_scripts = hostscript ? parseScripts(hostscript) : [];
  return {
    address: requiredAttr(ip, 'addr'),
    address_type: ip.attributes.addrtype ?? 'ipv4',
    hostnames,
    status: requiredAttr(status, 'state'),
    status_reason: status.attributes.reason ?? null,
    latency: srtt !== null && srtt >= 0 ? srtt / 1_000_000 : null,
    timed_out: element.attributes.timedout === 'true',
    open_ports,
    port_counts,
    ...(host_scripts.length > 0 ? { host_scripts } : {}),
  };
}

/** Parses nmap's XML output. Throws NmapOutputError on anything else. */
export function parseNmapXml(xml: string): NmapResult {
  if (typeof xml !== 'string' || xml.trim() === '') {
    throw new NmapOutputError('invalid nmap XML output: empty output');
  }
  const root = parseXml(xml);
  if (root.name !== 'nmaprun' || root.attributes.scanner !== 'nmap') {
    throw new NmapOutputError(
      `not nmap XML output: root element is <${root.name}>${root.name === 'nmaprun' ? ' without scanner="nmap"' : ''}`,
    );
  }
  const runstats = child(root, 'runstats');
  const finished = runstats && child(runstats, 'finished');
  if (!runstats || !finished) {
    throw new NmapOutputError('incomplete nmap XML output: no <runstats><finished/> (nmap stopped before the end)');
  }
  const hostsStats = child(runstats, 'hosts');
  const runstatsOut: NmapResult['runstats'] = {
    elapsed: numberAttr(finished, 'elapsed'),
    summary: finished.attributes.summary ?? '',
    exit: finished.attributes.exit ?? 'success',
    hosts: {
      up: numberAttr(hostsStats, 'up') ?? 0,
      down: numberAttr(hostsStats, 'down') ?? 0,
      total: numberAttr(hostsStats, 'total') ?? 0,
    },
  };
  if (finished.attributes.errormsg) runstatsOut.errormsg = finished.attributes.errormsg;
  return {
    scanner_version: root.attributes.version ?? null,
    args: root.attributes.args ?? null,
    scan_info: childrenNamed(root, 'scaninfo').map((s) => ({
      type: s.attributes.type ?? 'unknown',
      protocol: s.attributes.protocol ?? 'unknown',
      services: numberAttr(s, 'numservices'),
    })),
    hosts: childrenNamed(root, 'host').map(parseHost),
    skipped_targets: childrenNamed(root, 'target').map((t) => ({
      specification: t.attributes.specification ?? '',
      status: t.attributes.status ?? 'skipped',
      reason: t.attributes.reason ?? null,
    })),
    runstats: runstatsOut,
  };
}

// ------------------------------------------------------------------ API shape

export interface ScanResultPort {
  port: number;
  protocol: string;
  service: string;
  state: string;
  product?: string;
  version?: string;
  extrainfo?: string;
  tunnel?: string;
  /** The host the port belongs to (always set, so one shape serves one host and ranges). */
  host: string;
}

export interface ScanResultHost {
  address: string;
  hostnames: string[];
  status: string;
  latency: number | null;
  timed_out: boolean;
  open_port_count: number;
}

/** The API's nmap `scan_result`: the documented `{open_ports, host_info}`, plus `hosts`. */
export interface NmapScanResult {
  open_ports: ScanResultPort[];
  /**
   * One host: that host. Several (a range): status 'up' if any host is up, latency the
   * lowest measured. No host at all: status 'down', latency null.
   */
  host_info: { status: string; latency: number | null };
  hosts: ScanResultHost[];
}

export function toScanResult(result: NmapResult): NmapScanResult {
  const open_ports: ScanResultPort[] = [];
  for (const host of result.hosts) {
    for (const p of host.open_ports) {
      const port: ScanResultPort = {
        port: p.port,
        protocol: p.protocol,
        service: p.service,
        state: p.state,
        host: host.address,
      };
      if (p.product !== undefined) port.product = p.product;
      if (p.version !== undefined) port.version = p.version;
      if (p.extrainfo !== undefined) port.extrainfo = p.extrainfo;
      if (p.tunnel !== undefined) port.tunnel = p.tunnel;
      open_ports.push(port);
    }
  }
  const hosts: ScanResultHost[] = result.hosts.map((h) => ({
    address: h.address,
    hostnames: [...h.hostnames],
    status: h.status,
    latency: h.latency,
    timed_out: h.timed_out,
    open_port_count: h.open_ports.length,
  }));
  let host_info: NmapScanResult['host_info'];
  const [only] = result.hosts;
  if (result.hosts.length === 1 && only) {
    host_info = { status: only.status, latency: only.latency };
  } else if (result.hosts.length === 0) {
    host_info = { status: 'down', latency: null };
  } else {
    const up = result.hosts.filter((h) => h.status === 'up');
    const latencies = up.map((h) => h.latency).filter((l): l is number => l !== null);
    host_info = {
      status: up.length > 0 ? 'up' : 'down',
      latency: latencies.reduce<number | null>((min, l) => (min === null || l < min ? l : min), null),
    };
  }
  return { open_ports, host_info, hosts };
}
