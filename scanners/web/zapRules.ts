/**
 * The alerts the web scanner raises, in ZAP's terms: plugin id, alert reference
 * (`<pluginid>-<n>` when a ZAP rule raises several kinds of alert), the alert name as
 * ZAP words it, risk (0 info … 3 high), confidence (1 low … 3 high), CWE and WASC ids.
 * Ids, names, risks, confidences, CWE and WASC ids were taken from ZAP's own rules
 * (github.com/zaproxy/zap-extensions: addOns/pscanrules, pscanrulesBeta, ascanrules,
 * ascanrulesBeta, Messages.properties); descriptions and solutions are ours, written so a
 * developer can act on them.
 *
 * `scope` says what one finding is about, and so what its location is:
 * - `site`: a configuration seen on the site's responses (a missing header): one finding
 *   per alert, located at the scan's start URL;
 * - `cookie`: one finding per cookie name;
 * - `page`: one finding per page (origin + path);
 * - `param`: one finding per parameter of a page (origin + path + `?name`);
 * - `file`: one finding per exposed file (its URL).
 */

export type ZapRisk = 0 | 1 | 2 | 3;
export type ZapConfidence = 1 | 2 | 3 | 4;
export type AlertScope = 'site' | 'cookie' | 'page' | 'param' | 'file';

export interface ZapAlertDefinition {
  readonly pluginId: string;
  /** `pluginId` or `pluginId-n`. */
  readonly alertRef: string;
  /** The alert's name as ZAP shows it. */
  readonly name: string;
  readonly risk: ZapRisk;
  readonly confidence: ZapConfidence;
  readonly cwe: number;
  readonly wasc: number;
  readonly kind: 'passive' | 'active';
  readonly scope: AlertScope;
  readonly description: string;
  readonly solution: string;
  readonly references: readonly string[];
}

export const RISK_NAMES = ['Informational', 'Low', 'Medium', 'High'] as const;
export const CONFIDENCE_NAMES = ['False Positive', 'Low', 'Medium', 'High', 'Confirmed'] as const;

type Definition = Omit<ZapAlertDefinition, 'alertRef' | 'pluginId'> & { readonly ref?: number };

const MDN = 'https://developer.mozilla.org/en-US/docs/Web/HTTP/Headers/';
const OWASP_CS = 'https://cheatsheetseries.owasp.org/cheatsheets/';

