/**
 * Pure: from a parsed nmap result to our normalized findings.
 *
 * - Every open port is one 'info' finding ("Open port 8080/tcp (http-proxy)").
 * - An open port that exposes a risky service also gets one risk finding (the first
 *   matching rule below, most severe first).
 * - How a service is recognized: when nmap identified it by probing (`-sV`,
 *   method="probed"), by the name/product nmap found, wherever the port is; otherwise
 *   (no -sV, or -sV could not tell) nmap's name is only a guess from the port number,
 *   so we go by the port number. A port -sV identified as something else (e.g. HTTP on
 *   3306) is not flagged as the service usually found there.
 * - `location` is "host:port/protocol" ("[::1]:8080/tcp" for IPv6), where host is the
 *   target's name as the user gave it (`hostLabel`), never an address DNS gave us; for
 *   a range target, the address of the host inside the range.
 * - `rule_id` is "nmap.<rule>" ("nmap.open-port" for the open-port finding, whatever
 *   service nmap named), so a finding's identity (computed in the domain from the
 *   target, scanner, rule and location) stays the same whether or not nmap identified
 *   the service.
 * - A host nmap gave up on (--host-timeout) gets an 'info' finding saying so.
 */
import type { Risk, ScannerFinding } from '../../domain/shared/finding.js';
import type { NmapHost, NmapPort, NmapResult } from './nmapParser.js';

interface ServiceRule {
  readonly name: string;
  readonly risk: Risk;
  /** Service names nmap gives after probing (-sV). */
  readonly services: readonly string[];
  /** Ports where this service usually listens: used when nmap did not identify the service. */
  readonly ports: readonly number[];
  /** Probed service names that count only on one of `ports` (e.g. plain 'http' on 9200). */
  readonly probedServicesOnPort?: readonly string[];
  /** Matched against the product -sV found. */
  readonly products?: RegExp;
  /** Does not apply when nmap found the service inside TLS. */
  readonly plaintextOnly?: boolean;
  readonly description: string;
  readonly solution: string;
  readonly references?: readonly string[];
}

const CLEARTEXT = 'CWE-319: Cleartext Transmission of Sensitive Information';
const NO_AUTH = 'CWE-306: Missing Authentication for Critical Function';
const EXPOSED = 'CWE-284: Improper Access Control';

const HTTP_NAMES = ['http', 'https', 'http-proxy', 'https-alt', 'http-alt'];

function databaseRule(
  product: string,
  services: string[],
  ports: number[],
  extra: Partial<ServiceRule> = {},
): ServiceRule {
  return {
    name: `${product} database exposed`,
    risk: 'high',
    services,
    ports,
    description:
      `A ${product} server answers on this port. Databases reachable from untrusted networks are ` +
      'a prime target: default or weak credentials, missing authentication and unpatched ' +
      'server bugs lead directly to data theft, ransom and data destruction, and the port is ' +
      'found by mass scanners within hours of being exposed.',
    solution:
      `Do not expose ${product} to the network the scan came from: bind it to localhost or a ` +
      'private interface, allow only the application hosts in the firewall or security group, ' +
      'require authentication with strong unique credentials, enable TLS, and reach it ' +
      'remotely only through a VPN or SSH tunnel.',
    references: [EXPOSED, NO_AUTH],
    ...extra,
  };
}

