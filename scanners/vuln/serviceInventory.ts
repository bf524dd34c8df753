/**
 * Pure: the service inventory of a discovery run (nmap -sV + banner), and which of its
 * services our TLS, web and template engines should look at.
 *
 * - Every open TCP port is one service: host (the target's name, never the address),
 *   port, protocol, nmap's service name, product, version, extra info, CPEs, whether
 *   nmap found it inside TLS, and its banner (nmap's `banner` script).
 * - TLS: "yes" when nmap found the service inside TLS (`tunnel="ssl"`) or probed it as a
 *   TLS service; "no" when nmap probed a plain-text protocol; otherwise "unknown" (the
 *   port-number guess, `unknown`, `tcpwrapped`): the runner asks the TLS engine whether
 *   it completes a handshake. STARTTLS upgrades (SMTP, IMAP, ...) are not TLS here.
 * - HTTP: nmap named the service HTTP (probed or guessed from the port).
 */
import type { NmapPort, NmapResult } from '../nmap/nmapParser.js';

export interface ServiceRecord {
  /** The target's name as the user gave it. */
  readonly host: string;
  readonly port: number;
  readonly protocol: string;
  readonly service: string;
  readonly product?: string;
  readonly version?: string;
  readonly extrainfo?: string;
  readonly cpe: readonly string[];
  /** 'ssl' when nmap found the service inside TLS. */
  readonly tunnel?: string;
  /** How nmap named it: probed (-sV matched), table (port-number guess), null. */
  readonly method: 'probed' | 'table' | null;
  readonly banner?: string;
}

export type TlsVerdict = 'yes' | 'no' | 'unknown';

const MAX_BANNER = 500;

/** Service names that are TLS from the first byte when nmap names them so. */
const TLS_SERVICE_NAMES = new Set([
  'https',
  'https-alt',
  'ssl',
  'tls',
  'imaps',
  'pop3s',
  'smtps',
  'submissions',
  'ldaps',
  'ldapssl',
  'ftps',
  'ftps-data',
  'ircs',
  'ircs-u',
  'nntps',
  'telnets',
  'sip-tls',
  'xmpp-client-ssl',
]);

/** Service names nmap gives to HTTP servers. */
const HTTP_SERVICE_NAMES = new Set([
  'http',
  'https',
  'http-alt',
  'https-alt',
  'http-proxy',
  'http-mgmt',
  'http-rpc-epmap',
  'sun-answerbook',
]);

/** Names that do not identify a protocol. */
const UNIDENTIFIED = new Set(['unknown', 'tcpwrapped', '']);

export function serviceRecord(hostLabel: string, port: NmapPort): ServiceRecord {
  const banner = port.scripts?.find((s) => s.id === 'banner')?.output.trim();
  return {
    host: hostLabel,
    port: port.port,
    protocol: port.protocol,
    service: port.service,
    ...(port.product !== undefined ? { product: port.product } : {}),
    ...(port.version !== undefined ? { version: port.version } : {}),
    ...(port.extrainfo !== undefined ? { extrainfo: port.extrainfo } : {}),
    cpe: port.cpe ?? [],
    ...(port.tunnel !== undefined ? { tunnel: port.tunnel } : {}),
    method: port.method,
    ...(banner ? { banner: banner.length > MAX_BANNER ? `${banner.slice(0, MAX_BANNER - 1)}…` : banner } : {}),
  };
}

/** Every open TCP port of every host of a discovery run, in port order. */
export function serviceInventory(result: NmapResult, hostLabel: string): ServiceRecord[] {
  return result.hosts
    .flatMap((host) => host.open_ports.filter((p) => p.protocol === 'tcp').map((p) => serviceRecord(hostLabel, p)))
    .sort((a, b) => a.port - b.port);
}

export function tlsVerdict(service: ServiceRecord): TlsVerdict {
  if (service.tunnel === 'ssl') return 'yes';
  const name = service.service.toLowerCase();
  if (service.method === 'probed' && !UNIDENTIFIED.has(name)) return TLS_SERVICE_NAMES.has(name) ? 'yes' : 'no';
  return 'unknown';
}

export function isHttpService(service: ServiceRecord): boolean {
  const name = service.service.toLowerCase();
  return HTTP_SERVICE_NAMES.has(name) || /^https?[-_]/.test(name);
}

/** The scheme to speak to an HTTP service, given whether it speaks TLS. */
export function httpScheme(service: ServiceRecord, speaksTls: boolean): 'http' | 'https' {
  return speaksTls || service.tunnel === 'ssl' || service.service.toLowerCase().startsWith('https') ? 'https' : 'http';
}
