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

/** Scan prices in credits (spec part 1), with the typical duration in minutes. */
export const SCAN_PRICES = [
  {
    scanner_type: 'nmap',
    scan_profile: 'quick',
    credits: 0,
    typical_minutes: 1,
    description: 'Nmap quick (top 1000 ports)',
  },
  {
    scanner_type: 'nmap',
    scan_profile: 'fast',
    credits: 0,
    typical_minutes: 1,
    description: 'Nmap fast (top 1000 ports)',
  },
  {
    scanner_type: 'nmap',
    scan_profile: 'full',
    credits: 1,
    typical_minutes: 5,
    description: 'Nmap full (all 65535 ports)',
  },
  { scanner_type: 'sslyze', scan_profile: 'default', credits: 0, typical_minutes: 1, description: 'SSLyze TLS/SSL' },
  { scanner_type: 'nuclei', scan_profile: 'quick', credits: 2, typical_minutes: 3, description: 'Nuclei quick' },
  { scanner_type: 'nuclei', scan_profile: 'full', credits: 3, typical_minutes: 10, description: 'Nuclei full' },
  { scanner_type: 'zap', scan_profile: 'baseline', credits: 5, typical_minutes: 20, description: 'ZAP baseline' },
  { scanner_type: 'zap', scan_profile: 'full', credits: 10, typical_minutes: 45, description: 'ZAP full' },
  {
    scanner_type: 'openvas',
    scan_profile: 'discovery',
    credits: 10,
    typical_minutes: 30,
    description: 'OpenVAS discovery',
  },
  {
    scanner_type: 'openvas',
    scan_profile: 'full_and_fast',
    credits: 15,
    typical_minutes: 60,
    description: 'OpenVAS full_and_fast',
  },
  { scanner_type: 'openvas', scan_profile: 'deep', credits: 20, typical_minutes: 120, description: 'OpenVAS deep' },
] as const;

export function isPlanId(value: string): value is PlanId {
  return (PLAN_IDS as readonly string[]).includes(value);
}
