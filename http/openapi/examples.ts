/**
 * Examples of the OpenAPI document: what real answers look like. The test validates
 * each one against the schema it illustrates.
 */
import type { AnyScannerPlugin } from '../../scanners/shared/scanner.js';

export const USER_ID = '0b9c6f4e-2a51-4c37-9d1e-5f8a7b3c2d10';
export const TARGET_ID = '3f1d2c4b-5a69-4e87-b0c1-d2e3f4a5b6c7';
export const SCAN_ID = '7c9e6679-7425-40de-944b-e07fc1f90ae7';
const EARLIER_SCAN_ID = '5a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d';
const KEY_ID = '9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a';
const FINGERPRINT = '4e5d6c7b8a9f0e1d2c3b4a5f6e7d8c9b';
export const ACCESS_TOKEN = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIwYjljNmY0ZSJ9.c2lnbmF0dXJl';
export const REFRESH_TOKEN = 'eyJhbGciOiJIUzI1NiJ9.eyJmYW1pbHkiOiJmMSJ9.c2lnbmF0dXJl';

const JOINED = '2025-03-01T09:00:00.000Z';
const CREATED = '2025-03-02T10:00:00.000Z';
const STARTED = '2025-03-02T10:00:01.250Z';
const COMPLETED = '2025-03-02T10:00:42.750Z';
export const LATER = '2025-03-03T08:30:00.000Z';

export const tokens = {
  access: ACCESS_TOKEN,
  refresh: REFRESH_TOKEN,
  access_expires_at: '2025-03-02T10:15:00.000Z',
  refresh_expires_at: '2025-03-09T10:00:00.000Z',
};

export const registered = {
  message: 'Registration successful.',
  user: {
    id: USER_ID,
    email: 'ada@example.com',
    first_name: 'Ada',
    last_name: 'Lovelace',
    date_joined: JOINED,
    subscription_type: 'free',
  },
  ...tokens,
};

export const loggedIn = {
  ...tokens,
  user: { user_email: 'ada@example.com', subscription_type: 'free', sites_limit: 5, scans_per_month: 0 },
};

export const passwordChanged = {
  message: 'Password changed. Every other session has been signed out and your 1 API key was revoked; create new ones.',
  ...tokens,
  revoked_api_keys: ['9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a'],
};

export const profile = {
  user_email: 'ada@example.com',
  user_first_name: 'Ada',
  user_last_name: 'Lovelace',
  subscription_type: 'startup',
  sites_limit: 100,
  scans_per_month: 50,
  monthly_usage: 3,
  can_add_site: true,
  sites_count: 2,
};

export const stats = {
  user: { id: USER_ID, email: 'ada@example.com', date_joined: JOINED },
  subscription: { type: 'startup', status: 'active' },
  usage: { targets_count: 2, targets_limit: 100, monthly_scans_used: 3, monthly_scans_limit: 50 },
  recent_activity: {
    latest_scans: [
      {
        id: SCAN_ID,
        target_id: TARGET_ID,
        scanner_type: 'nmap',
        status: 'completed',
        risk_level: 'high',
        created_at: CREATED,
      },
    ],
    active_targets: 2,
  },
};

const balance = { monthly_allowance: 50, monthly_remaining: 49, purchased: 20, available: 69, reserved: 0 };

export const subscription = {
  subscription_type: 'startup',
  status: 'active',
  plan: { id: 'startup', name: 'Startup', price_usd_per_month: 29 },
  limits: { api_requests_per_month: 10000, scan_credits_per_month: 50, targets: 100 },
  usage: { api_requests_this_month: 412, scans_this_month: 3, targets: 2 },
  credits: balance,
  period: { start: '2025-03-01T00:00:00.000Z', end: '2025-04-01T00:00:00.000Z' },
};

export const credits = {
  subscription_type: 'startup',
  balance: { period: '2025-03', ...balance },
  history: {
    count: 4,
    limit: 100,
    offset: 0,
    page: 1,
    page_size: 100,
    next: null,
    previous: null,
    results: [
      { id: 41, type: 'CreditsSpent', credits: 0, scan_id: SCAN_ID, spent: 1, at: COMPLETED },
      {
        id: 37,
        type: 'CreditsReserved',
        credits: -1,
        scan_id: SCAN_ID,
        from_monthly: 1,
        from_purchased: 0,
        at: CREATED,
      },
      { id: 12, type: 'CreditsPurchased', credits: 20, bucket: 'purchased', reason: 'invoice 2025-0042', at: JOINED },
      { id: 3, type: 'MonthlyCreditsGranted', credits: 50, period: '2025-03', bucket: 'monthly', at: JOINED },
    ],
  },
};

