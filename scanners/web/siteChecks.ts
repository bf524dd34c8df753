/**
 * The active checks that are about the site rather than one parameter: exposed files
 * (version-control metadata, .env, .htaccess, keys, dumps, status pages), backups of
 * crawled files, directory listings of crawled directories, HTTP methods (403 bypass
 * with an unknown method, TRACE, methods listed by OPTIONS), anti-CSRF tokens that are
 * not checked, and the stored-XSS sweep. GET/OPTIONS/TRACE and the arbitrary method only,
 * except the CSRF check (which submits a form twice, as the active checks do).
 *
 * A file counts as found only with a 200 and content that matches what the file holds
 * (a signature), or — for backups — content that differs from the site's "not found"
 * page (servers that answer 200 to everything are recognized).
 */
import { HttpRequestError, type HttpClient, type HttpResponse } from '../shared/httpClient.js';
import type { RaiseAlert } from './alerts.js';
import type { CookieJar } from './cookieJar.js';
import { describeResponse, pathOf, sendWith, type Endpoint, type InsertionPoint } from './endpoints.js';
import { extractPage, tokenizeHtml } from './htmlParser.js';
import { findDirectoryListing, isAntiCsrfName, isHtml } from './passiveRules.js';
import { baselineOf, sameAsBaseline, sameResponses, type PageBaseline } from './responseDiff.js';
import { directoryOf, type CrawledPage, type DiscoveredForm } from './spider.js';
import { executableProof } from './xssContext.js';

export interface SiteContext {
  readonly client: HttpClient;
  readonly jar: CookieJar;
  readonly raise: RaiseAlert;
  readonly random: (length?: number) => string;
}

interface FileSignature {
  readonly path: string;
  readonly alertRef: string;
  /** What the file is, for the alert's other info. */
  readonly what: string;
  /** The evidence when the response is that file, or null. */
  readonly match: (response: HttpResponse) => string | null;
}

const notHtml = (r: HttpResponse) => !isHtml({ headers: r.headers, body: r.text });
const textMatch =
  (pattern: RegExp, { html = false, maxBytes = 512 * 1024 } = {}) =>
  (r: HttpResponse) => {
    if ((!html && !notHtml(r)) || r.body.length > maxBytes) return null;
    const m = pattern.exec(r.text);
    return m ? m[0].slice(0, 200) : null;
  };
const startsWith = (magic: Buffer, label: string) => (r: HttpResponse) =>
  r.body.subarray(0, magic.length).equals(magic) ? label : null;

