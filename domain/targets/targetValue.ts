/**
 * The `target_value` of a target: validated, typed and normalized.
 *
 * Only canonical forms pass. In particular the numeric spellings that resolvers
 * and the WHATWG URL parser quietly turn into addresses (`127.1`, `0x7f000001`,
 * `2130706433`, `0177.0.0.1`) are neither IP addresses nor hostnames here, so a
 * value can never reach a scanner meaning something other than what the SSRF
 * guard (`targetPolicy.ts`) checked. URLs are split by hand for the same reason;
 * `URL` is used only to normalize the path and query of an authority already
 * validated here.
 *
 * Parsing says nothing about whether a target may be scanned: `localhost` and
 * `10.0.0.1` parse fine. That is the policy's decision.
 */
import { z } from 'zod';
import {
  cidrSize,
  formatAddress,
  formatCidr,
  parseCidr,
  parseIpAddress,
  type IpAddress,
  type ParsedCidr,
} from './ipAddress.js';

export const TARGET_TYPES = ['ip', 'hostname', 'url', 'range'] as const;
export type TargetType = (typeof TARGET_TYPES)[number];
export const targetTypeSchema = z.enum(TARGET_TYPES);

export type ParsedUrl = {
  readonly scheme: 'http' | 'https';
  /** The effective port (80 / 443 when the URL names none). */
  readonly port: number;
  /** Path and query as sent in the request line (`/a/b?x=1`), always starting with `/`; no fragment. */
  readonly path: string;
};

export type ParsedTarget = {
  readonly type: TargetType;
  /** The value to store and show: canonical IP, lowercase hostname, normalized URL, or network/prefix. */
  readonly normalized: string;
  /** What to resolve or scan: a hostname, an IP literal (IPv6 unbracketed), or for ranges the CIDR. */
  readonly host: string;
  /** The literal addresses (ip targets, URLs with an IP host); empty for hostnames and ranges. */
  readonly addresses: readonly IpAddress[];
  readonly cidr?: ParsedCidr;
  readonly url?: ParsedUrl;
};

export type TargetParseResult = { ok: true; value: ParsedTarget } | { ok: false; error: string };

export const MAX_URL_LENGTH = 2048;
export const MAX_HOSTNAME_LENGTH = 253;
const MAX_LABEL_LENGTH = 63;

const DEFAULT_PORTS = { http: 80, https: 443 } as const;

// ---------------------------------------------------------------------------
// Hostnames

const LABEL = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/;
/** A label the WHATWG URL parser and inet_aton(3) would read as a number: decimal, or 0x-hex. */
const NUMERIC_LABEL = /^(?:\d+|0x[0-9a-f]*)$/;

function hasNonAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return true;
  return false;
}

/** Any whitespace (Unicode included), C0/C1 control character or DEL. */
function hasSpaceOrControl(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const code = s.charCodeAt(i);
    if (code < 0x21 || (code >= 0x7f && code <= 0x9f)) return true;
  }
  return /\s/.test(s);
}

/**
 * RFC 1123 host names: dot-separated labels of 1-63 letters, digits and '-'
 * (not at either end), at most 253 characters, at least two labels except
 * `localhost`, the last label not numeric (decimal or 0x-hex, so `127.1`,
 * `1.2.3` or `10.0.0.0x1` can never be resolved as an address). Lowercased; one
 * trailing dot (the DNS root) is dropped. IDNs must be given in punycode
 * (`xn--…` labels), never as raw Unicode.
 */
