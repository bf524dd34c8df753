/**
 * Progress of a vulnerability scan: each phase of the profile owns a slice of 0-100
 * proportional to its weight; a phase reports how far it is (0-1) and the overall
 * percent never goes back. The phase names are the ones the API shows: discovery,
 * services, tls, web, templates, then done.
 */
import type { ScanProgress } from '../shared/scanner.js';
import type { VulnPhase, VulnPlan } from './vulnPlan.js';

export interface ProgressTracker {
  /** `fraction` of `phase` is done (0-1). */
  report(phase: VulnPhase, fraction: number): void;
  done(): void;
}

export function progressTracker(
  plan: Pick<VulnPlan, 'phases'>,
  onProgress: (p: ScanProgress) => void,
): ProgressTracker {
  const total = plan.phases.reduce((sum, p) => sum + p.weight, 0) || 1;
  const starts = new Map<VulnPhase, { start: number; span: number }>();
  let cursor = 0;
  for (const { phase, weight } of plan.phases) {
    starts.set(phase, { start: (cursor / total) * 100, span: (weight / total) * 100 });
    cursor += weight;
  }
  let last = -1;
  let lastPhase = '';
  const emit = (phase: string, percent: number) => {
    const rounded = Math.round(Math.min(100, Math.max(percent, last, 0)) * 10) / 10;
    if (rounded === last && phase === lastPhase) return;
    last = rounded;
    lastPhase = phase;
    onProgress({ percent: rounded, phase });
  };
  return {
    report(phase, fraction) {
      const slot = starts.get(phase);
      if (!slot) return;
      const f = Number.isFinite(fraction) ? Math.min(1, Math.max(0, fraction)) : 0;
      // A phase never claims its last point: 100 is for done().
      emit(phase, Math.min(slot.start + slot.span * f, 99.9));
    },
    done() {
      emit('done', 100);
    },
  };
}

/** nmap's task names mapped onto the share of a run they take (discovery or services run). */
export function nmapTaskFraction(run: 'discovery' | 'services', task: string, percent: number): number | null {
  const p = Math.min(100, Math.max(0, percent)) / 100;
  const ranges: Record<'scan' | 'service' | 'script', [number, number]> =
    run === 'discovery'
      ? { scan: [0, 0.6], service: [0.6, 0.9], script: [0.9, 1] }
      : { scan: [0, 0.05], service: [0.05, 0.3], script: [0.3, 1] };
  const kind = /service scan/i.test(task)
    ? 'service'
    : /^(nse|script scan)$/i.test(task.trim())
      ? 'script'
      : /scan$/i.test(task)
        ? 'scan'
        : null;
  if (!kind) return null;
  const [from, to] = ranges[kind];
  return from + (to - from) * p;
}