const ENV = textMatch(/^\s*(?:export\s+)?[A-Z][A-Z0-9_]*\s*=.*$/m, { maxBytes: 64 * 1024 });
const PRIVATE_KEY = textMatch(/-----BEGIN (?:RSA |EC |DSA |OPENSSH |ENCRYPTED )?PRIVATE KEY-----/);
const SQL_DUMP = textMatch(/(?:^-- MySQL dump|^-- PostgreSQL database dump|CREATE TABLE [`"\w]|INSERT INTO [`"\w])/m, {
  maxBytes: Number.MAX_SAFE_INTEGER,
});
const ZIP = startsWith(Buffer.from([0x50, 0x4b, 0x03, 0x04]), 'ZIP archive (PK\\x03\\x04)');
const GZIP = startsWith(Buffer.from([0x1f, 0x8b]), 'gzip archive (\\x1f\\x8b)');

/** Well-known files that should never be served (paths relative to a probed directory). */
export const FILE_SIGNATURES: readonly FileSignature[] = [
  {
    path: '.git/config',
    alertRef: '40035',
    what: 'Git repository metadata (.git/): the whole source history can be downloaded',
    match: textMatch(/\[core\][\s\S]{0,400}?(?:repositoryformatversion|filemode|bare\s*=)/),
  },
  {
    path: '.git/HEAD',
    alertRef: '40035',
    what: 'Git repository metadata (.git/HEAD)',
    match: textMatch(/^(?:ref: refs\/[\w./-]+|[0-9a-f]{40})\s*$/),
  },
  {
    path: '.svn/entries',
    alertRef: '40035',
    what: 'Subversion metadata (.svn/)',
    match: textMatch(/^(?:8|9|10|11|12)\s*\n\s*\n?(?:dir|file)?/),
  },
  {
    path: '.svn/wc.db',
    alertRef: '40035',
    what: 'Subversion working copy database (.svn/wc.db)',
    match: startsWith(Buffer.from('SQLite format 3'), 'SQLite format 3'),
  },
  {
    path: '.hg/hgrc',
    alertRef: '40035',
    what: 'Mercurial metadata (.hg/)',
    match: textMatch(/^\[(?:paths|ui|extensions)\]/m),
  },
  {
    path: '.bzr/README',
    alertRef: '40035',
    what: 'Bazaar metadata (.bzr/)',
    match: textMatch(/This is a Bazaar control directory/),
  },
  {
    path: 'CVS/Root',
    alertRef: '40035',
    what: 'CVS metadata (CVS/)',
    match: textMatch(/^:(?:pserver|ext|local|gserver|fork):/m),
  },
  {
    path: '.DS_Store',
    alertRef: '40035',
    what: 'a macOS folder index (.DS_Store) listing the directory’s files',
    match: startsWith(Buffer.from([0, 0, 0, 1, 0x42, 0x75, 0x64, 0x31]), '\\x00\\x00\\x00\\x01Bud1'),
  },
  { path: '.env', alertRef: '40034', what: 'an environment file (.env)', match: ENV },
  { path: '.env.local', alertRef: '40034', what: 'an environment file (.env.local)', match: ENV },
  { path: '.env.production', alertRef: '40034', what: 'an environment file (.env.production)', match: ENV },
  {
    path: '.htaccess',
    alertRef: '40032',
    what: 'the Apache .htaccess file',
    match: textMatch(
      /^\s*(?:RewriteEngine|RewriteRule|RewriteCond|Deny from|Allow from|Require (?:all|valid-user|ip)|AuthType|AuthUserFile|<IfModule|<Files|Options [+-]|ErrorDocument|php_(?:value|flag)|Header (?:set|always))/m,
    ),
  },
  {
    path: '.htpasswd',
    alertRef: '40035',
    what: 'an Apache password file (.htpasswd)',
    match: textMatch(/^[\w.@-]+:(?:\$apr1\$|\$2[abxy]\$|\{SHA\}|\$[156]\$)/m),
  },
  {
    path: 'server-status',
    alertRef: '40035',
    what: 'the Apache server-status page',
    match: textMatch(/Apache Status/, { html: true }),
  },
  {
    path: 'server-info',
    alertRef: '40035',
    what: 'the Apache server-info page',
    match: textMatch(/Apache Server Information/, { html: true }),
  },
  {
    path: 'phpinfo.php',
    alertRef: '40035',
    what: 'a phpinfo() page',
    match: textMatch(/<title>phpinfo\(\)<\/title>|PHP Version \d+\.\d+/, { html: true }),
  },
  {
    path: 'info.php',
    alertRef: '40035',
    what: 'a phpinfo() page',
    match: textMatch(/<title>phpinfo\(\)<\/title>|PHP Version \d+\.\d+/, { html: true }),
  },
  {
    path: 'WEB-INF/web.xml',
    alertRef: '10045',
    what: 'the Java web application descriptor',
    match: textMatch(/<web-app[\s>]/),
  },
  {
    path: 'config/database.yml',
    alertRef: '40035',
    what: 'Rails database configuration',
    match: textMatch(/^\s*adapter:\s*\S+[\s\S]{0,500}database:/m),
  },
  { path: 'id_rsa', alertRef: '40035', what: 'a private key', match: PRIVATE_KEY },
  { path: '.ssh/id_rsa', alertRef: '40035', what: 'a private key', match: PRIVATE_KEY },
  { path: 'server.key', alertRef: '40035', what: 'a private key', match: PRIVATE_KEY },
  {
    path: '.npmrc',
    alertRef: '40035',
    what: 'an npm configuration with registry credentials',
    match: textMatch(/_auth(?:Token)?\s*=/),
  },
  { path: '.aws/credentials', alertRef: '40035', what: 'AWS credentials', match: textMatch(/aws_access_key_id\s*=/) },
  {
    path: 'sftp-config.json',
    alertRef: '40035',
    what: 'an editor SFTP configuration with credentials',
    match: textMatch(/"(?:password|host)"\s*:/),
  },
  {
    path: '.vscode/sftp.json',
    alertRef: '40035',
    what: 'an editor SFTP configuration with credentials',
    match: textMatch(/"(?:password|host)"\s*:/),
  },
  {
    path: '.idea/workspace.xml',
    alertRef: '40035',
    what: 'JetBrains IDE project files (.idea/)',
    match: textMatch(/<project version=/),
  },
  {
    path: 'wp-config.php.bak',
    alertRef: '10095',
    what: 'a backup of the WordPress configuration',
    match: textMatch(/DB_PASSWORD|<\?php/),
  },
  {
    path: 'config.php.bak',
    alertRef: '10095',
    what: 'a backup of a PHP configuration file',
    match: textMatch(/<\?php/),
  },
  { path: 'dump.sql', alertRef: '10095', what: 'a database dump', match: SQL_DUMP },
  { path: 'database.sql', alertRef: '10095', what: 'a database dump', match: SQL_DUMP },
  { path: 'db.sql', alertRef: '10095', what: 'a database dump', match: SQL_DUMP },
  { path: 'site.zip', alertRef: '10095', what: 'a site backup archive', match: ZIP },
  { path: 'www.zip', alertRef: '10095', what: 'a site backup archive', match: ZIP },
];

async function get(context: SiteContext, path: string, method = 'GET', headers: Record<string, string> = {}) {
  const response = await context.client.request({ method, url: path, headers: context.jar.headers(headers) });
  return response;
}

function describeRequest(context: SiteContext, method: string, path: string, extra = ''): string {
  return `${method} ${path} HTTP/1.1\nHost: ${context.client.originUrl.replace(/^https?:\/\//, '')}${extra}`;
}

async function tolerant<T>(work: () => Promise<T>): Promise<T | undefined> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof HttpRequestError) return undefined;
    throw error;
  }
}