export const apiKey = {
  id: KEY_ID,
  name: 'laptop',
  prefix: 'sk_9d8c7b6a5',
  created_at: CREATED,
  revoked_at: null,
  active: true,
};

export const apiKeyCreated = {
  id: KEY_ID,
  name: 'laptop',
  prefix: 'sk_9d8c7b6a5',
  key: `sk_${KEY_ID.replaceAll('-', '')}_${'Q'.repeat(22)}${'w'.repeat(21)}`,
  created_at: CREATED,
  message: 'Store this key now: it is shown only once.',
};

export const target = {
  id: TARGET_ID,
  url: 'https://shop.example.com/',
  name: 'Shop',
  scan_frequency: 'manual',
  active: true,
  created_at: JOINED,
  latest_scan: {
    id: SCAN_ID,
    scanner_type: 'nmap',
    scan_type: 'quick',
    status: 'completed',
    created_at: CREATED,
    completed_at: COMPLETED,
    risk_level: 'high',
    security_score: 70,
  },
  risk_level: 'high',
  can_scan: true,
  target_value: 'https://shop.example.com/',
  target_type: 'url',
  description: 'Production shop',
  updated_at: JOINED,
};

export const finding = {
  name: 'MySQL database exposed',
  risk: 'high',
  description:
    'A MySQL server answers on this port. Databases reachable from untrusted networks are a prime target: ' +
    'default or weak credentials, missing authentication and unpatched server bugs lead directly to data theft.',
  solution:
    'Do not expose MySQL to the network the scan came from: bind it to localhost or a private interface, allow ' +
    'only the application hosts in the firewall, and reach it remotely only through a VPN or SSH tunnel.',
  location: 'shop.example.com:3306/tcp',
  evidence: '3306/tcp open mysql',
  fingerprint: FINGERPRINT,
  rule_id: 'nmap.mysql',
  engine: 'nmap',
  confidence: 'medium',
  cwe: [284, 306],
  references: ['CWE-284: Improper Access Control'],
};

export const trackedFinding = {
  id: FINGERPRINT,
  ...finding,
  status: 'open',
  target_id: TARGET_ID,
  target_name: 'Shop',
  target: 'https://shop.example.com/',
  scanner_type: 'nmap',
  first_seen: '2025-03-01T10:00:42.000Z',
  last_seen: COMPLETED,
  first_scan_id: EARLIER_SCAN_ID,
  last_scan_id: SCAN_ID,
  scans_seen: 2,
  fixed_at: null,
  fixed_in_scan_id: null,
};

export const trackedFindingDetail = {
  ...trackedFinding,
  history: [
    { at: '2025-03-01T10:00:42.000Z', scan_id: EARLIER_SCAN_ID, status: 'new' },
    { at: COMPLETED, scan_id: SCAN_ID, status: 'open' },
  ],
};

export const scan = {
  id: SCAN_ID,
  website_name: 'Shop',
  website_url: 'https://shop.example.com/',
  status: 'completed',
  risk_level: 'high',
  vulnerabilities_found: 1,
  security_score: 70,
  vulnerabilities_by_risk: { Critical: 0, High: 1, Medium: 0, Low: 0, Informational: 0 },
  vulnerabilities_list: [finding],
  findings_count: 1,
  vulnerabilities_list_truncated: false,
  new_findings: 0,
  fixed_findings: 1,
  compared_with: EARLIER_SCAN_ID,
  target_id: TARGET_ID,
  scanner_type: 'nmap',
  scan_type: 'quick',
  scan_config: { scan_type: 'quick', aggressive: false },
  progress: { percent: 100, phase: 'done' },
  credits_used: 0,
  created_at: CREATED,
  started_at: STARTED,
  completed_at: COMPLETED,
  duration: 41.5,
  error: null,
};

export const diff = {
  scan_id: SCAN_ID,
  against: EARLIER_SCAN_ID,
  same_target: true,
  comparable: true,
  counts: { new: 1, fixed: 0, unchanged: 3 },
  new: [finding],
  fixed: [],
  truncated: false,
};

/** A first page holding these items. */
export function page<Item>(items: Item[]) {
  return { count: items.length, page: 1, page_size: 20, next: null, previous: null, results: items };
}

/** The plug-in's defaults: a valid scan_config of any scanner whose settings all have one. */
export function scanConfigExample(plugin: AnyScannerPlugin): Record<string, unknown> | undefined {
  const parsed = plugin.configSchema.safeParse({});
  return parsed.success ? (parsed.data as Record<string, unknown>) : undefined;
}

