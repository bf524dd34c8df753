/**
 * Finding locations of the vulnerability scan, and the endpoint (host, port) any
 * engine's location points at. Locations name the target as the user gave it
 * (`target.hostname`), never the address DNS gave us.
 *
 * - a service: "host:port/tcp" ("[2001:db8::1]:443/tcp" for IPv6), like the nmap scanner;
 * - the host as a whole: "host";
 * - other engines write "host:port" (TLS) or a URL ("https://host:8443/login").
 */

export function bracketed(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

export function serviceLocation(host: string, port: number, protocol = 'tcp'): string {
  return `${bracketed(host)}:${port}/${protocol}`;
}

export interface Endpoint {
  /** Lower case, without brackets. */
  readonly host: string;
  readonly port: number | null;
}

const DEFAULT_PORTS: Readonly<Record<string, number>> = { http: 80, https: 443 };

/**
 * The host and port a location points at, whatever engine wrote it; port null for
 * host-wide locations. Unparseable text gives the text itself as host, port null.
 */
export function endpointOf(location: string): Endpoint {
  const text = location.trim();
  const url = /^([a-z][a-z0-9+.-]*):\/\//i.exec(text);
  if (url) {
    try {
      const parsed = new URL(text);
      const scheme = parsed.protocol.replace(/:$/, '').toLowerCase();
      const port = parsed.port !== '' ? Number(parsed.port) : (DEFAULT_PORTS[scheme] ?? null);
      return { host: parsed.hostname.replace(/^\[|\]$/g, '').toLowerCase(), port };
    } catch {
      return { host: text.toLowerCase(), port: null };
    }
  }
  const v6 = /^\[([^\]]+)\](?::(\d{1,5}))?(?:\/[a-z]+)?(?:\s|$)/i.exec(text);
  if (v6) return { host: (v6[1] ?? '').toLowerCase(), port: v6[2] !== undefined ? Number(v6[2]) : null };
  const hostPort = /^([^\s/:]+)(?::(\d{1,5}))?(?:\/[a-z]+)?(?:\s|$)/i.exec(text);
  if (hostPort) {
    return { host: (hostPort[1] ?? '').toLowerCase(), port: hostPort[2] !== undefined ? Number(hostPort[2]) : null };
  }
  return { host: text.toLowerCase(), port: null };
}