/** The site's "not found" answer for a directory (two random names), to recognize soft 404s. */
async function notFoundBaseline(
  context: SiteContext,
  directory: string,
  extension: string,
): Promise<PageBaseline | null> {
  const a = await tolerant(() => get(context, `${directory}${context.random(12)}${extension}`));
  if (!a || a.status !== 200) return null;
  const b = await tolerant(() => get(context, `${directory}${context.random(12)}${extension}`));
  if (!b) return null;
  return baselineOf({ status: a.status, body: a.text }, { status: b.status, body: b.text });
}

/** Probes the well-known files in the root and in the start directory. */
export async function exposedFiles(context: SiteContext, directories: readonly string[]): Promise<void> {
  for (const directory of directories) {
    let gitFound = false;
    for (const signature of FILE_SIGNATURES) {
      if (signature.path === '.git/HEAD' && gitFound) continue;
      const path = `${directory}${signature.path}`;
      const response = await tolerant(() => get(context, path));
      if (!response || response.status !== 200 || response.body.length === 0) continue;
      const evidence = signature.match(response);
      if (!evidence) continue;
      if (signature.path.startsWith('.git/')) gitFound = true;
      context.raise({
        alertRef: signature.alertRef,
        uri: `${context.client.originUrl}${path}`,
        method: 'GET',
        evidence,
        otherinfo: `${context.client.originUrl}${path} serves ${signature.what}.`,
        proof: { request: describeRequest(context, 'GET', path), response: describeResponse(response) },
      });
    }
  }
}

const BACKUP_SUFFIXES = ['.bak', '~', '.old', '.orig', '.save', '.backup', '.bck', '.tmp', '.copy', '.zip', '.tar.gz'];
const STEM_SUFFIXES = ['.bak', '.old', '.backup', '.zip'];
const RAR = startsWith(Buffer.from('Rar!'), 'RAR archive (Rar!)');
const SEVEN_ZIP = startsWith(Buffer.from([0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c]), '7-Zip archive');
/** Archives and dumps of a whole directory, recognized by their content. */
const DIRECTORY_BACKUPS: readonly [string, (r: HttpResponse) => string | null][] = [
  ['backup.zip', ZIP],
  ['backup.tar.gz', GZIP],
  ['backup.tgz', GZIP],
  ['backup.rar', RAR],
  ['backup.7z', SEVEN_ZIP],
  ['backup.sql', SQL_DUMP],
];