export function scanStarted(plugin?: AnyScannerPlugin) {
  const profile = plugin?.profiles[0];
  return {
    scan_id: SCAN_ID,
    status: 'pending',
    message: 'Scan started successfully',
    scan_type: profile?.name ?? 'quick',
    scanner_type: plugin?.type ?? 'nmap',
    target_id: TARGET_ID,
    estimated_duration: `~${profile?.typicalMinutes ?? 1} min`,
    credits_used: profile?.credits ?? 0,
    credits_remaining: 49,
    created_at: CREATED,
  };
}

const nmapResult = {
  open_ports: [
    { port: 443, protocol: 'tcp', service: 'https', state: 'open', host: 'shop.example.com' },
    { port: 3306, protocol: 'tcp', service: 'mysql', state: 'open', host: 'shop.example.com' },
  ],
  host_info: { status: 'up', latency: 0.012 },
  hosts: [
    {
      address: 'shop.example.com',
      hostnames: [],
      status: 'up',
      latency: 0.012,
      timed_out: false,
      open_port_count: 2,
    },
  ],
};

/** A completed scan where we have a result to show (nmap), a running one otherwise. */
export function scannerResult(plugin: AnyScannerPlugin) {
  const completed = plugin.type === 'nmap' && plugin.resultSchema.safeParse(nmapResult).success;
  return {
    id: SCAN_ID,
    status: completed ? 'completed' : 'running',
    target: 'https://shop.example.com/',
    target_id: TARGET_ID,
    scan_type: plugin.profiles[0]?.name ?? 'default',
    started_at: STARTED,
    completed_at: completed ? COMPLETED : null,
    duration: completed ? 41.5 : null,
    security_score: completed ? 70 : null,
    risk_level: completed ? 'high' : null,
    vulnerabilities_found: completed ? 2 : 0,
    new_findings: completed ? 0 : null,
    fixed_findings: completed ? 0 : null,
    progress: completed ? { percent: 100, phase: 'done' } : { percent: 40, phase: 'scanning' },
    scan_result: completed ? nmapResult : null,
    error: null,
  };
}

const adminBalance = { available: 50, monthly_remaining: 50, purchased: 0 };
export const adminPlanChanged = { user_id: USER_ID, subscription_type: 'startup', credits: adminBalance };
export const adminCreditsAdded = {
  user_id: USER_ID,
  added: 50,
  credits: { available: 100, monthly_remaining: 50, purchased: 50 },
};

// ---------------------------------------------------------------- nuclei templates

const TEMPLATE_ID = '2b7e1516-28ae-4d2a-a6f7-15880927cf4f';

export const NUCLEI_TEMPLATE_YAML = `id: acme-internal-status
info:
  name: Internal status page public
  author: acme-security
  severity: medium
  description: The internal build status page is reachable from the internet.
  remediation: Restrict /internal/ to the VPN.
  tags: acme,internal
http:
  - method: GET
    path:
      - "{{BaseURL}}/internal/status"
    matchers-condition: and
    matchers:
      - type: status
        status: [200]
      - type: word
        words: ["owner: platform-team"]
`;

export const nucleiTemplateSummary = {
  id: TEMPLATE_ID,
  template_id: 'acme-internal-status',
  name: 'Internal status page public',
  severity: 'medium',
  tags: ['acme', 'internal'],
  rule_id: 'nuclei.user.acme-internal-status',
  requests: 1,
  size_bytes: 471,
  sha256: 'ac089494c74b0c7117eaf261ee63fccc4dbfdb2b275ea10a34f1d2dc3f675bb3',
  created_at: CREATED,
};

export const nucleiTemplate = { ...nucleiTemplateSummary, yaml: NUCLEI_TEMPLATE_YAML };

export const nucleiTemplateList = { count: 1, limit: 50, max_template_bytes: 49152, results: [nucleiTemplateSummary] };

export const nucleiTemplateDeleted = { id: TEMPLATE_ID, deleted: true };

// ---------------------------------------------------------------- exports

const DIGEST = '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08';
const REPORT_GENERATED = '2025-03-02T10:05:00.000Z';
const CANONICALIZATION = 'secably-events-v1: SHA-256 of the RFC 8785 canonical JSON array of {data,id,revision,type}';
const STREAM = `scan-${SCAN_ID}`;

export const reportHeaders = {
  'X-Secably-Report-Stream': STREAM,
  'X-Secably-Report-Revision': '6',
  'X-Secably-Report-Digest': DIGEST,
};

