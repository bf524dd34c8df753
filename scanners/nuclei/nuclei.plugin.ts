import { z } from 'zod';
import { sha256Hex } from '../../domain/shared/sha256.js';
import { minutes, strictConfig } from '../shared/configFields.js';
import { defineScanner, ScanConfigRefusal, type PrepareContext } from '../shared/scanner.js';
import { NucleiScanResultSchema } from './nucleiResult.js';

/** Users' templates one scan may run, and their YAML in all (the job carries a snapshot). */
export const MAX_TEMPLATES_PER_SCAN = 20;
export const MAX_TEMPLATE_BYTES_PER_SCAN = 256 * 1024;

/** The read model of users' templates (projections/nucleiTemplates.projection.ts). */
const USER_TEMPLATES_COLLECTION = 'nuclei_templates';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const NucleiConfigSchema = strictConfig('nuclei', {
  scan_mode: z.enum(['quick', 'full'], { error: 'scan_mode must be quick or full' }).default('quick'),
  templates: z
    .array(
      z
        .string({ error: 'a template id (from POST /nuclei/templates/)' })
        .trim()
        .toLowerCase()
        .regex(UUID, 'a template id (from POST /nuclei/templates/)'),
      { error: 'templates must be a list of template ids' },
    )
    .max(MAX_TEMPLATES_PER_SCAN, `at most ${MAX_TEMPLATES_PER_SCAN} templates per scan`)
    .refine((ids) => new Set(ids).size === ids.length, 'a template is listed twice')
    .optional(),
});

/** What the job carries of each user template: exactly what runs. */
export const TemplateSnapshot = z.object({
  /** The uploaded template's id (uuid). */
  id: z.string(),
  /** Its nuclei `id:`. */
  template_id: z.string(),
  sha256: z.string(),
  yaml: z.string(),
});
export type TemplateSnapshot = z.infer<typeof TemplateSnapshot>;

export type NucleiScanConfig = z.output<typeof NucleiConfigSchema> & {
  /** Set by prepareConfig (never by the user: the schema refuses the key). */
  template_snapshots?: TemplateSnapshot[];
};

const UserTemplateDocument = z.object({
  user_id: z.string(),
  template_id: z.string(),
  sha256: z.string(),
  yaml: z.string(),
});

/**
 * Resolves `templates: [ids]` to the owner's uploaded templates and puts a snapshot
 * of their YAML into the config, so workers never read the store and the scan
 * records exactly what ran. Another account's template is "not found" (400).
 */
async function prepareConfig(config: NucleiScanConfig, context: PrepareContext): Promise<NucleiScanConfig> {
  const ids = config.templates ?? [];
  if (ids.length === 0) {
    const { template_snapshots: _ignored, ...rest } = config;
    return rest;
  }
  const collection = context.readModel(USER_TEMPLATES_COLLECTION);
  const snapshots: TemplateSnapshot[] = [];
  let bytes = 0;
  for (const [index, id] of ids.entries()) {
    const parsed = UserTemplateDocument.safeParse(await collection.get(id));
    if (!parsed.success || parsed.data.user_id !== context.userId) {
      throw new ScanConfigRefusal(`template ${id} not found among your nuclei templates`, `templates.${index}`);
    }
    bytes += Buffer.byteLength(parsed.data.yaml);
    if (bytes > MAX_TEMPLATE_BYTES_PER_SCAN) {
      throw new ScanConfigRefusal(
        `the templates of one scan may hold at most ${MAX_TEMPLATE_BYTES_PER_SCAN / 1024} KiB of YAML in all`,
        'templates',
      );
    }
    snapshots.push({ id, template_id: parsed.data.template_id, sha256: parsed.data.sha256, yaml: parsed.data.yaml });
  }
  return { ...config, templates: ids, template_snapshots: snapshots };
}

/** Nuclei-template scanner (our template engine in scanners/nuclei/, our templates and the user's). */
export const nucleiScanner = defineScanner<NucleiScanConfig>({
  type: 'nuclei',
  title: 'Nuclei (templates)',
  description:
    "Checks written as nuclei templates, run by SecAbly's own engine for nuclei's HTTP template format: " +
    'exposed repositories, environment and backup files, debug endpoints and consoles, admin panels, ' +
    'misconfigured CORS, version banners with known CVEs. quick = the high-signal subset (2 credits), ' +
    'full = all our templates (3 credits); `templates: [ids]` adds your own uploaded templates.',
  configSchema: NucleiConfigSchema as z.ZodType<NucleiScanConfig>,
  profiles: [
    { name: 'quick', credits: 2, typicalMinutes: 3, description: 'Nuclei quick (high-signal templates)' },
    { name: 'full', credits: 3, typicalMinutes: 10, description: 'Nuclei full (every template)' },
  ],
  profileOf: (config) => config.scan_mode,
  timeoutMs: (config) => (config.scan_mode === 'full' ? minutes(30) : minutes(10)),
  targetTypes: ['ip', 'hostname', 'url'],
  coverageOf: (config) => {
    const ids = [...(config.templates ?? [])].sort();
    return ids.length === 0 ? config.scan_mode : `${config.scan_mode}+user:${sha256Hex(ids.join(',')).slice(0, 16)}`;
  },
  prepareConfig,
  publicConfig: ({ template_snapshots: _snapshots, ...shown }) => shown,
  resultSchema: NucleiScanResultSchema,
  loadRunner: async () => (await import('./nuclei.scanner.js')).createRunner(),
});
