import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ConfigSchema } from '../../config.js';
import { BUILT_IN_SCANNERS, scannerRegistry, SCANNERS } from '../../scanners/registry.js';
import { renderScannersDoc } from '../../scripts/scannersDoc.js';
import { nmapScanner } from '../../scanners/nmap/nmap.plugin.js';

describe('the scanner registry', () => {
  it('is the list of plug-ins; prices derive from their profiles', () => {
    expect(SCANNERS.types).toEqual(['nmap', 'sslyze', 'zap', 'nuclei', 'openvas']);
    expect(SCANNERS.prices.find((p) => p.scanner_type === 'nmap' && p.scan_profile === 'full')?.credits).toBe(1);
    expect(SCANNERS.profile('openvas', 'deep')?.credits).toBe(20);
  });

  it('refuses two scanners of one type and bad names', () => {
    expect(() => scannerRegistry([nmapScanner, nmapScanner])).toThrow(/two scanners/);
    expect(() => scannerRegistry([{ ...nmapScanner, type: 'Bad Name' }])).toThrow(/must match/);
  });

  it("merges every plug-in's settings into the service configuration", () => {
    for (const plugin of BUILT_IN_SCANNERS) {
      for (const key of Object.keys(plugin.settingsSchema?.shape ?? {})) expect(ConfigSchema.shape).toHaveProperty(key);
    }
    expect(ConfigSchema.safeParse({ SECABLY_SCANNERS: 'nmap,nope' }).success).toBe(false);
  });

  it('the API process never loads a runner: the registry statically imports no runner module', () => {
    // Walk the static relative imports from the registry (dynamic import() in loadRunner is not followed).
    const seen = new Set<string>();
    const walk = (file: string) => {
      if (seen.has(file)) return;
      seen.add(file);
      const source = readFileSync(file, 'utf8');
      for (const match of source.matchAll(/^(?:import|export) (?!type )[^;]*? from '(\.{1,2}\/[^']+)\.js';$/gms)) {
        walk(resolve(dirname(file), `${match[1]}.ts`));
      }
    };
    walk(fileURLToPath(new URL('../../scanners/registry.ts', import.meta.url)));
    const runners = [...seen].filter((f) => /\.(scanner|runner)\.ts$/.test(f));
    expect(runners).toEqual([]);
    expect([...seen].some((f) => f.endsWith('nmap.plugin.ts'))).toBe(true);
  });

  it('docs/scanners.md is what scripts/scannersDoc.ts generates (run `npx tsx scripts/scannersDoc.ts`)', () => {
    const path = fileURLToPath(new URL('../../docs/scanners.md', import.meta.url));
    expect(readFileSync(path, 'utf8')).toBe(renderScannersDoc());
  });
});
