import { describe, expect, it } from 'vitest';
import { nucleiScanner } from '../../../scanners/nuclei/nuclei.plugin.js';
import { SCANNERS } from '../../../scanners/registry.js';
import { ScanConfigRefusal, type PrepareContext } from '../../../scanners/shared/scanner.js';

const OWNER = 'user-1';
const MINE = '11111111-1111-4111-8111-111111111111';
const THEIRS = '22222222-2222-4222-8222-222222222222';
const yaml =
  'id: mine\ninfo:\n  name: Mine\n  author: me\nhttp:\n  - path: ["{{BaseURL}}"]\n    matchers:\n      - type: status\n        status: [200]\n';
const documents: Record<string, Record<string, unknown>> = {
  [MINE]: { user_id: OWNER, template_id: 'mine', sha256: 'abc', yaml },
  [THEIRS]: { user_id: 'user-2', template_id: 'theirs', sha256: 'def', yaml },
};
const context: PrepareContext = {
  userId: OWNER,
  targetType: 'url',
  readModel: (collection) => ({
    get: async (id) => (collection === 'nuclei_templates' ? (documents[id] ?? null) : null),
  }),
};

describe('nuclei plug-in', () => {
  it('is registered, available (it has a runner) and priced 2 quick / 3 full', () => {
    expect(SCANNERS.get('nuclei')).toBe(nucleiScanner);
    expect(nucleiScanner.loadRunner).toBeTypeOf('function');
    expect(SCANNERS.prices.filter((p) => p.scanner_type === 'nuclei').map((p) => [p.scan_profile, p.credits])).toEqual([
      ['quick', 2],
      ['full', 3],
    ]);
  });

  it('validates scan_config: scan_mode, template ids; no snapshots from the user', () => {
    expect(nucleiScanner.configSchema.parse({})).toEqual({ scan_mode: 'quick' });
    expect(nucleiScanner.configSchema.parse({ scan_mode: 'full', templates: [MINE.toUpperCase()] })).toEqual({
      scan_mode: 'full',
      templates: [MINE],
    });
    for (const bad of [
      { scan_mode: 'deep' },
      { templates: 'x' },
      { templates: ['not-a-uuid'] },
      { templates: [MINE, MINE] },
      { templates: Array.from({ length: 21 }, (_, i) => `${String(i).padStart(8, '0')}-1111-4111-8111-111111111111`) },
      { template_snapshots: [] },
    ]) {
      expect(nucleiScanner.configSchema.safeParse(bad).success, JSON.stringify(bad).slice(0, 80)).toBe(false);
    }
  });

  it("puts a snapshot of the owner's templates into the config", async () => {
    const config = await nucleiScanner.prepareConfig!({ scan_mode: 'quick', templates: [MINE] }, context);
    expect(config).toEqual({
      scan_mode: 'quick',
      templates: [MINE],
      template_snapshots: [{ id: MINE, template_id: 'mine', sha256: 'abc', yaml }],
    });
  });

  it("refuses another account's template and an unknown one as not found", async () => {
    for (const id of [THEIRS, '33333333-3333-4333-8333-333333333333']) {
      const refusal = await nucleiScanner.prepareConfig!({ scan_mode: 'quick', templates: [MINE, id] }, context).catch(
        (e: unknown) => e,
      );
      expect(refusal).toBeInstanceOf(ScanConfigRefusal);
      expect(refusal).toMatchObject({
        field: 'templates.1',
        message: `template ${id} not found among your nuclei templates`,
      });
    }
  });

  it('has a coverage per mode and per set of user templates', () => {
    expect(nucleiScanner.coverageOf!({ scan_mode: 'quick' })).toBe('quick');
    const withTemplates = nucleiScanner.coverageOf!({ scan_mode: 'full', templates: [THEIRS, MINE] });
    expect(withTemplates).toMatch(/^full\+user:[0-9a-f]{16}$/);
    expect(nucleiScanner.coverageOf!({ scan_mode: 'full', templates: [MINE, THEIRS] })).toBe(withTemplates);
  });
});