const definitions: Record<string, Definition | Definition[]> = {
  // ---- passive (baseline) ----
  '10010': {
    name: 'Cookie No HttpOnly Flag',
    risk: 1,
    confidence: 2,
    cwe: 1004,
    wasc: 13,
    kind: 'passive',
    scope: 'cookie',
    description:
      'A cookie is set without the HttpOnly attribute, so JavaScript running in the page can read it. If the ' +
      'cookie carries a session or another secret, any cross-site scripting flaw lets an attacker steal it.',
    solution:
      'Add the HttpOnly attribute to every cookie that scripts do not need to read (session cookies in ' +
      'particular): Set-Cookie: name=value; HttpOnly; Secure; SameSite=Lax.',
    references: [`${OWASP_CS}Session_Management_Cheat_Sheet.html#httponly-attribute`, `${MDN}Set-Cookie`],
  },
  '10011': {
    name: 'Cookie Without Secure Flag',
    risk: 1,
    confidence: 2,
    cwe: 614,
    wasc: 13,
    kind: 'passive',
    scope: 'cookie',
    description:
      'A cookie set over HTTPS lacks the Secure attribute, so the browser will also send it over plain HTTP, ' +
      'where anyone on the network path can read or change it.',
    solution:
      'Add the Secure attribute to every cookie the site sets over HTTPS (and serve the whole site over HTTPS ' +
      'with HSTS).',
    references: [`${OWASP_CS}Session_Management_Cheat_Sheet.html#secure-attribute`, `${MDN}Set-Cookie`],
  },
  '10054': [
    {
      ref: 1,
      name: 'Cookie without SameSite Attribute',
      risk: 1,
      confidence: 2,
      cwe: 1275,
      wasc: 13,
      kind: 'passive',
      scope: 'cookie',
      description:
        'A cookie is set without the SameSite attribute, so (depending on the browser) it may be sent with ' +
        'requests that other sites trigger, which is what cross-site request forgery and some timing attacks use.',
      solution: "Set SameSite=Lax (or Strict) on cookies; use 'None' only with Secure and only where needed.",
      references: ['https://tools.ietf.org/html/draft-ietf-httpbis-cookie-same-site', `${MDN}Set-Cookie/SameSite`],
    },
    {
      ref: 2,
      name: 'Cookie with SameSite Attribute None',
      risk: 1,
      confidence: 2,
      cwe: 1275,
      wasc: 13,
      kind: 'passive',
      scope: 'cookie',
      description:
        'A cookie is set with SameSite=None, so it is sent with cross-site requests, which weakens the ' +
        'protection against cross-site request forgery.',
      solution: 'Use SameSite=Lax or Strict unless the cookie really must be sent cross-site.',
      references: [`${MDN}Set-Cookie/SameSite`],
    },
    {
      ref: 3,
      name: 'Cookie with Invalid SameSite Attribute',
      risk: 1,
      confidence: 2,
      cwe: 1275,
      wasc: 13,
      kind: 'passive',
      scope: 'cookie',
      description:
        'A cookie has a SameSite attribute with a value other than Strict, Lax or None, which browsers ignore.',
      solution: 'Set SameSite to Strict or Lax.',
      references: [`${MDN}Set-Cookie/SameSite`],
    },
  ],
  '10020': [
    {
      ref: 1,
      name: 'Missing Anti-clickjacking Header',
      risk: 2,
      confidence: 2,
      cwe: 1021,
      wasc: 15,
      kind: 'passive',
      scope: 'site',
      description:
        "HTML pages are served without a Content-Security-Policy 'frame-ancestors' directive or an " +
        'X-Frame-Options header, so any site can load them in a frame and trick users into clicking on them ' +
        '(clickjacking).',
      solution:
        "Send Content-Security-Policy: frame-ancestors 'self' (or 'none') on every HTML response; " +
        'X-Frame-Options: DENY or SAMEORIGIN covers older browsers.',
      references: [`${MDN}X-Frame-Options`, `${OWASP_CS}Clickjacking_Defense_Cheat_Sheet.html`],
    },
    {
      ref: 2,
      name: 'Multiple X-Frame-Options Header Entries',
      risk: 2,
      confidence: 2,
      cwe: 1021,
      wasc: 15,
      kind: 'passive',
      scope: 'site',
      description: 'More than one X-Frame-Options header is sent; browsers may ignore all of them.',
      solution: 'Send exactly one X-Frame-Options header (or rely on CSP frame-ancestors).',
      references: [`${MDN}X-Frame-Options`],
    },
    {
      ref: 3,
      name: 'X-Frame-Options Defined via META (Non-compliant with Spec)',
      risk: 2,
      confidence: 2,
      cwe: 1021,
      wasc: 15,
      kind: 'passive',
      scope: 'site',
      description: 'X-Frame-Options is set in a <meta http-equiv> tag, which browsers ignore.',
      solution: "Send it as an HTTP response header (or use CSP frame-ancestors 'self').",
      references: [`${MDN}X-Frame-Options`],
    },
    {
      ref: 4,
      name: 'X-Frame-Options Setting Malformed',
      risk: 2,
      confidence: 2,
      cwe: 1021,
      wasc: 15,
      kind: 'passive',
      scope: 'site',
      description: 'The X-Frame-Options header has a value other than DENY or SAMEORIGIN, so it gives no protection.',
      solution: "Use X-Frame-Options: DENY or SAMEORIGIN, or CSP frame-ancestors 'self'.",
      references: [`${MDN}X-Frame-Options`],
    },
  ],
  '10021': {
    name: 'X-Content-Type-Options Header Missing',
    risk: 1,
    confidence: 2,
    cwe: 693,
    wasc: 15,
    kind: 'passive',
    scope: 'site',
    description:
      "Responses are served without 'X-Content-Type-Options: nosniff', so browsers may guess (sniff) a " +
      'content type other than the declared one and, for example, run an uploaded text file as a script.',
    solution: 'Send X-Content-Type-Options: nosniff on every response, with a correct Content-Type.',
    references: [`${MDN}X-Content-Type-Options`],
  },
  '10035': [
    {
      ref: 1,
      name: 'Strict-Transport-Security Header Not Set',
      risk: 1,
      confidence: 3,
      cwe: 319,
      wasc: 15,
      kind: 'passive',
      scope: 'site',
      description:
        'HTTPS responses do not send Strict-Transport-Security (HSTS), so a browser may still try plain HTTP ' +
        'first, which an attacker on the network can intercept and downgrade (SSL stripping).',
      solution: 'Send Strict-Transport-Security: max-age=31536000; includeSubDomains on every HTTPS response.',
      references: [`${MDN}Strict-Transport-Security`, `${OWASP_CS}HTTP_Strict_Transport_Security_Cheat_Sheet.html`],
    },
    {
      ref: 2,
      name: 'Strict-Transport-Security Disabled',
      risk: 1,
      confidence: 3,
      cwe: 319,
      wasc: 15,
      kind: 'passive',
      scope: 'site',
      description: 'Strict-Transport-Security is sent with max-age=0, which switches HSTS off.',
      solution: 'Use a max-age of at least a year (31536000).',
      references: [`${MDN}Strict-Transport-Security`],
    },
    {
      ref: 3,
      name: 'Strict-Transport-Security Multiple Header Entries (Non-compliant with Spec)',
      risk: 1,
      confidence: 3,
      cwe: 319,
      wasc: 15,
      kind: 'passive',
      scope: 'site',
      description: 'More than one Strict-Transport-Security header is sent; browsers use only the first.',
      solution: 'Send exactly one Strict-Transport-Security header.',
      references: ['https://datatracker.ietf.org/doc/html/rfc6797#section-8.1'],
    },
    {
      ref: 5,
      name: 'Strict-Transport-Security Missing Max-Age (Non-compliant with Spec)',
      risk: 1,
      confidence: 3,
      cwe: 319,
      wasc: 15,
      kind: 'passive',
      scope: 'site',
      description: 'The Strict-Transport-Security header has no max-age directive, so browsers ignore it.',
      solution: 'Add max-age=31536000 to the header.',
      references: ['https://datatracker.ietf.org/doc/html/rfc6797#section-6.1.1'],
    },
  ],
  '10038': [
    {
      ref: 1,
      name: 'Content Security Policy (CSP) Header Not Set',
      risk: 2,
      confidence: 3,
      cwe: 693,
      wasc: 15,
      kind: 'passive',
      scope: 'site',
      description:
        'HTML pages are served without a Content-Security-Policy header. A policy tells the browser which ' +
        'scripts, styles and frames a page may load, and is the main second line of defence against cross-site ' +
        'scripting and data injection.',
      solution:
        "Send a Content-Security-Policy on every HTML response, starting from default-src 'self'; object-src " +
        "'none'; base-uri 'self'; frame-ancestors 'self', and allow only what the pages need.",
      references: [`${MDN}Content-Security-Policy`, `${OWASP_CS}Content_Security_Policy_Cheat_Sheet.html`],
    },
    {
      ref: 3,
      name: 'Content Security Policy (CSP) Report-Only Header Found',
      risk: 0,
      confidence: 3,
      cwe: 693,
      wasc: 15,
      kind: 'passive',
      scope: 'site',
      description:
        'Pages send Content-Security-Policy-Report-Only without an enforced policy: violations are reported, ' +
        'nothing is blocked.',
      solution: 'Once the reports are clean, send the policy as Content-Security-Policy.',
      references: [`${MDN}Content-Security-Policy-Report-Only`],
    },
  ],
  '10055': [
    {
      ref: 4,
      name: 'CSP: Wildcard Directive',
      risk: 2,
      confidence: 3,
      cwe: 693,
      wasc: 15,
      kind: 'passive',
      scope: 'site',
      description:
        "The Content-Security-Policy allows any source ('*', 'http:', 'https:' or 'data:') for a directive, or " +
        'leaves a directive undefined with no default-src to fall back on, so it does not restrict what that ' +
        'directive controls.',
      solution: "Define default-src and list explicit sources ('self', named hosts) instead of wildcards.",
      references: [`${MDN}Content-Security-Policy`, 'https://csp-evaluator.withgoogle.com/'],
    },
    {
      ref: 5,
      name: 'CSP: script-src unsafe-inline',
      risk: 2,
      confidence: 3,
      cwe: 693,
      wasc: 15,
      kind: 'passive',
      scope: 'site',
      description:
        "The policy allows 'unsafe-inline' scripts, which lets injected inline scripts run: the policy no " +
        'longer stops cross-site scripting.',
      solution: "Remove 'unsafe-inline' from script-src (and default-src); use nonces or hashes for inline scripts.",
      references: [`${MDN}Content-Security-Policy/script-src`],
    },
    {
      ref: 6,
      name: 'CSP: style-src unsafe-inline',
      risk: 2,
      confidence: 3,
      cwe: 693,
      wasc: 15,
      kind: 'passive',
      scope: 'site',
      description: "The policy allows 'unsafe-inline' styles, which helps CSS injection and data exfiltration.",
      solution: "Remove 'unsafe-inline' from style-src; use nonces or hashes.",
      references: [`${MDN}Content-Security-Policy/style-src`],
    },
    {
      ref: 10,
      name: 'CSP: script-src unsafe-eval',
      risk: 2,
      confidence: 3,
      cwe: 693,
      wasc: 15,
      kind: 'passive',
      scope: 'site',
      description: "The policy allows 'unsafe-eval', so injected strings can be run as code with eval() and friends.",
      solution: "Remove 'unsafe-eval' from script-src (and default-src).",
      references: [`${MDN}Content-Security-Policy/script-src`],
    },
    {
      ref: 13,
      name: 'CSP: Failure to Define Directive with No Fallback',
      risk: 2,
      confidence: 3,
      cwe: 693,
      wasc: 15,
      kind: 'passive',
      scope: 'site',
      description:
        'The policy does not define frame-ancestors, form-action or base-uri, which do not fall back to ' +
        'default-src: leaving them out allows anything (framing by any site, forms posting anywhere, <base> ' +
        'hijacking).',
      solution: "Add frame-ancestors 'self', form-action 'self' and base-uri 'self' (or 'none').",
      references: [`${MDN}Content-Security-Policy`],
    },
  ],
  '10036': [
    {
      ref: 1,
      name: 'Server Leaks its Webserver Application via "Server" HTTP Response Header Field',
      risk: 0,
      confidence: 3,
      cwe: 497,
      wasc: 13,
      kind: 'passive',
      scope: 'site',
      description: 'The Server header names the web server software, which helps an attacker pick exploits.',
      solution: 'Configure the web server, proxy or framework to send a generic Server header, or none.',
      references: ['https://httpd.apache.org/docs/current/mod/core.html#servertokens'],
    },
    {
      ref: 2,
      name: 'Server Leaks Version Information via "Server" HTTP Response Header Field',
      risk: 1,
      confidence: 3,
      cwe: 497,
      wasc: 13,
      kind: 'passive',
      scope: 'site',
      description:
        'The Server header names the web server and its exact version, which tells an attacker which known ' +
        'vulnerabilities apply (for example Apache/2.4.49 is open to path traversal, CVE-2021-41773).',
      solution:
        'Hide the version (Apache: ServerTokens Prod and ServerSignature Off; nginx: server_tokens off) and keep ' +
        'the server up to date.',
      references: [
        'https://httpd.apache.org/docs/current/mod/core.html#servertokens',
        'https://nginx.org/en/docs/http/ngx_http_core_module.html#server_tokens',
      ],
    },
  ],
  '10037': {
    name: 'Server Leaks Information via "X-Powered-By" HTTP Response Header Field(s)',
    risk: 1,
    confidence: 2,
    cwe: 497,
    wasc: 13,
    kind: 'passive',
    scope: 'site',
    description:
      'Responses carry X-Powered-By, naming the framework or language behind the site (and often its version), ' +
      'which helps an attacker find known vulnerabilities.',
    solution: 'Remove the header (PHP: expose_php = Off; Express: app.disable("x-powered-by"); ASP.NET: web.config).',
    references: ['https://owasp.org/www-project-web-security-testing-guide/'],
  },
  '10015': {
    name: 'Re-examine Cache-control Directives',
    risk: 0,
    confidence: 1,
    cwe: 525,
    wasc: 13,
    kind: 'passive',
    scope: 'site',
    description:
      'HTTPS pages that belong to a session (the request carried a cookie or credentials, the page sets a cookie ' +
      'or asks for a password) can be stored by the browser or shared caches: another user of the same ' +
      'computer or cache may see them.',
    solution: 'Send Cache-Control: no-store on pages with personal or session data.',
    references: [`${OWASP_CS}Session_Management_Cheat_Sheet.html#web-content-caching`, `${MDN}Cache-Control`],
  },
  '10017': {
    name: 'Cross-Domain JavaScript Source File Inclusion',
    risk: 1,
    confidence: 2,
    cwe: 829,
    wasc: 15,
    kind: 'passive',
    scope: 'page',
    description:
      'The page loads a script from another domain without Subresource Integrity: whoever controls that domain ' +
      '(or compromises it) runs code in your pages with full access to your users’ sessions.',
    solution:
      'Host scripts yourself, or load them only from sources you trust and pin them with an integrity attribute ' +
      '(Subresource Integrity) and crossorigin="anonymous".',
    references: ['https://developer.mozilla.org/en-US/docs/Web/Security/Subresource_Integrity'],
  },
  '10027': {
    name: 'Information Disclosure - Suspicious Comments',
    risk: 0,
    confidence: 2,
    cwe: 615,
    wasc: 13,
    kind: 'passive',
    scope: 'page',
    description:
      'The page contains comments (HTML or JavaScript) with words that often mark debugging notes, unfinished ' +
      'work or internal details (TODO, FIXME, password, SELECT …), which may help an attacker.',
    solution: 'Remove comments with internal information from what is served (strip them in the build).',
    references: ['https://cwe.mitre.org/data/definitions/615.html'],
  },
  '10096': {
    name: 'Timestamp Disclosure - Unix',
    risk: 1,
    confidence: 1,
    cwe: 497,
    wasc: 13,
    kind: 'passive',
    scope: 'page',
    description:
      'The response contains a Unix timestamp. Usually harmless, but internal timestamps can reveal when ' +
      'secrets were created or help predict tokens built from time.',
    solution: 'Check that the timestamp is not sensitive (token seeds, internal clocks); remove it if it is.',
    references: ['https://cwe.mitre.org/data/definitions/497.html'],
  },
  '10098': {
    name: 'Cross-Domain Misconfiguration',
    risk: 2,
    confidence: 2,
    cwe: 264,
    wasc: 14,
    kind: 'passive',
    scope: 'site',
    description:
      'Responses allow cross-origin reads by any site (Access-Control-Allow-Origin: *, or an origin the server ' +
      'echoes back): any web page a user visits can read this data with the user’s browser, including from ' +
      'networks only the user can reach.',
    solution:
      'Send Access-Control-Allow-Origin only for the origins that need it (an explicit list), never echo the ' +
      'Origin header blindly, and never combine it with credentials for untrusted origins.',
    references: [`${MDN}Access-Control-Allow-Origin`, 'https://portswigger.net/web-security/cors'],
  },
  '10202': {
    name: 'Absence of Anti-CSRF Tokens',
    risk: 2,
    confidence: 1,
    cwe: 352,
    wasc: 9,
    kind: 'passive',
    scope: 'page',
    description:
      'A form that changes state (POST) has no anti-CSRF token (or one too short or predictable to protect ' +
      'it): another site can make a logged-in user’s browser submit it (cross-site request forgery).',
    solution:
      'Add an unpredictable per-session token to every state-changing form and check it on the server (most ' +
      'frameworks do this for you), and set SameSite on session cookies.',
    references: [`${OWASP_CS}Cross-Site_Request_Forgery_Prevention_Cheat_Sheet.html`],
  },
  '90004': [
    {
      ref: 1,
      name: 'Cross-Origin-Resource-Policy Header Missing or Invalid',
      risk: 1,
      confidence: 2,
      cwe: 693,
      wasc: 14,
      kind: 'passive',
      scope: 'site',
      description:
        'Responses do not send Cross-Origin-Resource-Policy, so other sites can embed them in their pages and ' +
        'side-channel attacks such as Spectre may read them (insufficient site isolation).',
      solution: 'Send Cross-Origin-Resource-Policy: same-origin (or same-site) on responses.',
      references: ['https://developer.mozilla.org/en-US/docs/Web/HTTP/Cross-Origin_Resource_Policy'],
    },
    {
      ref: 2,
      name: 'Cross-Origin-Embedder-Policy Header Missing or Invalid',
      risk: 1,
      confidence: 2,
      cwe: 693,
      wasc: 14,
      kind: 'passive',
      scope: 'site',
      description:
        'HTML pages do not send Cross-Origin-Embedder-Policy: require-corp (or credentialless), so the page ' +
        'may load cross-origin resources that did not opt in, and cannot be cross-origin isolated.',
      solution: 'Send Cross-Origin-Embedder-Policy: require-corp on HTML pages.',
      references: [`${MDN}Cross-Origin-Embedder-Policy`],
    },
    {
      ref: 3,
      name: 'Cross-Origin-Opener-Policy Header Missing or Invalid',
      risk: 1,
      confidence: 2,
      cwe: 693,
      wasc: 14,
      kind: 'passive',
      scope: 'site',
      description:
        'HTML pages do not send Cross-Origin-Opener-Policy: same-origin, so pages opened from other sites share a ' +
        'browsing context group with them (cross-window attacks, Spectre).',
      solution: 'Send Cross-Origin-Opener-Policy: same-origin on HTML pages.',
      references: [`${MDN}Cross-Origin-Opener-Policy`],
    },
  ],
  '90022': {
    name: 'Application Error Disclosure',
    risk: 2,
    confidence: 2,
    cwe: 550,
    wasc: 13,
    kind: 'passive',
    scope: 'page',
    description:
      'A response shows an error message or stack trace (or is a 500 Internal Server Error), which may reveal ' +
      'code, queries, paths or versions, and shows that some input is not handled.',
    solution:
      'Handle errors in the application: show users a generic message and log the details on the server ' +
      '(disable debug/verbose error pages in production).',
    references: [`${OWASP_CS}Error_Handling_Cheat_Sheet.html`],
  },
  '10033': {
    name: 'Directory Browsing',
    risk: 2,
    confidence: 2,
    cwe: 548,
    wasc: 16,
    kind: 'passive',
    scope: 'page',
    description:
      'The web server lists the files of a directory, which exposes files nobody meant to publish (backups, ' +
      'configuration, source) and the layout of the site.',
    solution: 'Turn directory listings off (Apache: Options -Indexes; nginx: autoindex off) and add index pages.',
    references: ['https://httpd.apache.org/docs/current/mod/mod_autoindex.html'],
  },
  '10040': {
    name: 'Secure Pages Include Mixed Content',
    risk: 1,
    confidence: 2,
    cwe: 311,
    wasc: 4,
    kind: 'passive',
    scope: 'page',
    description:
      'An HTTPS page loads content (scripts, images, frames, forms) over plain HTTP, which anyone on the network ' +
      'can read or replace (a replaced script takes over the page).',
    solution: 'Load every resource over HTTPS (or with relative URLs on an HTTPS site).',
    references: ['https://developer.mozilla.org/en-US/docs/Web/Security/Mixed_content'],
  },

  // ---- active (full) ----
  '40012': {
    name: 'Cross Site Scripting (Reflected)',
    risk: 3,
    confidence: 2,
    cwe: 79,
    wasc: 8,
    kind: 'active',
    scope: 'param',
    description:
      'A parameter’s value is written back into the page without escaping, in a place where the browser runs ' +
      'it as script: a link with a crafted value runs an attacker’s JavaScript in the victim’s session ' +
      '(account takeover, data theft).',
    solution:
      'Escape output for its context (HTML text, attribute, JavaScript, URL) with your template engine’s ' +
      'auto-escaping, validate input, and add a Content-Security-Policy without unsafe-inline.',
    references: [`${OWASP_CS}Cross_Site_Scripting_Prevention_Cheat_Sheet.html`],
  },
  '40014': {
    name: 'Cross Site Scripting (Persistent)',
    risk: 3,
    confidence: 2,
    cwe: 79,
    wasc: 8,
    kind: 'active',
    scope: 'param',
    description:
      'A value submitted through this parameter is stored and later shown unescaped, where the browser runs it ' +
      'as script, to every visitor of the page that shows it (stored cross-site scripting).',
    solution:
      'Escape stored data when it is output, for its context (template auto-escaping); validate and sanitize ' +
      'rich text on input; add a strict Content-Security-Policy.',
    references: [`${OWASP_CS}Cross_Site_Scripting_Prevention_Cheat_Sheet.html`],
  },
  '40018': {
    name: 'SQL Injection',
    risk: 3,
    confidence: 2,
    cwe: 89,
    wasc: 19,
    kind: 'active',
    scope: 'param',
    description:
      'The parameter’s value is put into an SQL query without being bound as data: the scanner changed the query ' +
      'with it (a database error, or pages that change with a true/false condition). An attacker can read or ' +
      'change the database, and sometimes take over the server.',
    solution:
      'Use parameterized queries (prepared statements) or an ORM for every query; never build SQL from strings; ' +
      'run the application with a least-privilege database account.',
    references: [`${OWASP_CS}SQL_Injection_Prevention_Cheat_Sheet.html`],
  },
  '90021': {
    name: 'XPath Injection',
    risk: 3,
    confidence: 2,
    cwe: 643,
    wasc: 39,
    kind: 'active',
    scope: 'param',
    description: 'The parameter is put into an XPath query without escaping (an XPath error came back).',
    solution: 'Use parameterized XPath queries, or validate the input against a strict allow-list.',
    references: ['https://owasp.org/www-community/attacks/XPATH_Injection'],
  },
  '40015': {
    name: 'LDAP Injection',
    risk: 3,
    confidence: 2,
    cwe: 90,
    wasc: 29,
    kind: 'active',
    scope: 'param',
    description: 'The parameter is put into an LDAP query without escaping (an LDAP error came back).',
    solution: 'Escape input for LDAP filters (RFC 4515) or use a library that builds filters safely.',
    references: [`${OWASP_CS}LDAP_Injection_Prevention_Cheat_Sheet.html`],
  },
  '6': {
    name: 'Path Traversal',
    risk: 3,
    confidence: 2,
    cwe: 22,
    wasc: 33,
    kind: 'active',
    scope: 'param',
    description:
      'The parameter names a file that the server reads, and relative paths (../) or absolute paths are not ' +
      'refused: the scanner read a system file through it. An attacker can read configuration, secrets and ' +
      'source code.',
    solution:
      'Never build file paths from input: map input to an allow-list of files (ids), or resolve the path and ' +
      'check it stays inside the intended directory.',
    references: ['https://owasp.org/www-community/attacks/Path_Traversal'],
  },
  '90019': [
    {
      ref: 1,
      name: 'Server Side Code Injection - PHP Code Injection',
      risk: 3,
      confidence: 2,
      cwe: 94,
      wasc: 20,
      kind: 'active',
      scope: 'param',
      description:
        'The parameter reaches code the server evaluates (PHP eval and the like): the scanner had it compute a ' +
        'value. An attacker can run any code on the server.',
      solution:
        'Never evaluate input as code (eval, assert with strings, preg_replace /e, create_function); parse and ' +
        'validate it instead, against an allow-list.',
      references: ['https://cwe.mitre.org/data/definitions/94.html'],
    },
  ],
  '90020': {
    name: 'Remote OS Command Injection',
    risk: 3,
    confidence: 2,
    cwe: 78,
    wasc: 31,
    kind: 'active',
    scope: 'param',
    description:
      'The parameter reaches an operating-system command through a shell: the scanner ran a harmless command ' +
      'with it. An attacker can run any command on the server.',
    solution:
      'Do not call a shell with input: use the language’s API, or run programs with an argument list (no ' +
      'shell) and an allow-list of values.',
    references: [`${OWASP_CS}OS_Command_Injection_Defense_Cheat_Sheet.html`],
  },
  '20019': {
    name: 'External Redirect',
    risk: 3,
    confidence: 2,
    cwe: 601,
    wasc: 38,
    kind: 'active',
    scope: 'param',
    description:
      'The page redirects to whatever address the parameter holds (an open redirect): a link on your domain can ' +
      'send users to a phishing or malware site, and can help steal OAuth tokens.',
    solution:
      'Redirect only to relative paths or to an allow-list of destinations; map destinations to ids rather than ' +
      'taking URLs from input.',
    references: [`${OWASP_CS}Unvalidated_Redirects_and_Forwards_Cheat_Sheet.html`],
  },
  '40003': {
    name: 'CRLF Injection',
    risk: 2,
    confidence: 2,
    cwe: 113,
    wasc: 25,
    kind: 'active',
    scope: 'param',
    description:
      'Line breaks (CR LF) in the parameter end up in a response header: an attacker can add headers (set ' +
      'cookies, disable protections) or split the response (cache poisoning, cross-site scripting).',
    solution: 'Refuse or strip CR and LF in any value written to a header; use the framework’s header API.',
    references: ['https://owasp.org/www-community/vulnerabilities/CRLF_Injection'],
  },
  '40034': {
    name: '.env Information Leak',
    risk: 2,
    confidence: 2,
    cwe: 215,
    wasc: 13,
    kind: 'active',
    scope: 'file',
    description:
      'A .env file is served to anyone: these files hold configuration such as database passwords, API keys ' +
      'and secrets.',
    solution:
      'Keep .env files out of the web root (or deny access to dot-files in the server), and rotate every secret ' +
      'it exposed.',
    references: ['https://github.com/motdotla/dotenv#should-i-commit-my-env-file'],
  },
  '40035': {
    name: 'Hidden File Found',
    risk: 2,
    confidence: 2,
    cwe: 538,
    wasc: 13,
    kind: 'active',
    scope: 'file',
    description:
      'A file that should not be public is served (version-control metadata such as .git/, editor or deployment ' +
      'configuration, server status pages, private keys): it can reveal source code, credentials or internals.',
    solution:
      'Remove the file from the web root, or deny access to it (and to dot-directories such as .git/) in the ' +
      'server configuration; rotate any credential it exposed.',
    references: [
      'https://blog.hboeck.de/archives/892-Introducing-Snallygaster-a-Tool-to-Scan-for-Secrets-on-Web-Servers.html',
    ],
  },
  '40032': {
    name: '.htaccess Information Leak',
    risk: 2,
    confidence: 2,
    cwe: 94,
    wasc: 14,
    kind: 'active',
    scope: 'file',
    description: 'The server serves its .htaccess file, which reveals rewrite rules, protected paths and settings.',
    solution: 'Deny access to .ht* files (Apache does by default: <Files ".ht*"> Require all denied).',
    references: ['https://httpd.apache.org/docs/current/howto/htaccess.html'],
  },
  '10095': {
    name: 'Backup File Disclosure',
    risk: 2,
    confidence: 2,
    cwe: 530,
    wasc: 34,
    kind: 'active',
    scope: 'file',
    description:
      'A backup or copy of a file (editor backups, .bak/.old copies, archives, database dumps) is served: it ' +
      'often contains source code, configuration or data that the original does not show.',
    solution: 'Do not edit or back up files inside the web root; remove these copies and deny such extensions.',
    references: ['https://cwe.mitre.org/data/definitions/530.html'],
  },
  '10045': {
    name: 'Source Code Disclosure - /WEB-INF Folder',
    risk: 3,
    confidence: 2,
    cwe: 541,
    wasc: 34,
    kind: 'active',
    scope: 'file',
    description: 'Files under /WEB-INF/ (deployment descriptors, classes) are served, which exposes the application.',
    solution: 'Make sure the servlet container never serves /WEB-INF/ (check proxies and static file rules).',
    references: ['https://cwe.mitre.org/data/definitions/541.html'],
  },
  '0': {
    name: 'Directory Browsing',
    risk: 2,
    confidence: 2,
    cwe: 548,
    wasc: 48,
    kind: 'active',
    scope: 'page',
    description:
      'Requesting a directory of the site returns a listing of its files, exposing files nobody meant to ' + 'publish.',
    solution: 'Turn directory listings off (Apache: Options -Indexes; nginx: autoindex off).',
    references: ['https://httpd.apache.org/docs/current/mod/mod_autoindex.html'],
  },
  '40038': {
    name: 'Bypassing 403',
    risk: 2,
    confidence: 2,
    cwe: 348,
    wasc: 0,
    kind: 'active',
    scope: 'page',
    description:
      'A page that refuses a GET (401/403) answers with content to another HTTP method: the access control is ' +
      'tied to the method (e.g. Apache <Limit GET>) and can be bypassed.',
    solution:
      'Apply access control to every method (Apache: <LimitExcept> or Require outside <Limit>), and refuse ' +
      'methods the application does not use.',
    references: ['https://owasp.org/www-project-web-security-testing-guide/'],
  },
  '90028': {
    name: 'Insecure HTTP Method',
    risk: 2,
    confidence: 2,
    cwe: 749,
    wasc: 45,
    kind: 'active',
    scope: 'page',
    description:
      'The server accepts HTTP methods that are rarely needed and can be abused: TRACE echoes requests ' +
      '(including cookies and credentials) back, PUT/DELETE/WebDAV methods may let anyone change files.',
    solution: 'Disable TRACE and every method the application does not use (allow only GET, POST, HEAD as needed).',
    references: ['https://owasp.org/www-project-web-security-testing-guide/'],
  },
  '20012': {
    name: 'Anti-CSRF Tokens Check',
    risk: 2,
    confidence: 2,
    cwe: 352,
    wasc: 9,
    kind: 'active',
    scope: 'page',
    description:
      'A form has an anti-CSRF token, but the server accepted the form with a different token value: the token ' +
      'is not checked, so it gives no protection against cross-site request forgery.',
    solution: 'Check the token on the server for every state-changing request and refuse requests without a valid one.',
    references: [`${OWASP_CS}Cross-Site_Request_Forgery_Prevention_Cheat_Sheet.html`],
  },
};