/** What a backup named like this must start with, when its extension says (archives). */
function archiveSignature(path: string): ((r: HttpResponse) => string | null) | null {
  if (/\.zip$/i.test(path)) return ZIP;
  if (/\.(?:tar\.gz|tgz|gz)$/i.test(path)) return GZIP;
  return null;
}

/**
 * Backups and copies of crawled files (index.php → index.php.bak, index.php~,
 * .index.php.swp, index.bak, index.php.zip …) and archives of their directories
 * (backup.zip, backup.tar.gz, backup.sql …).
 */
export async function backupFiles(
  context: SiteContext,
  pages: readonly CrawledPage[],
  options: { maxFiles?: number; maxDirectories?: number; skipDirectories?: readonly string[] } = {},
): Promise<void> {
  const files = new Map<string, CrawledPage>();
  const directories = new Set<string>();
  for (const page of pages) {
    if (page.status !== 200) continue;
    const path = new URL(page.url).pathname;
    const directory = directoryOf(path);
    if (directories.size < (options.maxDirectories ?? 15) && !options.skipDirectories?.includes(directory)) {
      directories.add(directory);
    }
    const name = path.slice(path.lastIndexOf('/') + 1);
    if (!name || !/^[\w.-]+$/.test(name) || /\.(?:bak|old|orig|save|swp|tmp|zip|gz|tgz)$/i.test(name)) continue;
    if (!files.has(path) && files.size < (options.maxFiles ?? 50)) files.set(path, page);
  }
  const baselines = new Map<string, PageBaseline | null>();
  const report = (candidate: string, response: HttpResponse, what: string) =>
    context.raise({
      alertRef: '10095',
      uri: `${context.client.originUrl}${candidate}`,
      method: 'GET',
      evidence: response.text.slice(0, 120),
      otherinfo: what,
      proof: { request: describeRequest(context, 'GET', candidate), response: describeResponse(response) },
    });
  for (const [path, page] of files) {
    const directory = directoryOf(path);
    const name = path.slice(directory.length);
    const stem = name.includes('.') ? name.slice(0, name.lastIndexOf('.')) : name;
    const candidates = [
      ...BACKUP_SUFFIXES.map((suffix) => `${directory}${name}${suffix}`),
      `${directory}.${name}.swp`,
      ...(stem !== name ? STEM_SUFFIXES.map((suffix) => `${directory}${stem}${suffix}`) : []),
    ];
    let original: HttpResponse | undefined;
    for (const candidate of candidates) {
      const response = await tolerant(() => get(context, candidate));
      if (!response || response.status !== 200 || response.body.length === 0) continue;
      const signature = archiveSignature(candidate);
      if (signature) {
        if (signature(response))
          report(
            candidate,
            response,
            `A backup of ${page.url} is available at ${context.client.originUrl}${candidate}.`,
          );
        continue;
      }
      const extension = candidate.slice(candidate.lastIndexOf('.'));
      const key = `${directory}|${extension}`;
      if (!baselines.has(key)) baselines.set(key, await notFoundBaseline(context, directory, extension));
      const notFound = baselines.get(key);
      if (notFound && sameAsBaseline({ status: response.status, body: response.text }, notFound)) continue;
      original ??= await tolerant(() => get(context, path));
      if (
        original &&
        isHtml({ headers: response.headers, body: response.text }) &&
        sameResponses(
          { status: response.status, body: response.text },
          { status: original.status, body: original.text },
          { dynamic: new Set() },
        )
      ) {
        continue; // the server answers the original page for any suffix
      }
      report(candidate, response, `A backup of ${page.url} is available at ${context.client.originUrl}${candidate}.`);
    }
  }
  for (const directory of directories) {
    for (const [name, signature] of DIRECTORY_BACKUPS) {
      const candidate = `${directory}${name}`;
      const response = await tolerant(() => get(context, candidate));
      if (!response || response.status !== 200) continue;
      const evidence = signature(response);
      if (evidence)
        report(
          candidate,
          response,
          `${context.client.originUrl}${candidate} is an archive or dump of the site (${evidence}).`,
        );
    }
  }
}