/** A JSON export (docs/schemas/scan-report.schema.json). */
export const scanReport = {
  report_format: 'secably-scan-report',
  report_version: 1,
  generator: 'SecAbly',
  generated_at: REPORT_GENERATED,
  source: {
    stream: STREAM,
    first_revision: 0,
    last_revision: 6,
    event_count: 7,
    digest: DIGEST,
    digest_algorithm: 'sha256',
    canonicalization: CANONICALIZATION,
    verify: `/api/v1/scans/${SCAN_ID}/export/verify/?digest=${DIGEST}`,
  },
  scan: {
    id: SCAN_ID,
    status: 'completed',
    scanner_type: 'nmap',
    scan_profile: 'quick',
    coverage: 'quick',
    scan_config: { scan_type: 'quick', aggressive: false },
    credits: 0,
    attempt: 1,
    requested_at: CREATED,
    queued_at: '2025-03-02T10:00:00.500Z',
    started_at: STARTED,
    completed_at: COMPLETED,
    duration_ms: 41500,
  },
  target: { id: TARGET_ID, name: 'Shop', value: 'shop.example.com', type: 'hostname' },
  summary: {
    risk_level: 'high',
    security_score: 70,
    vulnerabilities_found: 1,
    findings_count: 1,
    by_risk: { critical: 0, high: 1, medium: 0, low: 0, info: 0 },
  },
  scan_result: {
    open_ports: [{ port: 3306, protocol: 'tcp', service: 'mysql', state: 'open', host: 'shop.example.com' }],
  },
  findings: [finding],
};

/** A CSV export: a header row and one row per finding (abridged here to its first columns and the provenance). */
export const csvReport =
  '\ufeffrisk,name,location,rule_id,engine,confidence,…,report_stream,report_revision,report_digest\r\n' +
  `high,MySQL database exposed,shop.example.com:3306/tcp,nmap.mysql,nmap,medium,…,${STREAM},6,${DIGEST}\r\n`;

/** A SARIF 2.1.0 export (abridged: one result, one rule). */
export const sarifReport = {
  $schema: 'https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json',
  version: '2.1.0',
  runs: [
    {
      automationDetails: {
        id: `secably/nmap/${TARGET_ID}/${SCAN_ID}`,
        guid: SCAN_ID,
        description: { text: 'nmap quick scan of shop.example.com' },
      },
      artifacts: [
        {
          location: { uri: 'tcp://shop.example.com' },
          roles: ['analysisTarget'],
          description: { text: 'Shop (hostname shop.example.com)' },
        },
      ],
      invocations: [{ executionSuccessful: true, startTimeUtc: STARTED, endTimeUtc: COMPLETED }],
      properties: {
        secablyReport: {
          report_version: 1,
          generated_at: REPORT_GENERATED,
          stream: STREAM,
          first_revision: 0,
          last_revision: 6,
          event_count: 7,
          digest: DIGEST,
          digest_algorithm: 'sha256',
          canonicalization: CANONICALIZATION,
          scan_id: SCAN_ID,
          scanner_type: 'nmap',
          scan_profile: 'quick',
          target_id: TARGET_ID,
          target: 'shop.example.com',
          risk_level: 'high',
          security_score: 70,
          findings_count: 1,
        },
      },
      results: [
        {
          ruleId: 'nmap.mysql',
          ruleIndex: 0,
          kind: 'fail',
          level: 'error',
          message: { text: `MySQL database exposed\n\n${finding.description}` },
          analysisTarget: { uri: 'tcp://shop.example.com', index: 0 },
          locations: [{ physicalLocation: { artifactLocation: { uri: 'tcp://shop.example.com:3306' } } }],
          partialFingerprints: { 'secablyFindingId/v1': FINGERPRINT },
          properties: { risk: 'high', confidence: 'medium', engine: 'nmap', location: finding.location },
        },
      ],
      tool: {
        driver: {
          name: 'SecAbly',
          fullName: 'SecAbly (nmap scanner)',
          rules: [
            {
              id: 'nmap.mysql',
              shortDescription: { text: finding.name },
              fullDescription: { text: finding.description },
              help: { text: finding.solution },
              defaultConfiguration: { level: 'error' },
              properties: {
                tags: ['security', 'external/cwe/cwe-284', 'external/cwe/cwe-306', 'engine/nmap'],
                'security-severity': '8.0',
                risk: 'high',
              },
            },
          ],
        },
      },
    },
  ],
};

export const exportVerification = {
  scan_id: SCAN_ID,
  stream: STREAM,
  digest: DIGEST,
  digest_algorithm: 'sha256',
  matches: true,
  covers_revision: 6,
  last_revision: 6,
  current: true,
  checked_at: LATER,
  message: 'The digest matches the events the store holds now (the whole stream).',
};
