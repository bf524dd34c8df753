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

// ------------------------------------------------------------------ XML reader

interface XmlElement {
  readonly name: string;
  readonly attributes: Readonly<Record<string, string>>;
  readonly children: XmlElement[];
  text: string;
}

const NAME = /[A-Za-z_:][A-Za-z0-9_.:-]*/y;
const ENTITY = /&(?:#x([0-9A-Fa-f]{1,6})|#([0-9]{1,7})|([A-Za-z]{2,4}));/y;
const NAMED_ENTITIES: Readonly<Record<string, string>> = { quot: '"', amp: '&', lt: '<', gt: '>', apos: "'" };
const MAX_DEPTH = 64;

function xmlError(message: string, offset: number): NmapOutputError {
  return new NmapOutputError(`invalid nmap XML output at offset ${offset}: ${message}`);
}

function decodeEntities(raw: string, offset: number): string {
  let amp = raw.indexOf('&');
  if (amp === -1) return raw;
  let out = '';
  let last = 0;
  while (amp !== -1) {
    out += raw.slice(last, amp);
    ENTITY.lastIndex = amp;
    const match = ENTITY.exec(raw);
    if (!match) throw xmlError(`bad character reference ${JSON.stringify(raw.slice(amp, amp + 12))}`, offset + amp);
    const [, hex, dec, named] = match;
    if (named !== undefined) {
      const char = NAMED_ENTITIES[named];
      if (char === undefined) throw xmlError(`unknown entity &${named};`, offset + amp);
      out += char;
    } else {
      const code = hex !== undefined ? parseInt(hex, 16) : parseInt(dec ?? '', 10);
      if (code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) {
        throw xmlError(`character reference out of range (${code})`, offset + amp);
      }
      out += code === 0 ? '\ufffd' : String.fromCodePoint(code);
    }
    last = ENTITY.lastIndex;
    amp = raw.indexOf('&', last);
  }
  return out + raw.slice(last);
}

function isBlank(text: string): boolean {
  return /^[ \t\r\n]*$/.test(text);
}

/** Parses a whole document and returns its root element. */
function parseXml(xml: string): XmlElement {
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  let i = xml.charCodeAt(0) === 0xfeff ? 1 : 0;
  const length = xml.length;

  const skipTo = (token: string, from: number, what: string): number => {
    const end = xml.indexOf(token, from);
    if (end === -1) throw xmlError(`unterminated ${what} (output truncated?)`, from);
    return end + token.length;
  };

  while (i < length) {
    const lt = xml.indexOf('<', i);
    const textEnd = lt === -1 ? length : lt;
    if (textEnd > i) {
      const raw = xml.slice(i, textEnd);
      const parent = stack[stack.length - 1];
      if (parent) parent.text += decodeEntities(raw, i);
      else if (!isBlank(raw)) throw xmlError('text outside the root element', i);
      i = textEnd;
      continue;
    }
    // xml[i] === '<'
    if (xml.startsWith('<!--', i)) {
      i = skipTo('-->', i + 4, 'comment');
    } else if (xml.startsWith('<?', i)) {
      i = skipTo('?>', i + 2, 'processing instruction');
    } else if (xml.startsWith('<![CDATA[', i)) {
      const end = skipTo(']]>', i + 9, 'CDATA section');
      const parent = stack[stack.length - 1];
      if (!parent) throw xmlError('CDATA outside the root element', i);
      parent.text += xml.slice(i + 9, end - 3);
      i = end;
    } else if (xml.startsWith('<!DOCTYPE', i)) {
      if (root || stack.length > 0) throw xmlError('DOCTYPE after the root element started', i);
      const end = skipTo('>', i + 9, 'DOCTYPE');
      if (xml.slice(i, end).includes('[')) throw xmlError('DOCTYPE with an internal subset is not accepted', i);
      i = end;
    } else if (xml.startsWith('</', i)) {
      NAME.lastIndex = i + 2;
      const match = NAME.exec(xml);
      if (!match) throw xmlError('bad end tag', i);
      const name = match[0];
      let j = NAME.lastIndex;
      while (j < length && ' \t\r\n'.includes(xml[j] ?? '')) j++;
      if (xml[j] !== '>') throw xmlError(j >= length ? `unterminated end tag </${name}` : 'bad end tag', i);
      const open = stack.pop();
      if (!open || open.name !== name) {
        throw xmlError(`end tag </${name}> does not match ${open ? `<${open.name}>` : 'any open element'}`, i);
      }
      i = j + 1;
    } else {
      NAME.lastIndex = i + 1;
      const match = NAME.exec(xml);
      if (!match) throw xmlError('bad start tag', i);
      const element: XmlElement = {
        name: match[0],
        attributes: Object.create(null) as Record<string, string>,
        children: [],
        text: '',
      };
      const attributes = element.attributes as Record<string, string>;
      let j = NAME.lastIndex;
      let selfClosing = false;
      for (;;) {
        const start = j;
        while (j < length && ' \t\r\n'.includes(xml[j] ?? '')) j++;
        if (j >= length) throw xmlError(`unterminated start tag <${element.name} (output truncated?)`, i);
        if (xml[j] === '>') {
          j += 1;
          break;
        }
        if (xml.startsWith('/>', j)) {
          j += 2;
          selfClosing = true;
          break;
        }
        if (j === start) throw xmlError(`expected whitespace between attributes in <${element.name}>`, j);
        NAME.lastIndex = j;
        const attr = NAME.exec(xml);
        if (!attr) throw xmlError(`bad attribute in <${element.name}>`, j);
        j = NAME.lastIndex;
        while (j < length && ' \t\r\n'.includes(xml[j] ?? '')) j++;
        if (xml[j] !== '=') throw xmlError(`attribute ${attr[0]} without a value in <${element.name}>`, j);
        j += 1;
        while (j < length && ' \t\r\n'.includes(xml[j] ?? '')) j++;
        const quote = xml[j];
        if (quote !== '"' && quote !== "'") {
          throw xmlError(
            j >= length ? `unterminated start tag <${element.name} (output truncated?)` : 'unquoted attribute value',
            j,
          );
        }
        const close = xml.indexOf(quote, j + 1);
        if (close === -1) throw xmlError(`unterminated attribute value in <${element.name}> (output truncated?)`, j);
        const raw = xml.slice(j + 1, close);
        if (raw.includes('<')) throw xmlError(`'<' in attribute value of <${element.name}>`, j);
        if (Object.prototype.hasOwnProperty.call(attributes, attr[0])) {
          throw xmlError(`duplicate attribute ${attr[0]} in <${element.name}>`, j);
        }
        attributes[attr[0]] = decodeEntities(raw, j + 1);
        j = close + 1;
      }
      const parent = stack[stack.length - 1];
      if (parent) parent.children.push(element);
      else if (root) throw xmlError('more than one root element', i);
      else root = element;
      if (!selfClosing) {
        if (stack.length >= MAX_DEPTH) throw xmlError('elements nested too deeply', i);
        stack.push(element);
      }
      i = j;
    }
  }
  const unclosed = stack[stack.length - 1];
  if (unclosed) throw xmlError(`<${unclosed.name}> is never closed (output truncated?)`, length);
  if (!root) throw new NmapOutputError('invalid nmap XML output: no root element (empty output?)');
  return root;
}

function child(element: XmlElement, name: string): XmlElement | undefined {
  return element.children.find((c) => c.name === name);
}

function childrenNamed(element: XmlElement, name: string): XmlElement[] {
  return element.children.filter((c) => c.name === name);
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
