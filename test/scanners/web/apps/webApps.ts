/**
 * Loopback web applications for the web scanner's tests and benchmark (test support,
 * never deployed): an insecure app with the weaknesses the scanner looks for, its
 * hardened twin (the same pages with every defence in place), an app with endless
 * links, and a plain counting listener that stands for "another host".
 *
 * The insecure app emulates a PHP site: toy SQL (toySql.ts) behind `products.php`
 * (errors shown) and `catalog.php` (errors hidden: boolean only), a toy shell behind
 * `ping.php`, a virtual file system behind `download.php`, a guestbook that stores
 * comments, exposed `.git/`, `.env`, `.htaccess`, `WEB-INF/` and a `.bak`, a directory
 * listing, an open redirect, header injection, a 403 bypassable with another method,
 * TRACE. Every file it "reads" is fake: nothing on this machine is served.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { posix } from 'node:path';
import { ToySqlError, toyWhere } from './toySql.js';

export interface LoggedRequest {
  readonly method: string;
  readonly url: string;
  readonly userAgent: string;
  readonly host: string;
}

export interface TestWebApp {
  readonly port: number;
  /** `http(s)://127.0.0.1:<port>` */
  readonly url: string;
  readonly requests: LoggedRequest[];
  close(): Promise<void>;
}

export interface AppOptions {
  /** Every defence in place (the hardened twin). */
  readonly hardened?: boolean;
  /** Serve HTTPS with this certificate. */
  readonly tls?: { readonly key: string; readonly cert: string };
  /** Where the off-site link, redirect and form point (another listener). */
  readonly otherOrigin?: string;
}

type Handler = (req: IncomingMessage, res: ServerResponse, url: URL, body: string) => void;

async function listen(server: Server, handler: Handler, log: LoggedRequest[]): Promise<number> {
  const sockets = new Set<Socket>();
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('request', (req, res) => {
    log.push({
      method: req.method ?? '',
      url: req.url ?? '',
      userAgent: String(req.headers['user-agent'] ?? ''),
      host: String(req.headers.host ?? ''),
    });
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= 64 * 1024) chunks.push(chunk);
    });
    req.on('end', () => {
      let url: URL;
      try {
        url = new URL(req.url ?? '/', 'http://app.invalid');
      } catch {
        res.writeHead(400).end();
        return;
      }
      try {
        handler(req, res, url, Buffer.concat(chunks).toString('utf8'));
      } catch (error) {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(String(error));
      }
    });
  });
  (server as Server & { destroyAll?: () => void }).destroyAll = () => {
    for (const socket of sockets) socket.destroy();
  };
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