/** Directories of crawled URLs that answer with a file listing (the spider's own listings excluded). */
export async function directoryListings(
  context: SiteContext,
  pages: readonly CrawledPage[],
  alreadyListed: ReadonlySet<string>,
  maxDirectories = 30,
): Promise<void> {
  const directories = new Set<string>();
  const crawled = new Set(pages.map((p) => new URL(p.url).pathname));
  for (const page of pages) {
    let path = directoryOf(new URL(page.url).pathname);
    while (path.length > 1 && directories.size < maxDirectories) {
      if (!crawled.has(path) && !alreadyListed.has(path)) directories.add(path);
      path = directoryOf(path.slice(0, -1));
    }
  }
  for (const directory of directories) {
    const response = await tolerant(() => get(context, directory));
    if (!response || response.status !== 200) continue;
    const listing = findDirectoryListing(response.text);
    if (!listing) continue;
    context.raise({
      alertRef: '0',
      uri: `${context.client.originUrl}${directory}`,
      method: 'GET',
      evidence: listing.evidence,
      otherinfo: `The listing looks like one made by ${listing.server}.`,
      proof: { request: describeRequest(context, 'GET', directory), response: describeResponse(response) },
    });
  }
}

const UNUSUAL_METHODS = [
  'PUT',
  'DELETE',
  'TRACE',
  'TRACK',
  'CONNECT',
  'PROPFIND',
  'PROPPATCH',
  'MKCOL',
  'COPY',
  'MOVE',
  'LOCK',
  'UNLOCK',
  'PATCH',
];

