/** The plan table (spec part 1, "Plans and credits"; part 2 item 1 makes it authoritative). */
export const PLAN_IDS = ['free', 'indie', 'startup', 'business', 'enterprise'] as const;
export type PlanId = (typeof PLAN_IDS)[number];

export interface Plan {
  readonly id: PlanId;
  readonly name: string;
  readonly priceUsdPerMonth: number;
  /** API requests per calendar month (UTC); null = unlimited. */
  readonly apiRequestsPerMonth: number | null;
  /** Scan credits granted each calendar month (UTC). */
  readonly scanCreditsPerMonth: number;
  /** Targets a user may hold; null = unlimited. */
  readonly targetsLimit: number | null;
  /** Largest range target (CIDR) in addresses: every host of a range is scanned. */
  readonly maxRangeAddresses: number;
  /** Own nuclei templates an account may hold (POST /nuclei/templates/). */
  readonly nucleiTemplatesLimit: number;
  /** Largest own nuclei template, bytes of YAML (the API takes bodies up to 64 KiB). */
  readonly nucleiTemplateMaxBytes: number;
}

export const PLANS: Readonly<Record<PlanId, Plan>> = {
  free: {
    id: 'free',
    name: 'Free (Developer)',
    priceUsdPerMonth: 0,
    apiRequestsPerMonth: 100,
    scanCreditsPerMonth: 0,
    targetsLimit: 5,
    maxRangeAddresses: 16,
    nucleiTemplatesLimit: 5,
    nucleiTemplateMaxBytes: 16 * 1024,
  },
  indie: {
    id: 'indie',
    name: 'Indie Maker',
    priceUsdPerMonth: 9,
    apiRequestsPerMonth: 2000,
    scanCreditsPerMonth: 10,
    targetsLimit: 20,
    maxRangeAddresses: 256,
    nucleiTemplatesLimit: 20,
    nucleiTemplateMaxBytes: 32 * 1024,
  },
  startup: {
    id: 'startup',
    name: 'Startup',
    priceUsdPerMonth: 29,
    apiRequestsPerMonth: 10000,
    scanCreditsPerMonth: 50,
    targetsLimit: 100,
    maxRangeAddresses: 1024,
    nucleiTemplatesLimit: 50,
    nucleiTemplateMaxBytes: 48 * 1024,
  },
  business: {
    id: 'business',
    name: 'Business',
    priceUsdPerMonth: 99,
    apiRequestsPerMonth: 50000,
    scanCreditsPerMonth: 200,
    targetsLimit: 500,
    maxRangeAddresses: 4096,
    nucleiTemplatesLimit: 200,
    nucleiTemplateMaxBytes: 48 * 1024,
  },
  enterprise: {
    id: 'enterprise',
    name: 'Enterprise',
    priceUsdPerMonth: 299,
    apiRequestsPerMonth: null,
    scanCreditsPerMonth: 1000,
    targetsLimit: null,
    maxRangeAddresses: 65536,
    nucleiTemplatesLimit: 500,
    nucleiTemplateMaxBytes: 48 * 1024,
  },
};

export function isPlanId(value: string): value is PlanId {
  return (PLAN_IDS as readonly string[]).includes(value);
}
