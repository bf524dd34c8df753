import type { Resolver } from '../adapters/ports.js';
import { formatAddress, parseIpAddress, type IpAddress, type ParsedCidr } from '../domain/targets/ipAddress.js';
import { checkAddresses, checkRange } from '../domain/targets/targetPolicy.js';
import type { ParsedTarget } from '../domain/targets/targetValue.js';

export interface TargetGuardDeps {
  readonly resolver: Resolver;
  /** SECABLY_ALLOWED_TARGETS: non-public ranges opened on purpose. */
  readonly allowedTargets: readonly ParsedCidr[];
}

export type GuardResult =
  | {
      readonly ok: true;
      /** What to hand the scanner: a checked IP (never a hostname, so DNS cannot change under us) or a CIDR. */
      readonly scanHost: string;
      readonly addresses: readonly string[];
    }
  | { readonly ok: false; readonly code: 'target_not_allowed' | 'target_unresolvable'; readonly reason: string };

/**
 * The SSRF guard, run when a target is added and again when each scan runs:
 * a hostname is resolved every time, and every address it has must be public or
 * inside the allow-list.
 */
export async function guardTarget(deps: TargetGuardDeps, target: ParsedTarget): Promise<GuardResult> {
  if (target.type === 'range' && target.cidr) {
    const check = checkRange(target.cidr, deps.allowedTargets);
    return check.ok
      ? { ok: true, scanHost: target.host, addresses: [] }
      : { ok: false, code: 'target_not_allowed', reason: check.reason };
  }
  let addresses: readonly IpAddress[] = target.addresses;
  if (addresses.length === 0) {
    const resolved = await deps.resolver.resolve(target.host);
    addresses = resolved.map(parseIpAddress).filter((a): a is IpAddress => a !== null);
    if (addresses.length === 0) {
      return { ok: false, code: 'target_unresolvable', reason: `${target.host} does not resolve to any address` };
    }
  }
  const check = checkAddresses(addresses, deps.allowedTargets);
  if (!check.ok) return { ok: false, code: 'target_not_allowed', reason: check.reason };
  const texts = addresses.map((a) => formatAddress(a));
  const preferred = addresses.find((a) => a.version === 4) ?? addresses[0]!;
  return { ok: true, scanHost: formatAddress(preferred), addresses: texts };
}