function flatten(): Map<string, ZapAlertDefinition> {
  const byRef = new Map<string, ZapAlertDefinition>();
  for (const [pluginId, value] of Object.entries(definitions)) {
    const list = Array.isArray(value) ? value : [value];
    for (const { ref, ...definition } of list) {
      const alertRef = ref === undefined ? pluginId : `${pluginId}-${ref}`;
      byRef.set(alertRef, { pluginId, alertRef, ...definition });
    }
  }
  return byRef;
}

/** Every alert the native engine can raise, by alert reference. */
export const ZAP_ALERTS: ReadonlyMap<string, ZapAlertDefinition> = flatten();

export function zapAlert(alertRef: string): ZapAlertDefinition {
  const definition = ZAP_ALERTS.get(alertRef);
  if (!definition) throw new Error(`unknown ZAP alert ${alertRef}`);
  return definition;
}

/** The rules (plugin ids) of each kind, with ZAP's rule names, as reported in `rules_run`. */
export const PASSIVE_RULES: readonly { readonly pluginid: string; readonly name: string }[] = [
  { pluginid: '10010', name: 'Cookie No HttpOnly Flag' },
  { pluginid: '10011', name: 'Cookie Without Secure Flag' },
  { pluginid: '10054', name: 'Cookie without SameSite Attribute' },
  { pluginid: '10020', name: 'Anti-clickjacking Header' },
  { pluginid: '10021', name: 'X-Content-Type-Options Header Missing' },
  { pluginid: '10035', name: 'Strict-Transport-Security Header' },
  { pluginid: '10038', name: 'Content Security Policy (CSP) Header Not Set' },
  { pluginid: '10055', name: 'CSP' },
  { pluginid: '10036', name: 'HTTP Server Response Header' },
  { pluginid: '10037', name: 'Server Leaks Information via "X-Powered-By" HTTP Response Header Field(s)' },
  { pluginid: '10015', name: 'Re-examine Cache-control Directives' },
  { pluginid: '10017', name: 'Cross-Domain JavaScript Source File Inclusion' },
  { pluginid: '10027', name: 'Information Disclosure - Suspicious Comments' },
  { pluginid: '10096', name: 'Timestamp Disclosure' },
  { pluginid: '10098', name: 'Cross-Domain Misconfiguration' },
  { pluginid: '10202', name: 'Absence of Anti-CSRF Tokens' },
  { pluginid: '90004', name: 'Insufficient Site Isolation Against Spectre Vulnerability' },
  { pluginid: '90022', name: 'Application Error Disclosure' },
  { pluginid: '10033', name: 'Directory Browsing' },
  { pluginid: '10040', name: 'Secure Pages Include Mixed Content' },
];

