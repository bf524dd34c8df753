/**
 * Our own templates: every `*.yaml` in `scanners/nuclei/templates/`, loaded once
 * per process. A template that does not load is a bug of ours: loading throws.
 * `quick` runs the templates tagged `quick` (the high-signal subset), `full` all.
 *
 * The folder sits next to this module when run from the sources (tsx, vitest);
 * `npm run build` copies it next to the compiled module (dist/scanners/nuclei/).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LoadedTemplate } from './nucleiFindings.js';
import { parseTemplate, TemplateError } from './templateParser.js';

export const QUICK_TAG = 'quick';

function templatesDirectory(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [join(here, 'templates'), join(here, '..', '..', '..', 'scanners', 'nuclei', 'templates')];
  const found = candidates.find((dir) => existsSync(dir));
  if (!found) throw new Error(`nuclei templates folder not found (looked in ${candidates.join(', ')})`);
  return found;
}

let cache: readonly LoadedTemplate[] | undefined;

/** Every bundled template, sorted by id. */
export function bundledTemplates(directory?: string): readonly LoadedTemplate[] {
  if (cache && directory === undefined) return cache;
  const dir = directory ?? templatesDirectory();
  const loaded: LoadedTemplate[] = [];
  const ids = new Set<string>();
  for (const file of readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()) {
    let template;
    try {
      template = parseTemplate(readFileSync(join(dir, file), 'utf8'));
    } catch (error) {
      if (error instanceof TemplateError) {
        throw new Error(`bundled template ${file}: ${error.message}`, { cause: error });
      }
      throw error;
    }
    if (`${template.id}.yaml` !== file) throw new Error(`bundled template ${file} has id ${template.id}`);
    if (ids.has(template.id)) throw new Error(`two bundled templates have id ${template.id}`);
    ids.add(template.id);
    loaded.push({ template, source: 'bundled', ref: file });
  }
  if (directory === undefined) cache = loaded;
  return loaded;
}

/** The templates a mode runs. */
export function templatesForMode(mode: 'quick' | 'full', all = bundledTemplates()): readonly LoadedTemplate[] {
  return mode === 'full' ? all : all.filter((t) => t.template.info.tags.includes(QUICK_TAG));
}
