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
  },
  indie: {
    id: 'indie',
    name: 'Indie Maker',
    priceUsdPerMonth: 9,
    apiRequestsPerMonth: 2000,
    scanCreditsPerMonth: 10,
    targetsLimit: 20,
    maxRangeAddresses: 256,
  },
  startup: {
    id: 'startup',
    name: 'Startup',
    priceUsdPerMonth: 29,
    apiRequestsPerMonth: 10000,
    scanCreditsPerMonth: 50,
    targetsLimit: 100,
    maxRangeAddresses: 1024,
  },
  business: {
    id: 'business',
    name: 'Business',
    priceUsdPerMonth: 99,
    apiRequestsPerMonth: 50000,
    scanCreditsPerMonth: 200,
    targetsLimit: 500,
    maxRangeAddresses: 4096,
  },
  enterprise: {
    id: 'enterprise',
    name: 'Enterprise',
    priceUsdPerMonth: 299,
    apiRequestsPerMonth: null,
    scanCreditsPerMonth: 1000,
    targetsLimit: null,
    maxRangeAddresses: 65536,
  },
};

export function isPlanId(value: string): value is PlanId {
  return (PLAN_IDS as readonly string[]).includes(value);
}
