import { z } from 'zod';

/** true/false, or the strings "true"/"false" that form-minded clients send. */
export const LenientBoolean = z.union([z.boolean(), z.enum(['true', 'false']).transform((value) => value === 'true')], {
  error: 'must be true or false',
});

/** A strict scan_config object whose unknown keys are named in the error, with the allowed ones. */
export function strictConfig<Shape extends z.core.$ZodLooseShape>(scanner: string, shape: Shape) {
  const allowed = Object.keys(shape);
  return z.strictObject(shape, {
    error: (issue) => {
      if (issue.code === 'unrecognized_keys') {
        const keys = issue.keys
          .slice(0, 5)
          .map((key) => JSON.stringify(key.length > 24 ? `${key.slice(0, 24)}…` : key));
        const more = issue.keys.length > 5 ? ` and ${issue.keys.length - 5} more` : '';
        return `unknown scan_config field(s) ${keys.join(', ')}${more}; ${scanner} accepts ${allowed.join(', ') || 'none'}`;
      }
      if (issue.code === 'invalid_type') return 'scan_config must be an object';
      return undefined;
    },
  });
}

export const minutes = (n: number) => n * 60_000;
