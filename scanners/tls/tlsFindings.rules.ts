/**
 * From a TLS scan result to findings: one rule per weakness, with a stable rule id
 * (`tls.protocol.tls1_0`, `tls.cipher.rc4`, `tls.cert.expired`, `tls.heartbleed`, …),
 * one finding per rule at `<host>:<port>` whose evidence lists every protocol,
 * suite or certificate concerned. Pure.
 */
import type { Risk, ScannerFinding } from '../../domain/shared/finding.js';
import type { CertificateInfo, ProtocolKey, SuiteEntry, TlsScanResult } from './tlsResult.js';

export const TLS_ENGINE = 'secably-tls';

const PROTOCOL_LABELS: Readonly<Record<ProtocolKey, string>> = {
  ssl_2_0: 'SSLv2',
  ssl_3_0: 'SSLv3',
  tls_1_0: 'TLS 1.0',
  tls_1_1: 'TLS 1.1',
  tls_1_2: 'TLS 1.2',
  tls_1_3: 'TLS 1.3',
};

interface Rule {
  readonly id: string;
  readonly name: string;
  readonly risk: Risk;
  readonly description: string;
  readonly solution: string;
  readonly cwe?: readonly number[];
  readonly cve?: readonly string[];
  readonly cvss?: { score: number; vector: string };
  readonly references?: readonly string[];
}

const MOZILLA = 'https://wiki.mozilla.org/Security/Server_Side_TLS';
const SSL_CONFIG = 'https://ssl-config.mozilla.org/';