/** Most severe first; the first rule that matches a port wins. */
const RULES: readonly ServiceRule[] = [
  {
    name: 'Docker Engine API exposed without TLS',
    risk: 'critical',
    services: ['docker'],
    ports: [2375],
    plaintextOnly: true,
    description:
      'The Docker Engine API answers without TLS. Anyone who can reach it controls the Docker ' +
      'daemon without credentials: they can start a privileged container that mounts the host ' +
      'file system, which is full root access to the host.',
    solution:
      'Stop listening on tcp://0.0.0.0:2375: remove the -H tcp:// flag or "hosts" entry from the ' +
      'daemon configuration and use the local Unix socket or SSH (DOCKER_HOST=ssh://...). If remote ' +
      'access is required, listen on 2376 with TLS and client-certificate verification (--tlsverify) ' +
      "and firewall the port to the administrators' addresses.",
    references: [NO_AUTH, 'https://docs.docker.com/engine/security/protect-access/'],
  },
  {
    name: 'Kubernetes API server exposed',
    risk: 'high',
    services: [],
    ports: [6443],
    products: /kubernetes/i,
    probedServicesOnPort: HTTP_NAMES,
    description:
      'A Kubernetes API server is reachable. It controls the whole cluster; an exposed API server ' +
      'invites credential stuffing, exploitation of API server vulnerabilities and abuse of any ' +
      'anonymous or over-broad RBAC permissions.',
    solution:
      'Restrict the API server endpoint to trusted networks (private endpoint, authorized networks ' +
      'or firewall), disable anonymous authentication (--anonymous-auth=false), review RBAC bindings ' +
      'for system:anonymous and system:unauthenticated, and keep the control plane patched.',
    references: [EXPOSED],
  },
  {
    name: 'Kubernetes kubelet API exposed',
    risk: 'high',
    services: ['kubelet'],
    ports: [10250, 10255],
    products: /kubelet/i,
    probedServicesOnPort: HTTP_NAMES,
    description:
      'A Kubernetes kubelet API is reachable (10250, or the read-only port 10255). A kubelet that ' +
      'allows anonymous access lets anyone list pods and, on 10250, run commands inside containers; ' +
      'even the read-only port leaks pod specs, environment and secrets references.',
    solution:
      'Firewall the kubelet ports so only the control plane can reach them, set ' +
      '--anonymous-auth=false and --authorization-mode=Webhook on every kubelet, and disable the ' +
      'read-only port (--read-only-port=0).',
    references: [NO_AUTH, 'https://kubernetes.io/docs/reference/access-authn-authz/kubelet-authn-authz/'],
  },
  {
    name: 'etcd exposed',
    risk: 'high',
    services: ['etcd', 'etcd-client'],
    ports: [2379],
    description:
      'An etcd client port is reachable. etcd stores the whole state of a Kubernetes cluster, ' +
      'including Secrets; without client-certificate authentication anyone reaching it can read and ' +
      'rewrite that state.',
    solution:
      'Allow only the API servers to reach etcd (firewall), require client certificates ' +
      '(--client-cert-auth=true with --trusted-ca-file), serve over TLS, and enable encryption of ' +
      'Secrets at rest.',
    references: [NO_AUTH],
  },
  {
    name: 'Telnet service exposed',
    risk: 'high',
    services: ['telnet'],
    ports: [23],
    description:
      'A Telnet server is reachable. Telnet sends the whole session, user names and passwords ' +
      'included, in cleartext, so anyone on the path can capture credentials; Telnet services are ' +
      'also a favourite target of password-guessing botnets.',
    solution:
      'Disable the Telnet service and use SSH instead (key-based authentication, no password ' +
      'logins). If a device only supports Telnet, put it on an isolated management network ' +
      'reachable only through a VPN.',
    references: [CLEARTEXT],
  },
  {
    name: 'Berkeley r-services (rexec/rlogin/rsh) exposed',
    risk: 'high',
    services: ['exec', 'login', 'shell', 'rexec', 'rlogin', 'rsh'],
    ports: [512, 513, 514],
    description:
      'A Berkeley r-service (rexec 512, rlogin 513 or rsh 514) is reachable. These protocols send ' +
      'credentials in cleartext and rely on host-based trust (.rhosts, hosts.equiv) that an attacker ' +
      'can spoof, giving remote command execution without a password.',
    solution:
      'Disable rexecd, rlogind and rshd (remove the packages or their inetd/systemd units) and use ' +
      'SSH instead; remove .rhosts and /etc/hosts.equiv files.',
    references: [CLEARTEXT, 'CWE-290: Authentication Bypass by Spoofing'],
  },
  {
    name: 'SMB / NetBIOS file sharing exposed',
    risk: 'high',
    services: ['netbios-ssn', 'microsoft-ds', 'smb'],
    ports: [139, 445],
    description:
      'Windows file sharing (SMB on 445, NetBIOS session service on 139) is reachable. SMB exposed ' +
      'beyond the local network has been the entry point of wormable exploits (EternalBlue/WannaCry, ' +
      'SMBGhost), NTLM relay and password spraying, and it can leak share and user names.',
    solution:
      'Block TCP 139 and 445 at the network edge and allow them only between hosts that need file ' +
      'sharing; disable SMBv1, require SMB signing, keep the server patched, and use a VPN for remote ' +
      'file access.',
    references: [EXPOSED],
  },
  {
    name: 'VNC remote desktop exposed',
    risk: 'high',
    services: ['vnc', 'vnc-1', 'vnc-2', 'vnc-3'],
    ports: [5900, 5901, 5902, 5903, 5904, 5905, 5906],
    description:
      'A VNC server is reachable. VNC gives full control of a desktop; many servers use a short ' +
      'password (8 characters at most in classic VNC authentication), some none at all, and the ' +
      'traffic is usually not encrypted.',
    solution:
      'Do not expose VNC: bind it to localhost and reach it through an SSH tunnel or a VPN, require ' +
      "a strong password (or the platform's own authentication), and enable encryption where the " +
      'server supports it.',
    references: [EXPOSED, CLEARTEXT],
  },
  databaseRule('MySQL/MariaDB', ['mysql'], [3306]),
  databaseRule('PostgreSQL', ['postgresql'], [5432]),
  databaseRule('Microsoft SQL Server', ['ms-sql-s'], [1433]),
  databaseRule('Oracle', ['oracle', 'oracle-tns'], [1521]),
  databaseRule('MongoDB', ['mongodb', 'mongod'], [27017]),
  databaseRule('Redis', ['redis'], [6379]),
  databaseRule('Elasticsearch', ['elasticsearch'], [9200], {
    products: /elasticsearch/i,
    probedServicesOnPort: HTTP_NAMES,
  }),
  databaseRule('Memcached', ['memcached', 'memcache'], [11211]),
  databaseRule('CouchDB', ['couchdb'], [5984], { products: /couchdb/i, probedServicesOnPort: HTTP_NAMES }),
  databaseRule('Cassandra', ['cassandra'], [9042], { products: /cassandra/i }),
  {
    name: 'SNMP service exposed',
    risk: 'medium',
    services: ['snmp', 'smux'],
    ports: [161, 199],
    description:
      'An SNMP service is reachable. SNMP v1/v2c authenticate with a community string sent in ' +
      'cleartext, often left at "public"/"private"; it discloses detailed system and network ' +
      'information and, with a write community, allows reconfiguration.',
    solution:
      'Block SNMP at the network edge and allow only the monitoring hosts; move to SNMPv3 with ' +
      'authentication and privacy (authPriv), or at least replace default community strings and ' +
      'disable write access.',
    references: [CLEARTEXT],
  },
  {
    name: 'Remote Desktop (RDP) exposed',
    risk: 'medium',
    services: ['ms-wbt-server'],
    ports: [3389],
    description:
      'Microsoft Remote Desktop is reachable. Internet-facing RDP is one of the most common ransomware ' +
      'entry points, through password spraying and RDP vulnerabilities (e.g. BlueKeep).',
    solution:
      'Put RDP behind a VPN or a Remote Desktop Gateway instead of exposing it, require Network Level ' +
      'Authentication and multi-factor authentication, enforce account lockout, and keep the host patched.',
    references: [EXPOSED],
  },
  {
    name: 'FTP service exposed (cleartext)',
    risk: 'medium',
    services: ['ftp'],
    ports: [21],
    plaintextOnly: true,
    description:
      'An FTP server is reachable. Plain FTP sends user names, passwords and files in cleartext, ' +
      'and servers are often misconfigured to allow anonymous access (not checked by this scan).',
    solution:
      'Replace FTP with SFTP (over SSH) or FTPS with TLS required for both control and data ' +
      'channels; disable anonymous login, and restrict the port to the clients that need it.',
    references: [CLEARTEXT],
  },
  {
    name: 'Webmin administration interface exposed',
    risk: 'medium',
    services: ['webmin'],
    ports: [10000],
    products: /webmin|miniserv/i,
    probedServicesOnPort: [...HTTP_NAMES, 'snet-sensor-mgmt'],
    description:
      'A Webmin (MiniServ) administration panel is reachable. It gives root-level control of the ' +
      'server through a web login, and Webmin has had remotely exploitable vulnerabilities ' +
      '(e.g. CVE-2019-15107).',
    solution:
      "Restrict port 10000 to administrators' addresses or a VPN, keep Webmin updated, enable " +
      'two-factor authentication and brute-force blocking in its configuration, or uninstall it if unused.',
    references: [EXPOSED, 'CVE-2019-15107'],
  },
  {
    name: 'Web administration port exposed',
    risk: 'low',
    services: [],
    ports: [8080, 8443, 9090],
    probedServicesOnPort: [...HTTP_NAMES, 'zeus-admin'],
    description:
      'A web service answers on a port commonly used by administration consoles and development ' +
      'servers (8080, 8443, 9090: Tomcat manager, Jenkins, Cockpit, Prometheus, …). Such consoles ' +
      'are often left with default credentials or without authentication.',
    solution:
      'Check what runs on this port. If it is an administration or internal tool, restrict it to ' +
      'administrators (firewall, VPN or an authenticating reverse proxy) and change any default ' +
      'credentials; if it is the public site, serve it through HTTPS on 443.',
    references: [EXPOSED],
  },
  {
    name: 'Unencrypted HTTP service',
    risk: 'low',
    services: [],
    ports: [80],
    probedServicesOnPort: ['http'],
    plaintextOnly: true,
    description:
      'A web server answers over plain HTTP. Traffic to it can be read and modified in transit; ' +
      'this is acceptable only if the port does nothing but redirect to HTTPS.',
    solution:
      'Serve the site over HTTPS and make port 80 only redirect to it (301 to https://), then enable ' +
      'HTTP Strict Transport Security (Strict-Transport-Security header) so browsers stop using HTTP.',
    references: [CLEARTEXT],
  },
];

