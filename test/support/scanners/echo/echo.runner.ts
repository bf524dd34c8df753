import type { ScannerFinding } from '../../../../domain/shared/finding.js';
import type { ScannerRunner } from '../../../../scanners/shared/scanner.js';

const RISKS = ['critical', 'high', 'medium', 'low', 'info'] as const;

export function createRunner(): ScannerRunner {
  return async ({ target, config, signal, onProgress }) => {
    const count = Number(config.findings);
    const evidence = 'e'.repeat(Number(config.evidence_bytes));
    if (config.slow) {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(resolve, 50_000); // until cancelled (bounded)
        signal.addEventListener('abort', () => {
          clearTimeout(timer);
          reject(new Error('aborted'));
        });
      });
    }
    onProgress({ percent: 50, phase: 'echoing' });
    const findings: ScannerFinding[] = [];
    for (let i = 0; i < count; i++) {
      findings.push({
        name: `Echo finding ${i}`,
        risk: RISKS[i % RISKS.length]!,
        description: `Echo finding number ${i} on ${target.hostname}.`,
        solution: 'Nothing to do: this is a test scanner.',
        evidence,
        location: `${target.hostname}/${String(config.salt)}${i}`,
        rule_id: `echo.${i % 7}`,
        engine: 'echo',
      });
    }
    return { findings, scanResult: { reported: count, padding: 'p'.repeat(Number(config.result_bytes)) } };
  };
}
