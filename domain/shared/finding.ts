import { z } from 'zod';

/** Risk of one finding, most severe first. */
export const RISKS = ['critical', 'high', 'medium', 'low', 'info'] as const;
export const Risk = z.enum(RISKS);
export type Risk = z.infer<typeof Risk>;

/**
 * The one normalized finding shape every scanner produces.
 * `fingerprint` is stable for the same issue at the same place (used to dedupe
 * and to compare scans): a short hex digest of scanner, name and location.
 */
export const Finding = z.object({
  name: z.string().min(1).max(300),
  risk: Risk,
  description: z.string().max(5000),
  solution: z.string().max(5000),
  evidence: z.string().max(5000).default(''),
  /** Where: "127.0.0.1:23/tcp", a URL, a host. */
  location: z.string().max(2000),
  fingerprint: z.string().min(1).max(128),
  /** Optional references (CVE ids, URLs). */
  references: z.array(z.string().max(500)).max(50).optional(),
});
export type Finding = z.infer<typeof Finding>;