export function parseHostname(raw: string): { ok: true; hostname: string } | { ok: false; error: string } {
  if (hasNonAscii(raw)) {
    return {
      ok: false,
      error: 'target_value contains non-ASCII characters; give internationalized domain names in punycode (xn--…)',
    };
  }
  const hostname = (raw.endsWith('.') ? raw.slice(0, -1) : raw).toLowerCase();
  if (hostname === '') return { ok: false, error: 'target_value has an empty hostname' };
  if (hostname.length > MAX_HOSTNAME_LENGTH) {
    return { ok: false, error: `target_value hostname is longer than ${MAX_HOSTNAME_LENGTH} characters` };
  }
  if (hostname.includes(':')) {
    return {
      ok: false,
      error: 'target_value is not a valid hostname (to give a port, use a URL such as http://host:8080/)',
    };
  }
  const labels = hostname.split('.');
  for (const label of labels) {
    if (label === '') return { ok: false, error: 'target_value hostname has an empty label' };
    if (label.length > MAX_LABEL_LENGTH) {
      return { ok: false, error: `target_value hostname has a label longer than ${MAX_LABEL_LENGTH} characters` };
    }
    if (!LABEL.test(label)) {
      return {
        ok: false,
        error:
          'target_value is not a valid hostname (labels are letters, digits and hyphens, and do not start or end with a hyphen)',
      };
    }
  }
  if (NUMERIC_LABEL.test(labels[labels.length - 1]!)) {
    return {
      ok: false,
      error:
        'target_value is not a valid IP address or hostname (IPv4 is accepted only as a dotted quad such as 192.0.2.10)',
    };
  }
  if (labels.length < 2 && hostname !== 'localhost') {
    return { ok: false, error: 'target_value hostname must be fully qualified (e.g. example.com)' };
  }
  return { ok: true, hostname };
}

// ---------------------------------------------------------------------------
// Type inference

const SCHEME_PREFIX = /^[a-z][a-z0-9+.-]*:/i;
const DASH_RANGE = /^([^-/\s]+)\s*-\s*([^-/\s]+)$/;

function looksLikeUrl(value: string): boolean {
  if (value.includes('://')) return true;
  // `javascript:alert(1)`, `mailto:…` are URLs (refused later); `localhost:8080` is not.
  const scheme = SCHEME_PREFIX.exec(value);
  if (scheme === null) return false;
  if (/^https?:$/i.test(scheme[0])) return true;
  return !/^\d*(?:\/|$)/.test(value.slice(scheme[0].length));
}

function isDashRange(value: string): boolean {
  const match = DASH_RANGE.exec(value);
  return match !== null && parseIpAddress(match[1]!) !== null && parseIpAddress(match[2]!) !== null;
}

/** Hex digits, colons and dots with at least two colons, maybe bracketed or with a zone: meant as IPv6. */
function looksLikeIPv6(value: string): boolean {
  const unbracketed = value.startsWith('[') && value.endsWith(']') ? value.slice(1, -1) : value;
  const address = unbracketed.split('%')[0]!;
  return /^[0-9a-f:.]+$/i.test(address) && address.split(':').length > 2;
}

/**
 * A CIDR (or something meant as one: an address before a '/', a dash range) is a
 * range, an IP literal (or something meant as IPv6) an ip, a value with a scheme
 * a url, the rest a hostname. The "meant as" cases route bad input to the parser
 * whose error message fits it.
 */
function inferType(value: string): TargetType {
  const slash = value.indexOf('/');
  if (slash >= 0) {
    const before = value.slice(0, slash);
    if (parseIpAddress(before) !== null || looksLikeIPv6(before)) return 'range';
  }
  if (isDashRange(value)) return 'range';
  if (parseIpAddress(value) !== null || looksLikeIPv6(value)) return 'ip';
  if (looksLikeUrl(value)) return 'url';
  return 'hostname';
}

// ---------------------------------------------------------------------------
// Parsers per type

function fail(error: string): { ok: false; error: string } {
  return { ok: false, error };
}

function parseIpTarget(value: string): TargetParseResult {
  const address = parseIpAddress(value);
  if (address === null) {
    if (value.startsWith('[') && value.endsWith(']') && parseIpAddress(value.slice(1, -1)) !== null) {
      return fail('target_value is an IPv6 address in brackets; give it without brackets (brackets belong in URLs)');
    }
    if (value.includes('%')) return fail('target_value is not an IP address (IPv6 zone identifiers are not supported)');
    if (parseCidr(value) !== null)
      return fail("target_value is not an IP address (it is a CIDR range: use target_type 'range')");
    return fail('target_value is not an IP address');
  }
  const text = formatAddress(address);
  return { ok: true, value: { type: 'ip', normalized: text, host: text, addresses: [address] } };
}