async function start(handler: Handler, tls?: AppOptions['tls']): Promise<TestWebApp> {
  const requests: LoggedRequest[] = [];
  const server: Server = tls ? createHttpsServer({ key: tls.key, cert: tls.cert }) : createServer();
  server.keepAliveTimeout = 2_000;
  const port = await listen(server, handler, requests);
  return {
    port,
    url: `${tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        (server as Server & { destroyAll?: () => void }).destroyAll?.();
        server.close(() => resolve());
      }),
  };
}

/** Another host: answers everything with 200 and counts (nothing should ever reach it). */
export function startCountingListener(): Promise<TestWebApp> {
  return start((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<p>other host</p>'));
}

/** A header value as a real server sends it: the UTF-8 bytes of the text (Node writes header strings as latin1). */
const headerBytes = (text: string) => Buffer.from(text, 'utf8').toString('latin1');

const escapeHtml = (text: string) =>
  text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');

const FAKE_PASSWD =
  'root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\nwww-data:x:33:33:www-data:/var/www:/usr/sbin/nologin\n';
const PRODUCTS = [
  { id: 1, name: 'Red shoes', cat: '2' },
  { id: 2, name: 'Blue hat', cat: '2' },
  { id: 3, name: 'Green scarf', cat: '3' },
];

/** A toy shell: `;`, `|`, `&`, new lines, `$(…)` and backticks separate commands. */
function toyShell(line: string): string {
  const inner: string[] = [];
  const outer = line.replace(/\$\(([^)]*)\)|`([^`]*)`/g, (_m, a: string | undefined, b: string | undefined) => {
    inner.push(a ?? b ?? '');
    return '';
  });
  const commands = [...outer.split(/[;|&\n]+/), ...inner].map((c) => c.trim()).filter(Boolean);
  const out: string[] = [];
  for (const command of commands.slice(0, 10)) {
    const [name, ...args] = command.split(/\s+/);
    if (name === 'ping')
      out.push(`PING ${args.at(-1) ?? ''} (127.0.0.1): 56 data bytes\n1 packets transmitted, 1 received`);
    else if (name === 'echo')
      out.push(
        args.join(' ').replace(/\$\(\((\d+)\+(\d+)\)\)/g, (_m, a: string, b: string) => String(Number(a) + Number(b))),
      );
    else if (name === 'cat' && args[0] === '/etc/passwd') out.push(FAKE_PASSWD);
    else if (name === 'env' || name === 'set')
      out.push('PATH=/usr/local/bin:/usr/bin:/bin\nPWD=/var/www/html\nSHELL=/bin/sh');
    else if (name === 'id') out.push('uid=33(www-data) gid=33(www-data) groups=33(www-data)');
    else out.push(`sh: 1: ${name}: not found`);
  }
  return out.join('\n');
}

/** The insecure app, or its hardened twin. */
export function startInsecureApp(options: AppOptions = {}): Promise<TestWebApp> {
  const hardened = options.hardened ?? false;
  const https = Boolean(options.tls);
  const other = options.otherOrigin ?? 'http://other.invalid';
  const secret = randomBytes(16).toString('hex');
  const comments: string[] = [];
  const buildTime = Math.floor(Date.now() / 1000) - 86_400;

  const csrfFor = (session: string) => createHash('sha256').update(`${secret}:${session}`).digest('hex').slice(0, 32);
  const sessionOf = (req: IncomingMessage) => /(?:^|;\s*)PHPSESSID=([a-f0-9]+)/.exec(req.headers.cookie ?? '')?.[1];

  function headers(res: ServerResponse, extra: Record<string, string | string[]> = {}): void {
    if (hardened) {
      res.setHeader(
        'content-security-policy',
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'",
      );
      res.setHeader('x-frame-options', 'DENY');
      res.setHeader('x-content-type-options', 'nosniff');
      res.setHeader('x-xss-protection', '1; mode=block');
      res.setHeader('referrer-policy', 'no-referrer');
      res.setHeader('cross-origin-opener-policy', 'same-origin');
      res.setHeader('cross-origin-embedder-policy', 'require-corp');
      res.setHeader('cross-origin-resource-policy', 'same-origin');
      res.setHeader('cache-control', 'no-store');
      if (https) res.setHeader('strict-transport-security', 'max-age=31536000; includeSubDomains');
    } else {
      res.setHeader('server', 'Apache/2.4.49 (Unix)');
      res.setHeader('x-powered-by', 'PHP/7.2.1');
    }
    for (const [name, value] of Object.entries(extra)) res.setHeader(name, value);
  }

  /** A session cookie for a visitor without one. */
  function session(req: IncomingMessage, res: ServerResponse): string {
    const existing = sessionOf(req);
    if (existing) return existing;
    const id = randomBytes(16).toString('hex');
    res.appendHeader(
      'set-cookie',
      hardened
        ? `PHPSESSID=${id}; Path=/; HttpOnly; SameSite=Lax${https ? '; Secure' : ''}`
        : `PHPSESSID=${id}; path=/`,
    );
    return id;
  }

  function page(
    res: ServerResponse,
    title: string,
    body: string,
    status = 200,
    extra: Record<string, string> = {},
  ): void {
    headers(res, { 'content-type': 'text/html; charset=utf-8', ...extra });
    res.writeHead(status);
    res.end(
      `<!DOCTYPE html>\n<html>\n<head>\n<title>${title}</title>\n</head>\n<body>\n<h1>${title}</h1>\n${body}\n</body>\n</html>\n`,
    );
  }

  function text(res: ServerResponse, body: string, type = 'text/plain', status = 200): void {
    headers(res, { 'content-type': type });
    res.writeHead(status).end(body);
  }

  const notFound = (res: ServerResponse) =>
    page(res, '404 Not Found', '<p>The requested URL was not found on this server.</p>', 404);

  const listing = (path: string, files: string[]) =>
    `<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 3.2 Final//EN">\n<html>\n <head>\n  <title>Index of ${path}</title>\n </head>\n <body>\n<h1>Index of ${path}</h1>\n<ul><li><a href="../"> Parent Directory</a></li>\n${files.map((f) => `<li><a href="${f}"> ${f}</a></li>`).join('\n')}\n</ul>\n</body></html>\n`;

  const routes: Record<string, Handler> = {
    '/': (req, res) => {
      session(req, res);
      page(
        res,
        'Shop',
        [
          '<ul>',
          '<li><a href="/about.html">About</a></li>',
          '<li><a href="/products.php?id=1">Red shoes</a></li>',
          '<li><a href="/catalog.php?cat=2">Hats and shoes</a></li>',
          '<li><a href="/search.php?q=shoes">Search shoes</a></li>',
          '<li><a href="/go.php?url=/about.html">About (via redirect)</a></li>',
          '<li><a href="/download.php?file=report.txt">Report</a></li>',
          '<li><a href="/lang.php?l=en">English</a></li>',
          '<li><a href="/ping.php?host=example">Status</a></li>',
          '<li><a href="/directory.php?user=alice">Staff</a></li>',
          '<li><a href="/lookup.php?key=price">Prices</a></li>',
          '<li><a href="/calc.php?expr=6*7">Calculator</a></li>',
          '<li><a href="/track.php?ref=home">Tracked link</a></li>',
          '<li><a href="/comments.php">Guestbook</a></li>',
          '<li><a href="/login.php">Log in</a></li>',
          '<li><a href="/profile.php">Profile</a></li>',
          '<li><a href="/upload.php">Upload</a></li>',
          '<li><a href="/report.php">Sales report</a></li>',
          '<li><a href="/files/">Files</a></li>',
          '<li><a href="/admin/">Admin</a></li>',
          '<li><a href="/api/data.json">API</a></li>',
          `<li><a href="${other}/stolen">Partner site</a></li>`,
          '<li><a href="/leave">Leave</a></li>',
          '</ul>',
          // (The hardened twin never posts over plain HTTP from an HTTPS page.)
          `<form action="${hardened && https ? other.replace(/^http:/, 'https:') : other}/subscribe" method="post"><input name="email"><input type="submit" value="Subscribe"></form>`,
          hardened
            ? '<script src="https://cdn.other.invalid/lib.js" integrity="sha384-oqVuAfXRKap7fdgcCY5uykM6+R9GqQ8K/uxy9rx7HNQlGYl1kPzQho1wx4JwY8wC" crossorigin="anonymous"></script>'
            : '<script src="https://cdn.other.invalid/lib.js"></script>',
          '<script src="/static/app.js"></script>',
          hardened
            ? '<img src="/logo.png" alt="logo">'
            : `<img src="${https ? 'http' : 'https'}://cdn.other.invalid/logo.png" alt="logo">`,
          hardened
            ? ''
            : `<!-- TODO: remove the debug user admin/admin before go-live -->\n<div data-build="${buildTime}"></div>`,
        ].join('\n'),
      );
    },
    '/about.html': (_req, res) => {
      // The insecure app has a policy here, a weak one.
      page(
        res,
        'About',
        '<p>We sell things.</p>',
        200,
        hardened ? {} : { 'content-security-policy': "default-src * 'unsafe-inline' 'unsafe-eval'" },
      );
    },
    '/hidden-page.html': (_req, res) => page(res, 'Only in the sitemap', '<p>Hello.</p>'),
    '/products.php': (_req, res, url) => {
      const id = url.searchParams.get('id') ?? '1';
      if (hardened && !/^\d+$/.test(id)) return page(res, 'Products', '<p>Invalid product id.</p>', 400);
      try {
        const rows = PRODUCTS.filter((row) => toyWhere(`id = ${id}`, row));
        page(
          res,
          'Products',
          `<ul>\n${rows.map((r) => `<li>${r.name}</li>`).join('\n')}\n</ul>\n<p>${rows.length} product(s)</p>`,
        );
      } catch (error) {
        if (!(error instanceof ToySqlError)) throw error;
        page(res, 'Database error', `<p><b>Fatal error</b>: ${error.message}</p>`, 500);
      }
    },
    '/catalog.php': (_req, res, url) => {
      const cat = url.searchParams.get('cat') ?? '2';
      let rows: typeof PRODUCTS;
      if (hardened) rows = PRODUCTS.filter((r) => r.cat === cat);
      else {
        try {
          rows = PRODUCTS.filter((row) => toyWhere(`cat = '${cat}'`, row));
        } catch {
          rows = []; // errors are hidden: only the results tell
        }
      }
      page(
        res,
        'Catalog',
        rows.length ? `<ul>\n${rows.map((r) => `<li>${r.name}</li>`).join('\n')}\n</ul>` : '<p>No products.</p>',
      );
    },
    '/search.php': (_req, res, url) => {
      const q = url.searchParams.get('q') ?? '';
      const shown = hardened ? escapeHtml(q) : q;
      page(
        res,
        'Search',
        `<form action="/search.php"><input name="q" value="${shown}"><input type="submit" value="Go"></form>\n<p>Results for ${shown}</p>`,
      );
    },
    '/go.php': (_req, res, url) => {
      const target = url.searchParams.get('url') ?? '/';
      const safe = /^\/(?![/\\])[^\u0000-\u001f]*$/.test(target) ? target : '/';
      headers(res, { location: headerBytes(hardened ? safe : target) });
      res.writeHead(302).end();
    },
    '/leave': (_req, res) => {
      headers(res, { location: `${other}/landing` });
      res.writeHead(302).end();
    },
    '/download.php': (_req, res, url) => {
      const file = url.searchParams.get('file') ?? '';
      if (hardened) {
        return file === 'report.txt' ? text(res, 'Quarterly report: all good.\n') : notFound(res);
      }
      const path = posix.normalize(`/var/www/files/${file.split('\u0000')[0]}`);
      if (path === '/etc/passwd') return text(res, FAKE_PASSWD);
      if (path === '/var/www/files/report.txt') return text(res, 'Quarterly report: all good.\n');
      page(
        res,
        'Download',
        `<b>Warning</b>: readfile(/var/www/files/${file}): failed to open stream: No such file or directory in <b>/var/www/html/download.php</b> on line <b>4</b>`,
      );
    },
    '/lang.php': (req, res, url) => {
      const lang = url.searchParams.get('l') ?? 'en';
      if (hardened || !/[\r\n]/.test(lang)) {
        headers(res, {
          location: '/',
          'set-cookie': `lang=${hardened ? lang.replace(/[^a-z]/gi, '') : headerBytes(lang)}${hardened ? '; Path=/; HttpOnly; SameSite=Lax' + (https ? '; Secure' : '') : ''}`,
        });
        res.writeHead(302).end();
        return;
      }
      // What a server that writes raw header lines does with CR/LF in a value.
      const socket = req.socket;
      socket.write(
        Buffer.from(
          `HTTP/1.1 302 Found\r\nServer: Apache/2.4.49 (Unix)\r\nSet-Cookie: lang=${lang}\r\nLocation: /\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`,
          'utf8',
        ),
      );
      socket.end();
    },
    '/ping.php': (_req, res, url) => {
      const host = url.searchParams.get('host') ?? 'example';
      if (hardened && !/^[a-z0-9.-]+$/i.test(host)) return page(res, 'Status', '<p>Invalid host.</p>', 400);
      page(
        res,
        'Status',
        `<pre>${hardened ? escapeHtml(toyShell(`ping -c 1 ${host}`)) : toyShell(`ping -c 1 ${host}`)}</pre>`,
      );
    },
    '/directory.php': (_req, res, url) => {
      const user = url.searchParams.get('user') ?? 'alice';
      if (!hardened && /[()*\\|&]/.test(user)) {
        return page(
          res,
          'Staff',
          `<p>javax.naming.directory.InvalidSearchFilterException: Bad search filter (uid=${user})</p>`,
          500,
        );
      }
      page(res, 'Staff', `<p>${user === 'alice' ? 'Alice, sales' : 'Nobody found'}</p>`);
    },
    '/lookup.php': (_req, res, url) => {
      const key = url.searchParams.get('key') ?? 'price';
      if (!hardened && /['"\]]/.test(key)) {
        return page(res, 'Prices', '<p>org.apache.xpath.XPathException: Expected ], but found: </p>');
      }
      page(res, 'Prices', `<p>${key === 'price' ? '10 EUR' : 'unknown'}</p>`);
    },
    '/calc.php': (_req, res, url) => {
      const expr = url.searchParams.get('expr') ?? '6*7';
      if (hardened) {
        const m = /^(\d{1,6})\*(\d{1,6})$/.exec(expr);
        return page(res, 'Calculator', m ? `<p>${Number(m[1]) * Number(m[2])}</p>` : '<p>Invalid expression.</p>');
      }
      // What eval("return $expr;") would print for the calls a scanner makes (toy eval).
      const call = /(?:print|echo|exit|die)\s*\(\s*md5\(\s*['"]?([\w-]+)['"]?\s*\)\s*\)/i.exec(expr);
      if (call) return page(res, 'Calculator', `<p>${createHash('md5').update(call[1]!).digest('hex')}</p>`);
      const m = /^(\d{1,6})\*(\d{1,6})$/.exec(expr);
      page(
        res,
        'Calculator',
        m
          ? `<p>${Number(m[1]) * Number(m[2])}</p>`
          : `<p><b>Parse error</b>: syntax error in <b>/var/www/html/calc.php(3) : eval()'d code</b> on line <b>1</b></p>`,
      );
    },
    '/track.php': (_req, res, url) => {
      const ref = url.searchParams.get('ref') ?? 'home';
      // INSERT INTO visits VALUES ('<ref>'): nothing shown, errors swallowed; only SLEEP() tells.
      const wait = !hardened && ref.includes("'") ? /sleep\((\d+)\)/i.exec(ref) : null;
      const seconds = wait ? Math.min(10, Number(wait[1])) : 0;
      setTimeout(() => page(res, 'Thanks', '<p>Thanks for visiting.</p>'), seconds * 1000);
    },
    '/comments.php': (req, res, _url, body) => {
      const sid = session(req, res);
      if (req.method === 'POST') {
        const form = new URLSearchParams(body);
        if (hardened && form.get('csrf_token') !== csrfFor(sessionOf(req) ?? '-'))
          return page(res, 'Forbidden', '<p>Bad token.</p>', 403);
        const comment = form.get('comment') ?? '';
        if (comment && comments.length < 100) comments.push(comment.slice(0, 500));
        headers(res, { location: '/comments.php' });
        res.writeHead(303).end();
        return;
      }
      const token = hardened ? `<input type="hidden" name="csrf_token" value="${csrfFor(sid)}">` : '';
      page(
        res,
        'Guestbook',
        `<form method="post" action="/comments.php">${token}<textarea name="comment"></textarea><input type="submit" value="Post"></form>\n<ul>\n${comments
          .map((c) => `<li>${hardened ? escapeHtml(c) : c}</li>`)
          .join('\n')}\n</ul>`,
      );
    },
    '/login.php': (req, res, _url, body) => {
      const sid = session(req, res);
      const token = hardened ? `<input type="hidden" name="csrf_token" value="${csrfFor(sid)}">` : '';
      const form = `<form method="post" action="/login.php">${token}<input name="username"><input type="password" name="password"><input type="submit" value="Log in"></form>`;
      if (req.method === 'POST') {
        const fields = new URLSearchParams(body);
        if (hardened && fields.get('csrf_token') !== csrfFor(sessionOf(req) ?? '-'))
          return page(res, 'Forbidden', '<p>Bad token.</p>', 403);
        return page(
          res,
          'Log in',
          `<p>Invalid credentials for ${escapeHtml(fields.get('username') ?? '')}.</p>\n${form}`,
        );
      }
      page(res, 'Log in', form);
    },
    '/profile.php': (req, res, _url, body) => {
      const sid = session(req, res);
      // The insecure app has a token, but never checks it.
      const token = csrfFor(sid);
      const form = `<form method="post" action="/profile.php"><input type="hidden" name="csrf_token" value="${token}"><input name="display_name" value="Ada"><input type="submit" value="Save"></form>`;
      if (req.method === 'POST') {
        const fields = new URLSearchParams(body);
        if (hardened && fields.get('csrf_token') !== csrfFor(sessionOf(req) ?? '-'))
          return page(res, 'Forbidden', '<p>Bad token.</p>', 403);
        return page(res, 'Profile', `<p>Profile saved.</p>\n${form}`);
      }
      page(res, 'Profile', form);
    },
    '/upload.php': (req, res, _url, body) => {
      const sid = session(req, res);
      const token = hardened ? `<input type="hidden" name="csrf_token" value="${csrfFor(sid)}">` : '';
      const form = `<form method="post" action="/upload.php" enctype="multipart/form-data">${token}<input name="title"><input type="file" name="file"><input type="submit" value="Upload"></form>`;
      if (req.method === 'POST') {
        // Only multipart bodies are read (as a framework's upload handler does).
        const fields = new Map<string, string>();
        if (/multipart\/form-data/.test(String(req.headers['content-type']))) {
          for (const m of body.matchAll(
            /name="([^"]+)"(?:; filename="[^"]*")?\r\n(?:[^\r\n]+\r\n)*\r\n([\s\S]*?)\r\n--/g,
          ))
            fields.set(m[1]!, m[2]!);
        }
        if (hardened && fields.get('csrf_token') !== csrfFor(sessionOf(req) ?? '-'))
          return page(res, 'Forbidden', '<p>Bad token.</p>', 403);
        const title = fields.get('title') ?? '';
        return page(res, 'Upload', `<p>Received "${hardened ? escapeHtml(title) : title}".</p>\n${form}`);
      }
      page(res, 'Upload', form);
    },
    '/report.php': (_req, res) => {
      if (hardened) return page(res, 'Sales report', '<p>The report is not available right now.</p>');
      page(
        res,
        'Sales report',
        "<p><b>Fatal error</b>: Uncaught PDOException: SQLSTATE[HY000] [2002] Connection refused in /var/www/html/report.php:12\nStack trace:\n#0 /var/www/html/report.php(12): PDO->__construct('mysql:host=db;d...')\n#1 {main}</p>",
      );
    },
    '/files/': (_req, res) => {
      if (hardened) return page(res, 'Files', '<p><a href="/files/report.txt">Report</a></p>');
      headers(res, { 'content-type': 'text/html;charset=ISO-8859-1' });
      res.writeHead(200).end(listing('/files', ['report.txt']));
    },
    '/files/report.txt': (_req, res) => text(res, 'Quarterly report: all good.\n'),
    '/static/app.js': (_req, res) =>
      text(
        res,
        hardened
          ? 'document.documentElement.dataset.ready = "1";\n'
          : '// FIXME: the admin token is still checked client side\ndocument.documentElement.dataset.ready = "1";\n',
        'application/javascript',
      ),
    '/static/': (_req, res) => {
      if (hardened) return page(res, 'Forbidden', '<p>Forbidden</p>', 403);
      headers(res, { 'content-type': 'text/html;charset=ISO-8859-1' });
      res.writeHead(200).end(listing('/static', ['app.js']));
    },
    '/admin/': (req, res) => {
      const method = req.method ?? 'GET';
      if (hardened || ['GET', 'HEAD', 'OPTIONS', 'TRACE'].includes(method)) {
        return page(res, 'Forbidden', "<p>You don't have permission to access this resource.</p>", 403);
      }
      page(res, 'Admin', '<p>Admin panel: 3 users, 12 orders.</p>'); // <Limit GET> only
    },
    '/api/data.json': (_req, res) => {
      headers(res, { 'content-type': 'application/json', ...(hardened ? {} : { 'access-control-allow-origin': '*' }) });
      res.writeHead(200).end('{"items":[1,2,3]}');
    },
    '/robots.txt': (_req, res) => text(res, 'User-agent: *\nDisallow: /admin/\nSitemap: /sitemap.xml\n'),
    '/sitemap.xml': (req, res) => {
      const self = `${https ? 'https' : 'http'}://${req.headers.host ?? 'localhost'}`;
      text(
        res,
        `<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n<url><loc>${self}/about.html</loc></url>\n<url><loc>${self}/hidden-page.html</loc></url>\n<url><loc>${other}/elsewhere.html</loc></url>\n</urlset>\n`,
        'application/xml',
      );
    },
  };

  const exposed: Record<string, [string, string]> = {
    '/.git/config': [
      '[core]\n\trepositoryformatversion = 0\n\tfilemode = true\n\tbare = false\n[remote "origin"]\n\turl = git@example.com:shop/site.git\n',
      'text/plain',
    ],
    '/.git/HEAD': ['ref: refs/heads/main\n', 'text/plain'],
    '/.env': ['APP_ENV=production\nDB_PASSWORD=s3cr3t-db-pass\nSTRIPE_KEY=sk_live_0123456789\n', 'text/plain'],
    '/.htaccess': ['RewriteEngine On\nRewriteRule ^old/(.*)$ /new/$1 [R=301,L]\n', 'text/plain'],
    '/WEB-INF/web.xml': [
      '<?xml version="1.0"?>\n<web-app version="3.0">\n<servlet><servlet-name>shop</servlet-name></servlet>\n</web-app>\n',
      'application/xml',
    ],
    '/products.php.bak': [
      "<?php\n$db = mysqli_connect('db', 'shop', 's3cr3t-db-pass');\n$rows = mysqli_query($db, \"SELECT * FROM products WHERE id = \" . $_GET['id']);\n",
      'application/octet-stream',
    ],
  };

  return start((req, res, url, body) => {
    const method = req.method ?? 'GET';
    if (method === 'TRACE') {
      if (hardened)
        return page(res, 'Method Not Allowed', '<p>TRACE is not allowed.</p>', 405, { allow: 'GET, HEAD, POST' });
      const echo = [
        `TRACE ${req.url} HTTP/1.1`,
        ...Object.entries(req.headers).map(([k, v]) => `${k}: ${String(v)}`),
      ].join('\r\n');
      return text(res, `${echo}\r\n`, 'message/http');
    }
    if (method === 'OPTIONS') {
      headers(res, { allow: hardened ? 'GET, HEAD, POST, OPTIONS' : 'GET, HEAD, POST, PUT, DELETE, TRACE, OPTIONS' });
      res.writeHead(200).end();
      return;
    }
    const route = routes[url.pathname];
    if (route && (method === 'GET' || method === 'HEAD' || method === 'POST' || url.pathname === '/admin/')) {
      return route(req, res, url, body);
    }
    if (!hardened && method === 'GET' && exposed[url.pathname]) {
      const [content, type] = exposed[url.pathname]!;
      return text(res, content, type);
    }
    if (route) return page(res, 'Method Not Allowed', '<p>Method not allowed.</p>', 405);
    notFound(res);
  }, options.tls);
}

/** Endless links: every page links to two deeper pages and a paginated list; nothing ends. */
export function startEndlessApp(): Promise<TestWebApp> {
  return start((_req, res, url) => {
    const n = Number(/^\/page\/(\d+)$/.exec(url.pathname)?.[1] ?? url.searchParams.get('offset') ?? 0);
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end(
      `<html><body><p>Page ${n}</p><a href="/page/${n + 1}">next</a> <a href="/page/${n + 2}">skip</a> ` +
        `<a href="/list?offset=${n + 10}">list</a> <a href="/deep/${n}/a/b/c/d/e/f/g/h/">deep</a></body></html>`,
    );
  });
}