export const ACTIVE_RULES: readonly { readonly pluginid: string; readonly name: string }[] = [
  { pluginid: '40012', name: 'Cross Site Scripting (Reflected)' },
  { pluginid: '40014', name: 'Cross Site Scripting (Persistent)' },
  { pluginid: '40018', name: 'SQL Injection' },
  { pluginid: '90021', name: 'XPath Injection' },
  { pluginid: '40015', name: 'LDAP Injection' },
  { pluginid: '6', name: 'Path Traversal' },
  { pluginid: '90019', name: 'Server Side Code Injection' },
  { pluginid: '90020', name: 'Remote OS Command Injection' },
  { pluginid: '20019', name: 'External Redirect' },
  { pluginid: '40003', name: 'CRLF Injection' },
  { pluginid: '40034', name: '.env Information Leak' },
  { pluginid: '40035', name: 'Hidden File Finder' },
  { pluginid: '40032', name: '.htaccess Information Leak' },
  { pluginid: '10095', name: 'Backup File Disclosure' },
  { pluginid: '10045', name: 'Source Code Disclosure - /WEB-INF Folder' },
  { pluginid: '0', name: 'Directory Browsing' },
  { pluginid: '40038', name: 'Bypassing 403' },
  { pluginid: '90028', name: 'Insecure HTTP Method' },
  { pluginid: '20012', name: 'Anti-CSRF Tokens Check' },
];