/** Every rule the TLS scanner can report. */
export const TLS_RULES = {
  ssl2: {
    id: 'tls.protocol.ssl2',
    name: 'SSLv2 is enabled',
    risk: 'critical',
    description:
      'The server accepts SSL 2.0, a protocol broken since 1996: no handshake integrity, weak MAC, export ciphers, and ' +
      'one server speaking it lets an attacker decrypt TLS sessions of every server sharing its RSA key (DROWN).',
    solution:
      'Disable SSLv2 completely (e.g. `SSLProtocol -all +TLSv1.2 +TLSv1.3` in Apache, `ssl_protocols TLSv1.2 TLSv1.3;` in nginx).',
    cwe: [327],
    cve: ['CVE-2016-0800'],
    references: ['https://drownattack.com/', MOZILLA],
  },
  ssl3: {
    id: 'tls.protocol.ssl3',
    name: 'SSLv3 is enabled',
    risk: 'high',
    description:
      'The server accepts SSL 3.0. Its CBC padding lets an attacker who can make the browser repeat requests decrypt ' +
      'cookies byte by byte (POODLE), and its only other cipher is RC4. No current client needs it.',
    solution: 'Disable SSLv3 and allow only TLS 1.2 and TLS 1.3.',
    cwe: [327],
    cve: ['CVE-2014-3566'],
    references: ['https://www.openssl.org/~bodo/ssl-poodle.pdf', MOZILLA],
  },
  tls10: {
    id: 'tls.protocol.tls1_0',
    name: 'TLS 1.0 is enabled',
    risk: 'medium',
    description:
      'The server accepts TLS 1.0, deprecated by RFC 8996 (2021) and no longer allowed by PCI DSS. It relies on SHA-1 and ' +
      'MD5 in the handshake and its CBC mode is open to BEAST; browsers have removed it.',
    solution: 'Disable TLS 1.0 (and 1.1); allow TLS 1.2 and TLS 1.3 only.',
    cwe: [327],
    references: ['https://www.rfc-editor.org/rfc/rfc8996', MOZILLA],
  },
  tls11: {
    id: 'tls.protocol.tls1_1',
    name: 'TLS 1.1 is enabled',
    risk: 'low',
    description:
      'The server accepts TLS 1.1, deprecated by RFC 8996 (2021): no modern cipher suites (no AEAD), SHA-1/MD5 in the ' +
      'handshake. Browsers have removed it, so it only serves outdated clients.',
    solution: 'Disable TLS 1.1; allow TLS 1.2 and TLS 1.3 only.',
    cwe: [327],
    references: ['https://www.rfc-editor.org/rfc/rfc8996', MOZILLA],
  },
  noModern: {
    id: 'tls.protocol.no_tls1_2',
    name: 'Neither TLS 1.2 nor TLS 1.3 is supported',
    risk: 'high',
    description:
      'The server speaks only deprecated protocol versions. Current browsers and HTTP clients refuse to connect, and ' +
      'the connections that do happen use broken cryptography.',
    solution: 'Upgrade the TLS library or server and enable TLS 1.2 and TLS 1.3.',
    cwe: [327],
    references: [MOZILLA],
  },
  noTls13: {
    id: 'tls.protocol.no_tls1_3',
    name: 'TLS 1.3 is not supported',
    risk: 'info',
    description:
      'The server does not offer TLS 1.3, which removes every legacy algorithm, encrypts more of the handshake and ' +
      'connects in one round trip.',
    solution: 'Enable TLS 1.3 (OpenSSL 1.1.1 or later, nginx `ssl_protocols TLSv1.2 TLSv1.3;`).',
    references: [MOZILLA],
  },
  nullCipher: {
    id: 'tls.cipher.null',
    name: 'Cipher suites without encryption (NULL) are accepted',
    risk: 'high',
    description:
      'The server accepts suites that authenticate but do not encrypt: anyone on the path reads the traffic in clear if ' +
      'a client can be made to pick one.',
    solution: "Remove NULL suites from the server's cipher list (OpenSSL: add `!eNULL`).",
    cwe: [319],
    references: [MOZILLA],
  },
  anonymous: {
    id: 'tls.cipher.anonymous',
    name: 'Anonymous cipher suites are accepted',
    risk: 'high',
    description:
      'The server accepts anonymous (EC)DH suites: no certificate, so any man in the middle can impersonate the server ' +
      'and read or change the traffic.',
    solution: 'Remove anonymous suites (OpenSSL: `!aNULL`).',
    cwe: [300],
    references: [MOZILLA],
  },
  export: {
    id: 'tls.cipher.export',
    name: 'Export-grade cipher suites are accepted',
    risk: 'high',
    description:
      'The server accepts 1990s export suites (40/56-bit keys, 512-bit RSA or DH key exchange). An attacker in the middle ' +
      'can force and break them in real time (FREAK, Logjam).',
    solution: 'Remove every EXPORT suite (OpenSSL: `!EXPORT`), or better, use a modern suite list.',
    cwe: [326, 327],
    cve: ['CVE-2015-0204', 'CVE-2015-4000'],
    references: ['https://weakdh.org/', MOZILLA],
  },
  rc4: {
    id: 'tls.cipher.rc4',
    name: 'RC4 cipher suites are accepted',
    risk: 'medium',
    description:
      'The server accepts RC4, whose keystream biases let an attacker recover plaintext such as cookies from enough ' +
      'encrypted copies. RFC 7465 prohibits RC4 in TLS.',
    solution: 'Remove RC4 suites (OpenSSL: `!RC4`).',
    cwe: [327],
    cve: ['CVE-2013-2566', 'CVE-2015-2808'],
    references: ['https://www.rfc-editor.org/rfc/rfc7465', MOZILLA],
  },
  des: {
    id: 'tls.cipher.des',
    name: 'Single-DES cipher suites are accepted',
    risk: 'high',
    description:
      'The server accepts DES (56-bit keys or less), which can be brute-forced in hours with commodity hardware.',
    solution: 'Remove DES suites (OpenSSL: `!DES`).',
    cwe: [326, 327],
    references: [MOZILLA],
  },
  block64: {
    id: 'tls.cipher.3des',
    name: '64-bit block ciphers (3DES, IDEA) are accepted (SWEET32)',
    risk: 'low',
    description:
      'The server accepts suites with a 64-bit block cipher (3DES, IDEA, RC2). After about 32 GB on one connection, ' +
      'block collisions leak plaintext: a long-lived HTTPS connection lets an attacker recover a session cookie (SWEET32).',
    solution:
      'Remove 3DES, IDEA and RC2 suites (OpenSSL: `!3DES:!IDEA:!RC2`); every current client has AES-GCM or ChaCha20.',
    cwe: [327],
    cve: ['CVE-2016-2183', 'CVE-2016-6329'],
    references: ['https://sweet32.info/', MOZILLA],
  },
  cbcTls10: {
    id: 'tls.cipher.cbc_tls1_0',
    name: 'CBC cipher suites over TLS 1.0 (BEAST)',
    risk: 'low',
    description:
      'With TLS 1.0 (and SSLv3) the CBC initialization vector is predictable, which lets an attacker who can inject ' +
      'chosen plaintext decrypt parts of the traffic (BEAST). Browsers mitigate it; other clients may not.',
    solution: 'Disable TLS 1.0 (the real fix), or offer only non-CBC suites over it.',
    cwe: [327],
    cve: ['CVE-2011-3389'],
    references: [MOZILLA],
  },
  cbc: {
    id: 'tls.cipher.cbc',
    name: 'CBC-mode cipher suites are accepted (TLS 1.1/1.2)',
    risk: 'low',
    description:
      'The server accepts MAC-then-encrypt CBC suites. Their padding checks have leaked plaintext again and again ' +
      '(Lucky Thirteen, POODLE variants, Zombie POODLE/GOLDENDOODLE) when implementations are not constant-time; ' +
      'AEAD suites (GCM, ChaCha20-Poly1305) do not have this class of bug.',
    solution:
      'Offer only AEAD suites (ECDHE with AES-GCM or ChaCha20-Poly1305) to TLS 1.2 clients, as Mozilla\'s "intermediate" profile does.',
    cwe: [327],
    cve: ['CVE-2013-0169'],
    references: [MOZILLA],
  },
  staticKeyExchange: {
    id: 'tls.cipher.static_key_exchange',
    name: 'Cipher suites without forward secrecy are accepted',
    risk: 'low',
    description:
      "The server accepts suites with a static RSA or DH key exchange: whoever obtains the server's private key later " +
      '(theft, legal order, a bug) can decrypt every recorded session that used them. These suites are also the ones ' +
      'exposed to Bleichenbacher-style (ROBOT) attacks.',
    solution: 'Offer only ECDHE and DHE suites for TLS 1.2 (and TLS 1.3, which always has forward secrecy).',
    cwe: [326],
    references: [MOZILLA],
  },
  noForwardSecrecy: {
    id: 'tls.cipher.no_forward_secrecy',
    name: 'No cipher suite with forward secrecy',
    risk: 'medium',
    description:
      "None of the accepted suites uses an ephemeral key exchange: a later compromise of the server's private key " +
      'decrypts every recorded session.',
    solution: 'Enable ECDHE suites (e.g. ECDHE-RSA-AES128-GCM-SHA256) and TLS 1.3.',
    cwe: [326],
    references: [MOZILLA],
  },
  noServerPreference: {
    id: 'tls.cipher.no_server_preference',
    name: 'The server does not enforce its cipher suite order',
    risk: 'low',
    description:
      'The server lets the client choose among the suites it accepts, so a client that lists a weaker suite first ' +
      'gets it even though a stronger one is available.',
    solution:
      'Make the server pick by its own order (nginx `ssl_prefer_server_ciphers on;`, Apache `SSLHonorCipherOrder on`) when it still offers weaker suites.',
    cwe: [757],
    references: [MOZILLA],
  },
  weakDh: {
    id: 'tls.kex.weak_dh',
    name: 'Weak Diffie-Hellman parameters',
    risk: 'medium',
    description:
      'The server uses DHE with a prime shorter than 2048 bits. 1024-bit groups are within reach of nation-state ' +
      'attackers (and 512-bit ones of anyone: Logjam); a passive attacker who breaks the group decrypts the traffic.',
    solution: 'Use 2048-bit or larger DH groups (RFC 7919 ffdhe2048+), or drop DHE in favour of ECDHE.',
    cwe: [326],
    cve: ['CVE-2015-4000'],
    references: ['https://weakdh.org/', MOZILLA],
  },
  weakCurve: {
    id: 'tls.kex.weak_curve',
    name: 'Weak elliptic curves are accepted for key exchange',
    risk: 'low',
    description:
      'The server accepts ECDHE over curves with less than 112 bits of security (e.g. 160- or 192-bit curves).',
    solution: 'Allow only x25519, secp256r1, secp384r1 (and x448, secp521r1).',
    cwe: [326],
    references: [MOZILLA],
  },
  expired: {
    id: 'tls.cert.expired',
    name: 'The certificate has expired',
    risk: 'high',
    description:
      "The server's certificate is past its notAfter date. Browsers and API clients refuse the connection or show a " +
      'warning users learn to click through, which defeats protection against impersonation.',
    solution: 'Renew the certificate and install it with its intermediate certificates; automate renewal (ACME).',
    cwe: [298],
    references: [MOZILLA],
  },
  notYetValid: {
    id: 'tls.cert.not_yet_valid',
    name: 'The certificate is not yet valid',
    risk: 'high',
    description:
      "The certificate's notBefore date is in the future: clients refuse it (or the server's clock is wrong).",
    solution: "Install a certificate that is valid now and check the server's clock (NTP).",
    cwe: [298],
  },
  expiringSoon: {
    id: 'tls.cert.expiring_soon',
    name: 'The certificate expires within 30 days',
    risk: 'low',
    description: 'The certificate will expire soon; after that, clients will refuse the connection.',
    solution: 'Renew the certificate now and automate renewal (ACME clients renew 30 days before expiry).',
    cwe: [298],
  },
  hostnameMismatch: {
    id: 'tls.cert.hostname_mismatch',
    name: 'The certificate does not match the host name',
    risk: 'high',
    description:
      'Neither the subject alternative names nor the common name of the certificate cover the name clients connect to, ' +
      'so clients refuse the connection or users get a warning.',
    solution: 'Install a certificate whose subjectAltName lists this host name (or a matching wildcard).',
    cwe: [297],
  },
  selfSigned: {
    id: 'tls.cert.self_signed',
    name: 'Self-signed certificate',
    risk: 'high',
    description:
      'The certificate is signed by its own key, not by a certificate authority clients trust: clients refuse it, and ' +
      "users who accept it cannot tell it from an attacker's.",
    solution: "Use a certificate from a public CA (e.g. Let's Encrypt), or distribute your private CA to every client.",
    cwe: [295],
  },
  untrusted: {
    id: 'tls.cert.untrusted',
    name: 'The certificate chain is not trusted',
    risk: 'high',
    description:
      'The served chain does not lead to a root in the standard (Mozilla) trust store: an intermediate is missing, the ' +
      'root is private or unknown, or an issuer in the chain has expired. Clients refuse the connection.',
    solution:
      'Serve the full chain (leaf, then each intermediate, e.g. `fullchain.pem`) issued by a public CA, and replace expired intermediates.',
    cwe: [295],
  },
  weakKey: {
    id: 'tls.cert.weak_key',
    name: 'Weak certificate key',
    risk: 'medium',
    description:
      'A certificate the server sends has an RSA/DSA key under 2048 bits or an EC key under 224 bits. 1024-bit RSA is ' +
      'considered breakable by well-funded attackers; CAs stopped issuing such certificates in 2013.',
    solution: 'Issue a new certificate with an RSA key of at least 2048 bits or an ECDSA P-256 key.',
    cwe: [326],
  },
  sha1Signature: {
    id: 'tls.cert.sha1_signature',
    name: 'Certificate signed with SHA-1',
    risk: 'medium',
    description:
      'A served certificate is signed with SHA-1, for which chosen-prefix collisions are practical (SHAttered, 2020): ' +
      'a colliding certificate could be forged. Browsers reject SHA-1 certificates.',
    solution: 'Reissue the certificate (and intermediates) with SHA-256 signatures.',
    cwe: [328],
    references: ['https://shattered.io/'],
  },
  md5Signature: {
    id: 'tls.cert.md5_signature',
    name: 'Certificate signed with MD5',
    risk: 'high',
    description:
      'A served certificate is signed with MD5 (or older), for which forged CA certificates were demonstrated in 2008.',
    solution: 'Reissue the certificate with a SHA-256 signature.',
    cwe: [328],
  },
  shortSerial: {
    id: 'tls.cert.short_serial',
    name: 'Certificate serial number has fewer than 64 bits',
    risk: 'low',
    description:
      'The serial number is shorter than the 64 random bits the CA/Browser Forum Baseline Requirements demand. ' +
      'Unpredictable serials are what made the 2008 MD5 CA forgery impractical to repeat; public CAs must use them.',
    solution:
      'Use a certificate from a CA that issues random serial numbers (every public CA does); for a private CA, generate serials with 128 random bits (`openssl x509 -set_serial 0x$(openssl rand -hex 16)`).',
    cwe: [330],
  },
  noRevocationInfo: {
    id: 'tls.cert.no_revocation_info',
    name: 'The certificate names no OCSP responder or CRL',
    risk: 'low',
    description:
      'The certificate has neither an OCSP URL (Authority Information Access) nor a CRL distribution point, so ' +
      'clients cannot learn that it was revoked if its key is ever compromised.',
    solution:
      'Use certificates from a CA that publishes revocation information (public CAs do); for a private CA, add authorityInfoAccess/crlDistributionPoints.',
    cwe: [299],
  },
  chainOrder: {
    id: 'tls.cert.chain_order',
    name: 'The certificate chain is out of order or has extra certificates',
    risk: 'info',
    description:
      'Each certificate the server sends should be issued by the next one. Some clients fail on chains that are out of ' +
      'order or carry unrelated certificates.',
    solution: 'Serve the leaf first, then each intermediate in issuing order; leave the root out.',
  },
  revoked: {
    id: 'tls.cert.revoked',
    name: 'The stapled OCSP response says the certificate is revoked',
    risk: 'high',
    description:
      'The certificate authority has revoked this certificate (key compromise or mis-issuance); clients that check refuse it.',
    solution: 'Install a new certificate with a new key.',
    cwe: [299],
  },
  mustStapleMissing: {
    id: 'tls.ocsp.must_staple_missing',
    name: 'OCSP Must-Staple certificate served without a stapled response',
    risk: 'medium',
    description:
      'The certificate requires a stapled OCSP response (TLS feature extension) but the server sent none: Firefox refuses the connection.',
    solution: 'Enable OCSP stapling (nginx `ssl_stapling on;`, Apache `SSLUseStapling on`).',
    cwe: [299],
  },
  stapleStale: {
    id: 'tls.ocsp.stale_response',
    name: 'The stapled OCSP response is out of date or unusable',
    risk: 'low',
    description:
      'The OCSP response the server staples is past its nextUpdate time or cannot be read, so clients ignore it.',
    solution: "Let the server refresh its stapled response (check that it can reach the CA's OCSP responder).",
    cwe: [299],
  },
  noStapling: {
    id: 'tls.ocsp.stapling_missing',
    name: 'OCSP stapling is not enabled',
    risk: 'info',
    description:
      'The server does not staple an OCSP response: clients must ask the CA themselves (slower, and a privacy leak) or skip revocation checks.',
    solution: 'Enable OCSP stapling (nginx `ssl_stapling on;`, Apache `SSLUseStapling on`).',
  },
  heartbleed: {
    id: 'tls.heartbleed',
    name: 'Heartbleed (OpenSSL heartbeat over-read)',
    risk: 'critical',
    description:
      'The server answered a heartbeat request whose length field exceeds its payload. A vulnerable OpenSSL (1.0.1 to ' +
      '1.0.1f) returns up to 64 KB of its memory per request: private keys, session cookies, passwords. (This scan only ' +
      'made it echo bytes it had just been sent.)',
    solution:
      'Upgrade OpenSSL at once (1.0.1g or later, better a supported release), then replace the private key and ' +
      'certificate, and revoke the old certificate and session secrets.',
    cwe: [126],
    cve: ['CVE-2014-0160'],
    cvss: { score: 7.5, vector: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N' },
    references: ['https://heartbleed.com/'],
  },
  ccsInjection: {
    id: 'tls.ccs_injection',
    name: 'OpenSSL CCS injection (early ChangeCipherSpec accepted)',
    risk: 'high',
    description:
      'The server accepted a ChangeCipherSpec before the key exchange, the OpenSSL bug (before 1.0.1h) that lets a man ' +
      'in the middle force both sides onto keys derived from an empty master secret and read or change the traffic.',
    solution: 'Upgrade OpenSSL (1.0.1h / 1.0.0m / 0.9.8za or later; better a supported release).',
    cwe: [326],
    cve: ['CVE-2014-0224'],
    cvss: { score: 7.4, vector: 'CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:N' },
  },
  compression: {
    id: 'tls.compression',
    name: 'TLS compression is enabled (CRIME)',
    risk: 'medium',
    description:
      'The server accepts DEFLATE compression of TLS records. An attacker who can add text to requests learns secrets ' +
      'such as cookies from the compressed lengths (CRIME).',
    solution: 'Disable TLS compression (OpenSSL: SSL_OP_NO_COMPRESSION; it is off by default since OpenSSL 1.1.0).',
    cwe: [200],
    cve: ['CVE-2012-4929'],
  },
  insecureRenegotiation: {
    id: 'tls.renegotiation.insecure',
    name: 'Secure renegotiation (RFC 5746) is not supported',
    risk: 'medium',
    description:
      'The server does not support the renegotiation_info extension. If it renegotiates at all, a man in the middle can ' +
      "splice his own request in front of the client's authenticated session (CVE-2009-3555).",
    solution: 'Upgrade the TLS library; any version from 2010 on supports RFC 5746.',
    cwe: [300],
    cve: ['CVE-2009-3555'],
  },
  clientRenegotiation: {
    id: 'tls.renegotiation.client_initiated',
    name: 'Client-initiated renegotiation is allowed',
    risk: 'low',
    description:
      'Any client can ask the server to redo the expensive handshake on one connection, over and over: a cheap way to ' +
      "exhaust the server's CPU (TLS renegotiation DoS).",
    solution:
      'Disable client-initiated renegotiation (OpenSSL 1.1.1+: SSL_OP_NO_RENEGOTIATION; most servers do by default).',
    cwe: [400],
  },
  fallbackScsv: {
    id: 'tls.fallback_scsv.missing',
    name: 'TLS_FALLBACK_SCSV is not supported (downgrade protection)',
    risk: 'low',
    description:
      'The server went on with a handshake below its best protocol version although the client signalled it was a ' +
      'fallback (RFC 7507). An attacker who breaks connections can push clients that retry to an older protocol.',
    solution: 'Upgrade the TLS library (OpenSSL 1.0.1j+ supports it), or disable the old protocol versions.',
    cwe: [757],
  },
  breach: {
    id: 'tls.http_compression',
    name: 'HTTP responses are compressed over TLS (BREACH)',
    risk: 'low',
    description:
      'The HTTPS site compresses its responses. When a page reflects attacker-controlled input next to a secret ' +
      '(a CSRF token, a session value), the compressed size leaks that secret to someone who can watch the traffic ' +
      'and make the victim send requests (BREACH). Only pages that mix secrets and reflected input are exposed.',
    solution:
      'Disable compression for responses that contain secrets, or mask secrets per response (e.g. XOR-masked CSRF ' +
      'tokens), add length padding, and use SameSite cookies.',
    cwe: [200],
    cve: ['CVE-2013-3587'],
    references: ['https://www.breachattack.com/'],
  },
  hstsMissing: {
    id: 'tls.hsts.missing',
    name: 'HTTP Strict Transport Security (HSTS) is not set',
    risk: 'low',
    description:
      'The HTTPS site sends no Strict-Transport-Security header, so browsers still try plain HTTP first and an attacker ' +
      'on the network can strip TLS (sslstrip) for visitors who type the address or follow an http:// link.',
    solution: 'Send `Strict-Transport-Security: max-age=31536000; includeSubDomains` on every HTTPS response.',
    cwe: [319],
    references: ['https://www.rfc-editor.org/rfc/rfc6797'],
  },
  hstsWeak: {
    id: 'tls.hsts.weak',
    name: 'HSTS policy is too short or invalid',
    risk: 'low',
    description:
      'The Strict-Transport-Security header is invalid or its max-age is below six months, so browsers forget the ' +
      'policy quickly (max-age=0 removes it).',
    solution: 'Send `Strict-Transport-Security: max-age=31536000; includeSubDomains` (at least 15768000 seconds).',
    cwe: [319],
    references: ['https://www.rfc-editor.org/rfc/rfc6797'],
  },
} satisfies Record<string, Rule>;

function finding(
  rule: Rule,
  location: string,
  evidence: string,
  overrides: Partial<Pick<Rule, 'risk' | 'description'>> = {},
): ScannerFinding {
  return {
    name: rule.name,
    risk: overrides.risk ?? rule.risk,
    description: overrides.description ?? rule.description,
    solution: rule.solution,
    evidence: evidence.slice(0, 4900),
    location,
    rule_id: rule.id,
    engine: TLS_ENGINE,
    confidence: 'confirmed',
    ...(rule.cwe ? { cwe: [...rule.cwe] } : {}),
    ...(rule.cve ? { cve: [...rule.cve] } : {}),
    ...(rule.cvss ? { cvss: rule.cvss } : {}),
    references: [...(rule.references ?? []), SSL_CONFIG].slice(0, 50),
  };
}

/** `host:port`, IPv6 literals bracketed. */
export function locationOf(host: string, port: number): string {
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}

function suitesWith(
  result: TlsScanResult,
  test: (suite: SuiteEntry, version: ProtocolKey) => boolean,
): { version: ProtocolKey; suite: SuiteEntry }[] {
  const out: { version: ProtocolKey; suite: SuiteEntry }[] = [];
  if (!result.cipher_suites) return out;
  for (const [version, entry] of Object.entries(result.cipher_suites) as [ProtocolKey, { suites: SuiteEntry[] }][]) {
    for (const suite of entry.suites) if (test(suite, version)) out.push({ version, suite });
  }
  return out;
}

function listSuites(found: readonly { version: ProtocolKey; suite: SuiteEntry }[]): string {
  const byVersion = new Map<ProtocolKey, string[]>();
  for (const { version, suite } of found) byVersion.set(version, [...(byVersion.get(version) ?? []), suite.name]);
  return [...byVersion.entries()]
    .map(([version, names]) => `${PROTOCOL_LABELS[version]}: ${names.join(', ')}`)
    .join('\n');
}

/** CBC-mode suite (by name: every TLS CBC suite says so; SSLv2 specs are not TLS suites). */
function isCbc(suite: SuiteEntry): boolean {
  return /_CBC_/.test(suite.name) && !suite.name.startsWith('SSL_CK_');
}

function certificateFindings(info: CertificateInfo, location: string): ScannerFinding[] {
  const out: ScannerFinding[] = [];
  const all = [{ ...info, used_for: 'default' }, ...info.additional_certificates];
  const label = (c: (typeof all)[number]) =>
    `${c.subject} (${c.key_type} ${c.key_bits}${c.used_for === 'default' ? '' : `, ${c.used_for}`})`;
  const pick = (test: (c: (typeof all)[number]) => boolean) => all.filter(test);

  const expired = pick((c) => c.expired);
  if (expired.length > 0) {
    out.push(
      finding(TLS_RULES.expired, location, expired.map((c) => `${label(c)}: expired on ${c.not_after}`).join('\n')),
    );
  }
  const notYet = pick((c) => c.not_yet_valid);
  if (notYet.length > 0) {
    out.push(
      finding(TLS_RULES.notYetValid, location, notYet.map((c) => `${label(c)}: valid from ${c.not_before}`).join('\n')),
    );
  }
  const soon = pick((c) => c.expires_soon);
  if (soon.length > 0) {
    out.push(
      finding(
        TLS_RULES.expiringSoon,
        location,
        soon.map((c) => `${label(c)}: expires on ${c.not_after} (${c.days_until_expiry} days)`).join('\n'),
      ),
    );
  }
  const mismatch = pick((c) => !c.hostname_matches);
  if (mismatch.length > 0) {
    out.push(
      finding(
        TLS_RULES.hostnameMismatch,
        location,
        mismatch
          .map(
            (c) =>
              `${label(c)} does not cover "${c.hostname}"; names: ${c.subject_alt_names.join(', ') || `CN=${c.common_name ?? '(none)'}`}`,
          )
          .join('\n'),
      ),
    );
  }
  const selfSigned = pick((c) => c.trust_error === 'self_signed');
  if (selfSigned.length > 0) {
    out.push(
      finding(TLS_RULES.selfSigned, location, selfSigned.map((c) => `${label(c)} is signed by its own key`).join('\n')),
    );
  }
  const untrusted = pick((c) => !c.trusted && c.trust_error !== 'self_signed');
  if (untrusted.length > 0) {
    const why: Record<string, string> = {
      untrusted_root: 'the chain ends in a self-signed root that is not in the trust store',
      unknown_issuer: 'the issuer is neither served nor a trusted root (missing intermediate or private CA)',
      expired_in_chain: 'an issuing certificate in the chain is out of its validity period',
      unparseable: 'a certificate could not be read',
    };
    out.push(
      finding(
        TLS_RULES.untrusted,
        location,
        untrusted
          .map(
            (c) =>
              `${label(c)}: ${why[c.trust_error ?? 'unknown_issuer'] ?? c.trust_error}; path: ${c.trust_path.join(' <- ')}`,
          )
          .join('\n'),
      ),
    );
  }
  const weakKeys = [...new Set(all.flatMap((c) => c.weak_keys))];
  if (weakKeys.length > 0) {
    const sizes = all.flatMap((c) =>
      c.chain.filter((e) => weakKeys.includes(e.subject)).map((e) => `${e.subject}: ${e.key_type} ${e.key_bits} bits`),
    );
    out.push(finding(TLS_RULES.weakKey, location, [...new Set(sizes)].join('\n')));
  }
  const md5 = [...new Set(all.flatMap((c) => c.md5_signed))];
  if (md5.length > 0)
    out.push(finding(TLS_RULES.md5Signature, location, `Signed with MD5 or older: ${md5.join('; ')}`));
  const sha1 = [...new Set(all.flatMap((c) => c.sha1_signed))];
  if (sha1.length > 0) {
    const algorithms = all.flatMap((c) =>
      c.chain.filter((e) => sha1.includes(e.subject)).map((e) => `${e.subject}: ${e.signature_algorithm}`),
    );
    out.push(finding(TLS_RULES.sha1Signature, location, [...new Set(algorithms)].join('\n')));
  }
  const shortSerial = pick((c) => c.serial_bits < 64);
  if (shortSerial.length > 0) {
    out.push(
      finding(
        TLS_RULES.shortSerial,
        location,
        shortSerial.map((c) => `${label(c)}: serial ${c.serial_number} (${c.serial_bits} bits)`).join('\n'),
      ),
    );
  }
  const noRevocation = pick((c) => c.ocsp_urls.length === 0 && c.crl_urls.length === 0);
  if (noRevocation.length > 0) {
    out.push(
      finding(
        TLS_RULES.noRevocationInfo,
        location,
        noRevocation.map((c) => `${label(c)}: no OCSP URL, no CRL`).join('\n'),
      ),
    );
  }
  const disordered = pick((c) => !c.chain_order_ok && c.chain.length > 1);
  if (disordered.length > 0) {
    out.push(
      finding(
        TLS_RULES.chainOrder,
        location,
        disordered.map((c) => `Served: ${c.chain.map((e) => e.subject).join(' | ')}`).join('\n'),
      ),
    );
  }
  if (info.ocsp.cert_status === 'revoked') {
    out.push(finding(TLS_RULES.revoked, location, `OCSP response produced ${info.ocsp.this_update ?? '?'}: revoked`));
  }
  if (info.ocsp.must_staple && !info.ocsp.stapled) {
    out.push(
      finding(
        TLS_RULES.mustStapleMissing,
        location,
        'The certificate has the TLS feature status_request; no OCSP response was stapled',
      ),
    );
  } else if (info.ocsp.stapled && info.ocsp.error) {
    out.push(finding(TLS_RULES.stapleStale, location, info.ocsp.error));
  } else if (!info.ocsp.stapled) {
    out.push(finding(TLS_RULES.noStapling, location, 'No OCSP response was stapled to the certificate'));
  }
  return out;
}

/** Every finding a TLS scan result supports, most severe first. */
export function tlsFindings(result: TlsScanResult): ScannerFinding[] {
  const location = locationOf(result.host, result.port);
  const out: ScannerFinding[] = [];
  const versions = result.tls_versions;
  if (versions) {
    if (versions.ssl_2_0)
      out.push(finding(TLS_RULES.ssl2, location, 'The server answered an SSLv2 CLIENT-HELLO with a SERVER-HELLO'));
    if (versions.ssl_3_0) out.push(finding(TLS_RULES.ssl3, location, 'The server completed an SSLv3 ServerHello'));
    if (versions.tls_1_0) out.push(finding(TLS_RULES.tls10, location, 'The server accepted a TLS 1.0 ClientHello'));
    if (versions.tls_1_1) out.push(finding(TLS_RULES.tls11, location, 'The server accepted a TLS 1.1 ClientHello'));
    const any = Object.values(versions).some(Boolean);
    if (any && !versions.tls_1_2 && !versions.tls_1_3) {
      const offered = (Object.keys(versions) as ProtocolKey[])
        .filter((k) => versions[k])
        .map((k) => PROTOCOL_LABELS[k]);
      out.push(finding(TLS_RULES.noModern, location, `Protocols accepted: ${offered.join(', ')}`));
    }
    if (any && !versions.tls_1_3) out.push(finding(TLS_RULES.noTls13, location, 'A TLS 1.3 ClientHello was refused'));
  }

  if (result.cipher_suites) {
    const weak = (w: string) => suitesWith(result, (s) => s.weaknesses.includes(w));
    const rules: [string, Rule][] = [
      ['null', TLS_RULES.nullCipher],
      ['anonymous', TLS_RULES.anonymous],
      ['export', TLS_RULES.export],
      ['des', TLS_RULES.des],
      ['rc4', TLS_RULES.rc4],
      ['64bit_block', TLS_RULES.block64],
      ['cbc_tls1_0', TLS_RULES.cbcTls10],
    ];
    for (const [weakness, rule] of rules) {
      const found = weak(weakness);
      if (found.length > 0) out.push(finding(rule, location, listSuites(found)));
    }
    const cbc = suitesWith(result, (s, version) => (version === 'tls_1_1' || version === 'tls_1_2') && isCbc(s));
    if (cbc.length > 0) out.push(finding(TLS_RULES.cbc, location, listSuites(cbc)));
    const all = suitesWith(result, () => true);
    const authenticated = all.filter((e) => !e.suite.weaknesses.includes('anonymous'));
    const withFs = authenticated.filter((e) => e.suite.forward_secrecy);
    const withoutFs = authenticated.filter((e) => !e.suite.forward_secrecy && !e.suite.weaknesses.includes('null'));
    if (authenticated.length > 0 && withFs.length === 0) {
      out.push(finding(TLS_RULES.noForwardSecrecy, location, listSuites(authenticated)));
    } else if (withoutFs.length > 0) {
      out.push(finding(TLS_RULES.staticKeyExchange, location, listSuites(withoutFs)));
    }
    const clientOrder = (
      Object.entries(result.cipher_suites) as [
        ProtocolKey,
        { server_preference: boolean | null; suites: SuiteEntry[] },
      ][]
    )
      .filter(
        ([version, entry]) =>
          version !== 'tls_1_3' &&
          entry.server_preference === false &&
          entry.suites.some((s) => s.strength !== 'strong'),
      )
      .map(([version]) => PROTOCOL_LABELS[version]);
    if (clientOrder.length > 0) {
      out.push(
        finding(TLS_RULES.noServerPreference, location, `The client's order decides for: ${clientOrder.join(', ')}`),
      );
    }
  }

  const kex = result.key_exchange;
  if (kex && kex.min_dh_bits !== null && kex.min_dh_bits < 2048) {
    const dh = suitesWith(result, (s) => s.key_exchange?.type === 'DH' && s.key_exchange.bits < 2048);
    const risk: Risk = kex.min_dh_bits < 1024 ? 'high' : 'medium';
    out.push(
      finding(TLS_RULES.weakDh, location, `Smallest DH prime: ${kex.min_dh_bits} bits\n${listSuites(dh)}`, { risk }),
    );
  }
  if (kex) {
    const weakCurves = [...kex.tls_1_2_curves, ...kex.tls_1_3_groups].filter((g) => g.bits > 0 && g.bits < 112);
    if (weakCurves.length > 0) {
      out.push(
        finding(
          TLS_RULES.weakCurve,
          location,
          `Curves accepted: ${[...new Set(weakCurves.map((g) => g.name))].join(', ')}`,
        ),
      );
    }
  }

  if (result.certificate_info) out.push(...certificateFindings(result.certificate_info, location));

  const checks = result.security_checks;
  if (checks.heartbleed === 'vulnerable') {
    out.push(
      finding(
        TLS_RULES.heartbleed,
        location,
        'The server answered a heartbeat request whose payload_length exceeded its payload',
      ),
    );
  }
  if (checks.ccs_injection === 'vulnerable') {
    out.push(finding(TLS_RULES.ccsInjection, location, 'Two early ChangeCipherSpec records drew a decryption alert'));
  }
  if (checks.compression === 'supported') {
    out.push(finding(TLS_RULES.compression, location, 'The server chose DEFLATE compression in its ServerHello'));
  }
  if (checks.secure_renegotiation === false) {
    const risk: Risk = checks.client_renegotiation === 'allowed' ? 'high' : 'medium';
    out.push(
      finding(TLS_RULES.insecureRenegotiation, location, 'No renegotiation_info extension in the ServerHello', {
        risk,
      }),
    );
  }
  if (checks.client_renegotiation === 'allowed') {
    out.push(finding(TLS_RULES.clientRenegotiation, location, 'A client-initiated renegotiation completed'));
  }
  if (checks.fallback_scsv === 'not_supported') {
    out.push(
      finding(
        TLS_RULES.fallbackScsv,
        location,
        'A ClientHello below the best version with TLS_FALLBACK_SCSV was accepted',
      ),
    );
  }
  const hsts = checks.hsts;
  if (hsts.http_compression) {
    out.push(
      finding(
        TLS_RULES.breach,
        location,
        `GET ${hsts.url ?? '/'} with Accept-Encoding: gzip → Content-Encoding: ${hsts.http_compression}`,
      ),
    );
  }
  if (hsts.status === 'missing') {
    out.push(
      finding(
        TLS_RULES.hstsMissing,
        location,
        `GET ${hsts.url ?? '/'} → ${hsts.http_status ?? '?'} without Strict-Transport-Security`,
      ),
    );
  } else if (hsts.status === 'invalid' || (hsts.status === 'present' && (hsts.max_age ?? 0) < 15_768_000)) {
    out.push(finding(TLS_RULES.hstsWeak, location, `Strict-Transport-Security: ${hsts.header ?? ''}`));
  }

  const order: Record<Risk, number> = { critical: 0, high: 1, medium: 2, low: 3, info: 4 };
  return out.sort((a, b) => order[a.risk] - order[b.risk]);
}