/** Pages that refuse GET (401/403) but answer another method; TRACE; methods OPTIONS lists. */
export async function httpMethods(
  context: SiteContext,
  startPath: string,
  refused: readonly CrawledPage[],
): Promise<void> {
  for (const page of refused.slice(0, 20)) {
    const path = pathOf(page.url);
    // A made-up method first (servers that hand unknown methods to the application), then
    // an empty POST (access rules written for GET only).
    for (const method of ['SECABLY', 'POST']) {
      const response = await tolerant(() =>
        get(context, path, method, method === 'POST' ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
      );
      if (!response || response.status < 200 || response.status >= 300 || response.body.length === 0) continue;
      context.raise({
        alertRef: '40038',
        uri: page.url,
        method,
        attack: `${method} ${path}`,
        evidence: `GET answered ${page.status}; ${method} answered ${response.status} with ${response.body.length} bytes`,
        otherinfo: `The page refuses GET (${page.status}) but serves content to ${method}: the access rule covers only some methods.`,
        proof: { request: describeRequest(context, method, path), response: describeResponse(response) },
      });
      break;
    }
  }
  const marker = context.random(12);
  const trace = await tolerant(() => get(context, startPath, 'TRACE', { 'x-secably-trace': marker }));
  if (trace && trace.status === 200 && trace.text.includes(marker)) {
    context.raise({
      alertRef: '90028',
      uri: `${context.client.originUrl}${startPath}`,
      method: 'TRACE',
      param: 'TRACE',
      attack: 'TRACE',
      evidence: trace.text.slice(
        Math.max(0, trace.text.indexOf(marker) - 40),
        trace.text.indexOf(marker) + marker.length,
      ),
      otherinfo: 'TRACE is enabled: the server echoes the request, headers included (cross-site tracing).',
      proof: {
        request: describeRequest(context, 'TRACE', startPath, `\nX-Secably-Trace: ${marker}`),
        response: describeResponse(trace, marker),
      },
    });
  }
  const options = await tolerant(() => get(context, startPath, 'OPTIONS'));
  if (options && options.status >= 200 && options.status < 400) {
    const allowed = `${options.headers.allow ?? ''},${options.headers.public ?? ''}`
      .split(',')
      .map((m) => m.trim().toUpperCase())
      .filter(Boolean);
    const unusual = UNUSUAL_METHODS.filter((m) => allowed.includes(m) && !(m === 'TRACE' && trace?.status === 200));
    if (unusual.length > 0) {
      context.raise({
        alertRef: '90028',
        uri: `${context.client.originUrl}${startPath}`,
        method: 'OPTIONS',
        param: unusual.join(', '),
        evidence: `Allow: ${options.headers.allow ?? options.headers.public ?? ''}`.slice(0, 200),
        otherinfo: `OPTIONS lists ${unusual.join(', ')} as allowed (listed, not tried).`,
        risk: 0,
        confidence: 1,
        proof: { request: describeRequest(context, 'OPTIONS', startPath), response: describeResponse(options) },
      });
    }
  }
}

/** POST forms with a token: does the server accept the form with a wrong token? (20012) */
export async function csrfTokenChecks(
  context: SiteContext,
  forms: readonly DiscoveredForm[],
  endpoints: readonly Endpoint[],
): Promise<void> {
  let checked = 0;
  for (const form of forms) {
    if (form.method !== 'POST' || checked >= 10) continue;
    const token = form.fields.find((f) => f.type === 'hidden' && isAntiCsrfName(f.name) && f.value.length >= 8);
    if (!token) continue;
    const endpoint = endpoints.find(
      (e) => e.method === 'POST' && e.pageUrl === form.pageUrl && e.baseUrl === form.action,
    );
    if (!endpoint) continue;
    checked++;
    await tolerant(async () => {
      // A fresh token from the page, then the form with it and with a wrong one.
      const page = await get(context, pathOf(form.pageUrl));
      context.jar.store(page.setCookies);
      const fresh = extractPage(page.text, tokenizeHtml(page.text))
        .forms.flatMap((f) => f.fields)
        .find((f) => f.name === token.name)?.value;
      const value = fresh ?? token.value;
      const good = await sendWith(context.client, context.jar, endpoint, { [token.name]: value });
      if (good.response.status >= 400) return;
      const again = await sendWith(context.client, context.jar, endpoint, { [token.name]: value });
      const wrongValue = [...value].reverse().join('').replace(/./, 'z');
      const wrong = await sendWith(context.client, context.jar, endpoint, { [token.name]: wrongValue });
      // What changes between two accepted submissions (new tokens, times) is not a difference.
      const accepted = baselineOf(
        { status: good.response.status, body: good.response.text },
        { status: again.response.status, body: again.response.text },
      );
      const same = sameResponses(
        { status: good.response.status, body: good.response.text },
        { status: wrong.response.status, body: wrong.response.text },
        accepted,
        [value, wrongValue],
        [value, wrongValue],
      );
      if (!same) return;
      context.raise({
        alertRef: '20012',
        uri: wrong.uri,
        method: 'POST',
        param: token.name,
        attack: wrongValue,
        evidence: `the form was answered the same (HTTP ${wrong.response.status}) with a wrong "${token.name}"`,
        otherinfo: `The token "${token.name}" is not checked: the form is accepted with any value.`,
        confidence: 1,
        proof: { request: wrong.described, response: describeResponse(wrong.response) },
      });
    });
  }
}

/** Looks for the stored-XSS payloads on the crawled pages (once every form was submitted). */
export async function storedXssSweep(
  context: SiteContext,
  pages: readonly CrawledPage[],
  probes: ReadonlyMap<string, InsertionPoint>,
  maxPages = 50,
): Promise<void> {
  if (probes.size === 0) return;
  const found = new Set<string>();
  const urls = [...new Set(pages.filter((p) => p.status === 200 && p.contentType.includes('html')).map((p) => p.url))];
  for (const url of urls.slice(0, maxPages)) {
    const response = await tolerant(() => get(context, pathOf(url)));
    if (!response || !/alert\(\d+\)/.test(response.text)) continue;
    for (const [proof, point] of probes) {
      if (found.has(proof)) continue;
      const shown = executableProof(response.text, proof);
      if (!shown) continue;
      found.add(proof);
      context.raise({
        alertRef: '40014',
        uri: point.endpoint.baseUrl,
        method: point.endpoint.method,
        param: point.param,
        attack: `<scrIpt>alert(${proof})</scrIpt>`,
        evidence: shown.slice(0, 300),
        otherinfo: `The value sent in "${point.param}" to ${point.endpoint.baseUrl} is shown unescaped on ${url}.`,
        proof: {
          request: `${point.endpoint.method} ${pathOf(point.endpoint.baseUrl)} (${point.param}=…<scrIpt>alert(${proof})</scrIpt>), then GET ${pathOf(url)}`,
          response: describeResponse(response, `alert(${proof})`),
        },
      });
    }
  }
}
