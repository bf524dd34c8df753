/**
 * What each profile of the vulnerability scan does, and how its time budget is shared
 * between phases. Pure.
 *
 * | profile       | ports                    | versions        | NSE                            | TLS | web      | templates |
 * |---------------|--------------------------|-----------------|--------------------------------|-----|----------|-----------|
 * | discovery     | port_list                | -sV (+ banner)  | -                              | -   | -        | -         |
 * | full_and_fast | port_list                | -sV (+ banner)  | vuln, safe, default            | yes | baseline | quick     |
 * | deep          | all TCP (whatever asked) | --version-all   | vuln, safe, default, discovery | yes | full     | full      |
 *
 * Phases run one after the other: discovery, services (NSE), tls, web, templates. Each
 * gets a share of the time that is left when it starts, in proportion to its weight
 * among the phases still to come, so time one phase does not use flows to the next.
 */
import type { NseScriptProfile } from './nseScripts.js';

export const VULN_PROFILES = ['discovery', 'full_and_fast', 'deep'] as const;
export type VulnProfile = (typeof VULN_PROFILES)[number];
export const PORT_LISTS = ['all_tcp', 'top_1000_tcp'] as const;
export type PortList = (typeof PORT_LISTS)[number];

export const VULN_PHASES = ['discovery', 'services', 'tls', 'web', 'templates'] as const;
export type VulnPhase = (typeof VULN_PHASES)[number];

/** Which TCP ports nmap scans: every one, nmap's most common N, or exactly a list (tests, benchmarks). */
export type PortSelection =
  { readonly kind: 'all' } | { readonly kind: 'top'; readonly count: number } | PortListSelection;
export interface PortListSelection {
  readonly kind: 'list';
  readonly ports: readonly number[];
}

export interface VulnPlan {
  readonly profile: VulnProfile;
  /** What the user asked for. */
  readonly portList: PortList;
  /** What is scanned (deep: every TCP port, whatever port_list says). */
  readonly ports: PortSelection;
  readonly versionAll: boolean;
  /** NSE scripts after discovery, or null (discovery profile). */
  readonly nse: NseScriptProfile | null;
  readonly tls: boolean;
  readonly web: 'baseline' | 'full' | null;
  readonly templates: 'quick' | 'full' | null;
  /** The phases this profile runs, in order, with their weights. */
  readonly phases: readonly { readonly phase: VulnPhase; readonly weight: number }[];
}

/** Weights of each phase's share of the budget, per profile (only the phases it runs). */
const PHASE_WEIGHTS: Readonly<Record<VulnProfile, Partial<Record<VulnPhase, number>>>> = {
  discovery: { discovery: 1 },
  full_and_fast: { discovery: 30, services: 30, tls: 10, web: 20, templates: 10 },
  deep: { discovery: 30, services: 25, tls: 5, web: 30, templates: 10 },
};

export function portSelectionOf(portList: PortList): PortSelection {
  return portList === 'all_tcp' ? { kind: 'all' } : { kind: 'top', count: 1000 };
}

export function vulnPlan(config: { scan_profile: VulnProfile; port_list: PortList }): VulnPlan {
  const profile = config.scan_profile;
  const weights = PHASE_WEIGHTS[profile];
  const phases = VULN_PHASES.filter((phase) => (weights[phase] ?? 0) > 0).map((phase) => ({
    phase,
    weight: weights[phase] ?? 0,
  }));
  const deep = profile === 'deep';
  const assessing = profile !== 'discovery';
  return {
    profile,
    portList: config.port_list,
    ports: deep ? { kind: 'all' } : portSelectionOf(config.port_list),
    versionAll: deep,
    nse: deep ? 'deep' : assessing ? 'full_and_fast' : null,
    tls: assessing,
    web: deep ? 'full' : assessing ? 'baseline' : null,
    templates: deep ? 'full' : assessing ? 'quick' : null,
    phases,
  };
}

/**
 * The time a phase may take: its weight's share of `remainingMs` among the phases not
 * run yet (this one included). At least `minimumMs` when that much is left.
 */
export function phaseBudgetMs(
  plan: Pick<VulnPlan, 'phases'>,
  phase: VulnPhase,
  remainingMs: number,
  minimumMs = 5_000,
): number {
  const index = plan.phases.findIndex((p) => p.phase === phase);
  if (index === -1 || remainingMs <= 0) return 0;
  const upcoming = plan.phases.slice(index);
  const total = upcoming.reduce((sum, p) => sum + p.weight, 0);
  const share = Math.floor((remainingMs * (plan.phases[index]?.weight ?? 0)) / total);
  return Math.min(remainingMs, Math.max(share, minimumMs));
}

/** The ports of a selection as nmap's argv (`-p 1-65535`, `--top-ports 1000`, `-p 21,22`). */
export function portArguments(ports: PortSelection): string[] {
  switch (ports.kind) {
    case 'all':
      return ['-p', '1-65535'];
    case 'top':
      if (!Number.isInteger(ports.count) || ports.count < 1 || ports.count > 65535) {
        throw new RangeError(`top port count must be 1-65535, got ${ports.count}`);
      }
      return ['--top-ports', String(ports.count)];
    case 'list': {
      if (ports.ports.length === 0) throw new RangeError('an explicit port list cannot be empty');
      for (const port of ports.ports) {
        if (!Number.isInteger(port) || port < 1 || port > 65535) throw new RangeError(`bad port ${port}`);
      }
      return ['-p', [...new Set(ports.ports)].sort((a, b) => a - b).join(',')];
    }
  }
}

/** How a selection is described in the result ("1-65535", "top 1000", "21,22,80"). */
export function describePorts(ports: PortSelection): string {
  switch (ports.kind) {
    case 'all':
      return '1-65535';
    case 'top':
      return `top ${ports.count}`;
    case 'list':
      return [...new Set(ports.ports)].sort((a, b) => a - b).join(',');
  }
}