function ruleMatches(rule: ServiceRule, port: NmapPort): boolean {
  if (rule.plaintextOnly && port.tunnel === 'ssl') return false;
  if (port.method === 'probed') {
    if (rule.services.includes(port.service)) return true;
    if (rule.products && port.product !== undefined && rule.products.test(port.product)) return true;
    return rule.ports.includes(port.port) && (rule.probedServicesOnPort ?? []).includes(port.service);
  }
  // Not identified by probing: nmap's name is a guess from the port number.
  return rule.ports.includes(port.port);
}

/** "Docker Engine API exposed without TLS" → "nmap.docker-engine-api-exposed-without-tls". */
export function nmapRuleId(name: string): string {
  return `nmap.${name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '')}`;
}

function cweIds(references: readonly string[] | undefined): number[] {
  return (references ?? []).flatMap((r) => {
    const match = /^CWE-(\d+)/.exec(r);
    return match ? [Number(match[1])] : [];
  });
}

function bracketed(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

function describeService(port: NmapPort): string {
  const what = [port.product, port.version].filter((s): s is string => s !== undefined).join(' ');
  const extra = port.extrainfo !== undefined ? ` (${port.extrainfo})` : '';
  const tunnel = port.tunnel !== undefined ? `${port.tunnel}/` : '';
  return `${tunnel}${port.service}${what !== '' ? ` ${what}` : ''}${extra}`;
}

function evidence(host: NmapHost, port: NmapPort): string {
  const how =
    port.method === 'probed'
      ? 'identified by service probing (-sV)'
      : port.service === 'unknown'
        ? 'service not identified'
        : 'service name guessed from the port number (not probed)';
  const cpe = port.cpe !== undefined ? `; CPE: ${port.cpe.join(', ')}` : '';
  return `nmap: ${host.address} ${port.port}/${port.protocol} ${port.state}${port.reason !== null ? ` (${port.reason})` : ''}; service: ${describeService(port)}; ${how}${cpe}`;
}

const RISK_ORDER: Readonly<Record<Risk, number>> = { critical: 0, high: 1, medium: 2, low: 3, info: 4 };

export interface NmapFindingsOptions {
  /**
   * The name of a scanned address in locations: the target's host name (or IP) as the
   * user gave it for single-host targets; the address itself inside a range.
   */
  readonly hostLabel?: (address: string) => string;
}

export function nmapFindings(result: NmapResult, options: NmapFindingsOptions = {}): ScannerFinding[] {
  const label = options.hostLabel ?? ((address: string) => address);
  const findings: ScannerFinding[] = [];
  for (const host of result.hosts) {
    if (host.timed_out) {
      const location = label(host.address);
      findings.push({
        name: 'Host scan timed out',
        risk: 'info',
        description:
          `nmap gave up on ${host.address} when the scan's time limit was reached; nmap reports no port ` +
          "of a host it gave up on, so this host's open ports are unknown.",
        solution:
          'Scan again with a narrower port_range or without aggressive service detection, or check ' +
          'whether a firewall slows the scan down by dropping packets.',
        evidence: `nmap: ${host.address} timedout="true"`,
        location,
        rule_id: 'nmap.host-timed-out',
        engine: 'nmap',
        confidence: 'confirmed',
      });
    }
    for (const port of host.open_ports) {
      const location = `${bracketed(label(host.address))}:${port.port}/${port.protocol}`;
      const confidence = port.method === 'probed' ? 'high' : 'medium';
      const seen = evidence(host, port);
      const rule = RULES.find((r) => ruleMatches(r, port));
      if (rule) {
        const cwe = cweIds(rule.references);
        const finding: ScannerFinding = {
          name: rule.name,
          risk: rule.risk,
          description: rule.description,
          solution: rule.solution,
          evidence: seen,
          location,
          rule_id: nmapRuleId(rule.name),
          engine: 'nmap',
          confidence,
          ...(cwe.length ? { cwe } : {}),
          ...(rule.references ? { references: [...rule.references] } : {}),
        };
        findings.push(finding);
      }
      findings.push({
        name: `Open port ${port.port}/${port.protocol} (${port.service})`,
        risk: 'info',
        description:
          `nmap found ${port.protocol.toUpperCase()} port ${port.port} open on ${host.address}` +
          `${port.service !== 'unknown' ? `, service ${describeService(port)}` : ''}. Every open port is ` +
          'reachable attack surface.',
        solution:
          'Make sure this service is meant to be reachable from where the scan ran; otherwise stop it ' +
          'or restrict it with a firewall, and keep the software behind it up to date.',
        evidence: seen,
        location,
        rule_id: 'nmap.open-port',
        engine: 'nmap',
        confidence: 'confirmed',
      });
    }
  }
  // Stable sort: most severe first, scan order within a risk.
  return findings
    .map((finding, index) => ({ finding, index }))
    .sort((a, b) => RISK_ORDER[a.finding.risk] - RISK_ORDER[b.finding.risk] || a.index - b.index)
    .map(({ finding }) => finding);
}