function parseRangeTarget(value: string): TargetParseResult {
  if (isDashRange(value)) {
    return fail('target_value address ranges with a dash are not supported; give a CIDR block such as 10.0.0.0/28');
  }
  if (!value.includes('/')) {
    if (parseIpAddress(value) !== null) {
      return fail("target_value is a single IP address, not a range: use target_type 'ip' (or a /32 or /128 block)");
    }
    return fail('target_value is not a CIDR range (expected address/prefix, e.g. 10.0.0.0/28)');
  }
  const cidr = parseCidr(value);
  if (cidr === null) {
    return fail(
      'target_value is not a CIDR range (expected address/prefix, with a prefix of 0-32 for IPv4 or 0-128 for IPv6)',
    );
  }
  const text = formatCidr(cidr);
  return { ok: true, value: { type: 'range', normalized: text, host: text, addresses: [], cidr } };
}

function parseHostnameTarget(value: string): TargetParseResult {
  if (parseIpAddress(value) !== null)
    return fail("target_value is an IP address, not a hostname: use target_type 'ip'");
  if (isDashRange(value)) {
    return fail('target_value address ranges with a dash are not supported; give a CIDR block such as 10.0.0.0/28');
  }
  if (looksLikeUrl(value)) return fail("target_value is a URL, not a hostname: use target_type 'url'");
  if (value.includes('/')) {
    if (parseCidr(value) !== null) return fail("target_value is a CIDR range, not a hostname: use target_type 'range'");
    return fail('target_value is not a valid hostname (to give a path, use a URL such as https://example.com/path)');
  }
  const hostname = parseHostname(value);
  if (!hostname.ok) return hostname;
  return {
    ok: true,
    value: { type: 'hostname', normalized: hostname.hostname, host: hostname.hostname, addresses: [] },
  };
}

/**
 * http(s) URLs only, split by hand:
 *   scheme "://" authority [path] ["?" query] ["#" fragment]
 * The authority ends at the first '/', '?' or '#'. It must not carry userinfo
 * (any '@'), its host is a bracketed IPv6 literal, a strict dotted quad or a
 * hostname (`parseHostname`), and its port 1-65535. Backslashes are refused
 * anywhere: parsers disagree on whether they end the authority.
 */
function parseUrlTarget(value: string): TargetParseResult {
  if (value.length > MAX_URL_LENGTH) return fail(`target_value URL is longer than ${MAX_URL_LENGTH} characters`);
  const scheme = SCHEME_PREFIX.exec(value);
  if (scheme === null) return fail('target_value is not a URL (expected http://… or https://…)');
  const schemeText = scheme[0].slice(0, -1).toLowerCase();
  const schemeName = schemeText === 'http' ? 'http' : schemeText === 'https' ? 'https' : null;
  if (schemeName === null) return fail('target_value URL scheme must be http or https');
  const rest = value.slice(scheme[0].length);
  if (!rest.startsWith('//')) return fail(`target_value is not a valid URL (expected ${schemeName}://host/…)`);
  if (value.includes('\\')) return fail('target_value URL must not contain backslashes');

  const afterSlashes = rest.slice(2);
  const authorityEnd = afterSlashes.search(/[/?#]/);
  const authority = authorityEnd < 0 ? afterSlashes : afterSlashes.slice(0, authorityEnd);
  const tail = authorityEnd < 0 ? '' : afterSlashes.slice(authorityEnd);
  if (authority.includes('@'))
    return fail('target_value URL contains credentials (user:password@); credentials in target URLs are refused');

  const hostAndPort = splitHostAndPort(authority);
  if (!hostAndPort.ok) return hostAndPort;
  const { hostText, bracketed, portText } = hostAndPort;
  if (hostText === '') return fail('target_value URL has no host');

  let host: string;
  let urlHost: string;
  let addresses: IpAddress[] = [];
  if (bracketed) {
    if (hostText.includes('%')) return fail('target_value URL host: IPv6 zone identifiers are not supported');
    const address = parseIpAddress(hostText);
    if (address === null || address.version !== 6)
      return fail('target_value URL host in brackets is not an IPv6 address');
    host = formatAddress(address);
    urlHost = `[${host}]`;
    addresses = [address];
  } else {
    const address = parseIpAddress(hostText);
    if (address !== null && address.version === 6)
      return fail('target_value URL host: IPv6 addresses must be in brackets, e.g. http://[::1]/');
    if (address !== null) {
      host = formatAddress(address);
      addresses = [address];
    } else {
      const hostname = parseHostname(hostText);
      if (!hostname.ok) return hostname;
      host = hostname.hostname;
    }
    urlHost = host;
  }

  const defaultPort = DEFAULT_PORTS[schemeName];
  let port: number = defaultPort;
  if (portText !== undefined) {
    if (!/^\d{1,5}$/.test(portText) || Number(portText) < 1 || Number(portText) > 65535) {
      return fail('target_value URL port must be a number from 1 to 65535');
    }
    port = Number(portText);
  }

  const path = normalizePathAndQuery(schemeName, tail);
  if (path === null) return fail('target_value URL has an invalid path');
  const normalized = `${schemeName}://${urlHost}${port === defaultPort ? '' : `:${port}`}${path}`;
  if (normalized.length > MAX_URL_LENGTH)
    return fail(`target_value URL is longer than ${MAX_URL_LENGTH} characters once normalized`);
  return { ok: true, value: { type: 'url', normalized, host, addresses, url: { scheme: schemeName, port, path } } };
}

function splitHostAndPort(
  authority: string,
): { ok: true; hostText: string; bracketed: boolean; portText?: string } | { ok: false; error: string } {
  if (authority.startsWith('[')) {
    const close = authority.indexOf(']');
    if (close < 0) return fail('target_value URL has an unclosed [ in its host');
    const after = authority.slice(close + 1);
    if (after !== '' && !after.startsWith(':'))
      return fail('target_value URL has unexpected characters after its IPv6 host');
    const hostText = authority.slice(1, close);
    return after === ''
      ? { ok: true, hostText, bracketed: true }
      : { ok: true, hostText, bracketed: true, portText: after.slice(1) };
  }
  const colons = authority.split(':').length - 1;
  if (colons > 1) {
    return parseIpAddress(authority) !== null
      ? fail('target_value URL host: IPv6 addresses must be in brackets, e.g. http://[::1]/')
      : fail('target_value URL has an invalid host');
  }
  const colon = authority.indexOf(':');
  if (colon < 0) return { ok: true, hostText: authority, bracketed: false };
  return { ok: true, hostText: authority.slice(0, colon), bracketed: false, portText: authority.slice(colon + 1) };
}

/**
 * Path and query, normalized the way browsers and servers see them: dot segments
 * resolved, unsafe and non-ASCII characters percent-encoded, "/" when empty. The
 * fragment is dropped (it is never sent). `URL` is safe here: the authority is a
 * fixed placeholder, so only the part after it is taken from its result.
 */
function normalizePathAndQuery(scheme: 'http' | 'https', tail: string): string | null {
  const hash = tail.indexOf('#');
  const withoutFragment = hash < 0 ? tail : tail.slice(0, hash);
  try {
    const parsed = new URL(`${scheme}://placeholder.invalid${withoutFragment}`);
    if (parsed.host !== 'placeholder.invalid') return null;
    return `${parsed.pathname}${parsed.search}`;
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------------------
// Entry point

const PARSERS: Record<TargetType, (value: string) => TargetParseResult> = {
  ip: parseIpTarget,
  hostname: parseHostnameTarget,
  url: parseUrlTarget,
  range: parseRangeTarget,
};

/**
 * Validates and normalizes a target value. Without `declaredType` the type is
 * inferred: a CIDR is a range, an IP literal an ip, anything with a scheme a
 * url, the rest a hostname. With it, the value must be of that type.
 */
export function parseTargetValue(raw: string, declaredType?: TargetType): TargetParseResult {
  const value = raw.trim();
  if (value === '') return fail('target_value is empty');
  if (value.length > MAX_URL_LENGTH) return fail(`target_value is longer than ${MAX_URL_LENGTH} characters`);
  // Anywhere, URLs included (percent-encode them there): WHATWG silently drops tabs and newlines.
  if (hasSpaceOrControl(value)) return fail('target_value must not contain spaces or control characters');
  const type = declaredType ?? inferType(value);
  if (declaredType === 'url' && !looksLikeUrl(value))
    return fail('target_value is not a URL (expected http://… or https://…)');
  return PARSERS[type](value);
}

/** Whether a range holds at most `maxAddresses` addresses (e.g. a plan's limit). */
export function rangeSizeAllowed(cidr: ParsedCidr, maxAddresses: bigint): boolean {
  return cidrSize(cidr) <= maxAddresses;
}
