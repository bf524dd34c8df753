/**
 * Real, deliberately weak services on loopback for the vulnerability scanner's tests
 * and benchmark. Every one listens on 127.0.0.1 (port 0 = a random free port unless a
 * port is asked for, e.g. inside a private network namespace) and is closed by
 * `close()`; nothing here talks to anything but its own clients.
 *
 * - FTP allowing anonymous login (a small RFC 959 subset in Node: USER/PASS, SYST,
 *   FEAT, PWD, CWD, TYPE, PASV/EPSV, LIST/NLST, QUIT): nmap's `ftp-anon` logs in and
 *   lists the directory, as it would on a misconfigured vsftpd (the banner says so,
 *   so -sV names product and CPE).
 * - SSH: Debian's `dropbear` on its own host key when it is installed, else a
 *   banner-only listener that greets like OpenSSH.
 * - SMTP: a greeting and EHLO/HELO/HELP/QUIT answers, as Postfix words them.
 * - A legacy TLS service: TLS 1.0 and up, weak ciphers (SECLEVEL 0) and a 1024-bit
 *   Diffie-Hellman group, speaking IMAP inside TLS (so it is TLS but not HTTP).
 * - An insecure web app (plain HTTP): an exposed `.git/`, TRACE and PUT/DELETE allowed,
 *   a session cookie without HttpOnly, directory listing text, and byte ranges
 *   answered the way Apache did before the CVE-2011-3192 fix (206 to overlapping
 *   ranges).
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer as createTlsServer } from 'node:tls';
import { selfSignedCertificate } from '../../../support/certificates.js';

export interface LocalService {
  readonly name: 'ftp' | 'ssh' | 'smtp' | 'legacy-tls' | 'web';
  readonly port: number;
  /** The nmap service names -sV may give it. */
  readonly expectedServices: readonly string[];
  close(): Promise<void>;
}

export interface VulnServices {
  readonly ftp: LocalService;
  readonly ssh: LocalService & { readonly kind: 'dropbear' | 'banner' };
  readonly smtp: LocalService;
  readonly legacyTls: LocalService;
  readonly web: LocalService;
  readonly all: readonly LocalService[];
  /** Every pid of a child process these services started (dropbear). */
  readonly childPids: () => number[];
  close(): Promise<void>;
}

const HOST = '127.0.0.1';

function listenOn(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, HOST, () => resolve((server.address() as AddressInfo).port));
  });
}

/** A server whose open sockets are destroyed on close. */
function tracked(server: Server): () => Promise<void> {
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('secureConnection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  return () =>
    new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    });
}

/** Lines of a text protocol, with a bound on what one client may send. */
function onLines(socket: Socket, handle: (line: string) => void): void {
  let buffer = '';
  socket.setEncoding('latin1');
  socket.on('data', (chunk: string) => {
    buffer += chunk;
    if (buffer.length > 64 * 1024) {
      socket.destroy();
      return;
    }
    let newline = buffer.indexOf('\n');
    while (newline !== -1) {
      const line = buffer.slice(0, newline).replace(/\r$/, '');
      buffer = buffer.slice(newline + 1);
      handle(line);
      newline = buffer.indexOf('\n');
    }
  });
  socket.on('error', () => undefined);
}

// ------------------------------------------------------------------ FTP

const FTP_LISTING =
  '-rw-r--r--    1 0        0            1024 Jan 01 12:00 README\r\n' +
  'drwxrwxrwx    2 0        0            4096 Jan 01 12:00 incoming\r\n';

export async function startAnonymousFtp(port = 0): Promise<LocalService> {
  const dataServers = new Set<Server>();
  const server = createServer((control) => {
    let user = '';
    let loggedIn = false;
    let passive: { server: Server; socket: Promise<Socket> } | undefined;
    const reply = (text: string) => {
      if (!control.destroyed) control.write(`${text}\r\n`);
    };
    const openPassive = async (): Promise<number> => {
      passive?.server.close();
      const data = createServer();
      dataServers.add(data);
      const socket = new Promise<Socket>((resolve) => data.once('connection', resolve));
      passive = { server: data, socket };
      const dataPort = await listenOn(data, 0);
      return dataPort;
    };
    const sendData = async (text: string) => {
      if (!passive) return reply('425 Use PORT or PASV first.');
      const { server: data, socket } = passive;
      passive = undefined;
      reply('150 Here comes the directory listing.');
      const timer = setTimeout(() => data.close(), 5_000);
      const connection = await socket;
      clearTimeout(timer);
      connection.on('error', () => undefined);
      connection.end(text, () => {
        data.close();
        dataServers.delete(data);
        reply('226 Directory send OK.');
      });
    };
    reply('220 (vsFTPd 3.0.3)');
    onLines(control, (line) => {
      const [command = '', ...rest] = line.split(' ');
      const argument = rest.join(' ');
      switch (command.toUpperCase()) {
        case 'USER':
          user = argument;
          return reply('331 Please specify the password.');
        case 'PASS':
          if (/^(anonymous|ftp)$/i.test(user)) {
            loggedIn = true;
            return reply('230 Login successful.');
          }
          return reply('530 Login incorrect.');
        case 'SYST':
          return reply('215 UNIX Type: L8');
        case 'FEAT':
          return reply('211-Features:\r\n EPSV\r\n PASV\r\n SIZE\r\n UTF8\r\n211 End');
        case 'QUIT':
          reply('221 Goodbye.');
          return void control.end();
        case 'NOOP':
          return reply('200 NOOP ok.');
        case 'HELP':
          return reply('214-The following commands are recognized.\r\n USER PASS LIST QUIT\r\n214 Help OK.');
        default:
          break;
      }
      if (!loggedIn) return reply('530 Please login with USER and PASS.');
      switch (command.toUpperCase()) {
        case 'PWD':
          return reply('257 "/" is the current directory');
        case 'CWD':
          return reply('250 Directory successfully changed.');
        case 'TYPE':
          return reply('200 Switching to Binary mode.');
        case 'PASV':
          return void openPassive().then((p) =>
            reply(`227 Entering Passive Mode (127,0,0,1,${Math.floor(p / 256)},${p % 256}).`),
          );
        case 'EPSV':
          return void openPassive().then((p) => reply(`229 Entering Extended Passive Mode (|||${p}|)`));
        case 'LIST':
          return void sendData(FTP_LISTING);
        case 'NLST':
          return void sendData('README\r\nincoming\r\n');
        default:
          return reply('500 Unknown command.');
      }
    });
    control.on('close', () => passive?.server.close());
  });
  const close = tracked(server);
  return {
    name: 'ftp',
    port: await listenOn(server, port),
    expectedServices: ['ftp'],
    close: async () => {
      for (const data of dataServers) data.close();
      await close();
    },
  };
}

// ------------------------------------------------------------------ SSH

const runs = (path: string, args: string[]) => spawnSync(path, args, { stdio: 'ignore' }).error === undefined;
export const dropbearPath = ['/usr/sbin/dropbear', '/usr/bin/dropbear'].find((path) => runs(path, ['-V']));
const dropbearKeyPath = ['/usr/bin/dropbearkey', '/usr/sbin/dropbearkey'].find((path) => runs(path, ['-h']));

/** A free port right now (bound, then released). */
async function freePort(): Promise<number> {
  const server = createServer();
  const port = await listenOn(server, 0);
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function waitForListening(port: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ok = await new Promise<boolean>((resolve) => {
      const probe = connect(port, HOST);
      probe.once('connect', () => {
        probe.destroy();
        resolve(true);
      });
      probe.once('error', () => resolve(false));
    });
    if (ok) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

export async function startSsh(port = 0): Promise<LocalService & { kind: 'dropbear' | 'banner'; pid?: number }> {
  if (dropbearPath && dropbearKeyPath) {
    const dir = mkdtempSync(join(tmpdir(), 'secably-dropbear-'));
    const key = join(dir, 'host_ed25519');
    try {
      execFileSync(dropbearKeyPath, ['-t', 'ed25519', '-f', key], { stdio: 'ignore' });
      const chosen = port || (await freePort());
      // -F foreground, -E log to stderr, -s no password logins, -p listen address, -r host key.
      const child: ChildProcess = spawn(dropbearPath, ['-F', '-E', '-s', '-p', `${HOST}:${chosen}`, '-r', key], {
        stdio: 'ignore',
      });
      if (await waitForListening(chosen, 5_000)) {
        return {
          name: 'ssh',
          kind: 'dropbear',
          port: chosen,
          pid: child.pid!,
          expectedServices: ['ssh'],
          close: async () => {
            if (child.exitCode === null && child.signalCode === null) {
              const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
              child.kill('SIGTERM');
              await exited;
            }
            rmSync(dir, { recursive: true, force: true });
          },
        };
      }
      child.kill('SIGKILL');
    } catch {
      // fall back to a banner
    }
    rmSync(dir, { recursive: true, force: true });
  }
  const server = createServer((socket) => {
    socket.on('error', () => undefined);
    socket.write('SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n');
    socket.setTimeout(5_000, () => socket.destroy());
    socket.on('data', () => undefined);
  });
  const close = tracked(server);
  return { name: 'ssh', kind: 'banner', port: await listenOn(server, port), expectedServices: ['ssh'], close };
}

// ------------------------------------------------------------------ SMTP

export async function startSmtp(port = 0): Promise<LocalService> {
  const server = createServer((socket) => {
    const reply = (text: string) => {
      if (!socket.destroyed) socket.write(`${text}\r\n`);
    };
    reply('220 mail.example.test ESMTP Postfix (Debian/GNU)');
    onLines(socket, (line) => {
      const verb = line.split(' ')[0]?.toUpperCase() ?? '';
      switch (verb) {
        case 'EHLO':
          return reply('250-mail.example.test\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-VRFY\r\n250 8BITMIME');
        case 'HELO':
          return reply('250 mail.example.test');
        case 'HELP':
          return reply('502 5.5.2 Error: command not recognized');
        case 'NOOP':
          return reply('250 2.0.0 Ok');
        case 'RSET':
          return reply('250 2.0.0 Ok');
        case 'QUIT':
          reply('221 2.0.0 Bye');
          return void socket.end();
        default:
          return reply('502 5.5.2 Error: command not recognized');
      }
    });
  });
  const close = tracked(server);
  return { name: 'smtp', port: await listenOn(server, port), expectedServices: ['smtp'], close };
}

// ------------------------------------------------------------------ legacy TLS

let cachedDhParams: string | undefined;
function weakDhParams(): string {
  cachedDhParams ??= execFileSync('openssl', ['dhparam', '-dsaparam', '1024'], {
    stdio: ['ignore', 'pipe', 'ignore'],
  }).toString('utf8');
  return cachedDhParams;
}

export async function startLegacyTls(port = 0): Promise<LocalService> {
  const { key, cert } = selfSignedCertificate({ commonName: 'localhost', rsaBits: 2048 });
  const server = createTlsServer(
    {
      key,
      cert,
      minVersion: 'TLSv1',
      maxVersion: 'TLSv1.2',
      // Modern clients get ECDHE; the weak suites (1024-bit DHE, 3DES, RSA key exchange) stay on offer.
      ciphers:
        'ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-SHA:DHE-RSA-AES128-SHA:AES128-SHA:DES-CBC3-SHA:@SECLEVEL=0',
      dhparam: weakDhParams(),
      honorCipherOrder: true,
    },
    (socket) => {
      socket.on('error', () => undefined);
      socket.write('* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] Dovecot ready.\r\n');
      onLines(socket, (line) => {
        const [tag = '*', verb = ''] = line.split(' ');
        if (/^CAPABILITY$/i.test(verb)) {
          socket.write(`* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n${tag} OK Capability completed.\r\n`);
        } else if (/^LOGOUT$/i.test(verb)) {
          socket.end(`* BYE Logging out\r\n${tag} OK Logout completed.\r\n`);
        } else {
          socket.write(`${tag} BAD Error in IMAP command.\r\n`);
        }
      });
    },
  );
  server.on('tlsClientError', () => undefined);
  const close = tracked(server);
  return { name: 'legacy-tls', port: await listenOn(server, port), expectedServices: ['imaps', 'imap', 'ssl'], close };
}

// ------------------------------------------------------------------ insecure web app

const INDEX = `<!DOCTYPE html>
<html><head><title>Insecure test app</title></head>
<body><h1>Welcome</h1><a href="/login">Log in</a> <a href="/files/">Files</a></body></html>
`;

function webApp(request: IncomingMessage, response: ServerResponse): void {
  const path = (request.url ?? '/').split('?')[0] ?? '/';
  const method = request.method ?? 'GET';
  response.setHeader('Server', 'Apache/2.4.49 (Unix)');
  response.setHeader('X-Powered-By', 'PHP/7.2.34');
  if (method === 'TRACE') {
    const echo = `${method} ${request.url} HTTP/1.1\r\n${Object.entries(request.headers)
      .map(([k, v]) => `${k}: ${String(v)}`)
      .join('\r\n')}\r\n\r\n`;
    response.writeHead(200, { 'Content-Type': 'message/http' });
    return void response.end(echo);
  }
  if (method === 'OPTIONS') {
    response.writeHead(200, { Allow: 'GET,HEAD,POST,PUT,DELETE,TRACE,OPTIONS', 'Content-Length': '0' });
    return void response.end();
  }
  const files: Record<string, { type: string; body: string }> = {
    '/': { type: 'text/html', body: INDEX },
    '/login': {
      type: 'text/html',
      body: '<html><head><title>Login</title></head><body><form method="post" action="/login"><input name="user"><input type="password" name="pass"></form></body></html>',
    },
    '/files/': {
      type: 'text/html',
      body: '<html><head><title>Index of /files</title></head><body><h1>Index of /files</h1><a href="backup.sql">backup.sql</a></body></html>',
    },
    '/robots.txt': { type: 'text/plain', body: 'User-agent: *\nDisallow: /admin/\nDisallow: /backup/\n' },
    '/.git/HEAD': { type: 'text/plain', body: 'ref: refs/heads/main\n' },
    '/.git/config': {
      type: 'text/plain',
      body: '[core]\n\trepositoryformatversion = 0\n\tbare = false\n[remote "origin"]\n\turl = https://git.example.test/app.git\n',
    },
    '/.git/description': { type: 'text/plain', body: 'insecure test app\n' },
  };
  const file = files[path];
  if (!file) {
    response.writeHead(404, { 'Content-Type': 'text/html' });
    return void response.end('<html><head><title>404 Not Found</title></head><body>Not Found</body></html>');
  }
  const headers: Record<string, string | string[]> = { 'Content-Type': file.type, 'Accept-Ranges': 'bytes' };
  if (path === '/' || path === '/login') headers['Set-Cookie'] = ['PHPSESSID=3f2a9c0e4b1d; path=/'];
  const range = request.headers.range ?? request.headers['request-range'];
  if (typeof range === 'string' && /^bytes=/.test(range)) {
    // Every range honoured, overlapping or not: what Apache did before CVE-2011-3192's fix.
    const body = Buffer.from(file.body);
    const [first = '0-0'] = range.slice(6).split(',');
    const [startText = '0', endText = ''] = first.split('-');
    const start = Math.min(Number(startText) || 0, body.length - 1);
    const end = Math.min(endText === '' ? body.length - 1 : Number(endText), body.length - 1);
    headers['Content-Range'] = `bytes ${start}-${Math.max(start, end)}/${body.length}`;
    response.writeHead(206, headers);
    return void response.end(method === 'HEAD' ? undefined : body.subarray(start, Math.max(start, end) + 1));
  }
  response.writeHead(200, headers);
  response.end(method === 'HEAD' ? undefined : file.body);
}

export async function startInsecureWebApp(port = 0): Promise<LocalService> {
  const server = createHttpServer(webApp);
  server.keepAliveTimeout = 1_000;
  const close = tracked(server as unknown as Server);
  return {
    name: 'web',
    port: await listenOn(server as unknown as Server, port),
    expectedServices: ['http'],
    close: async () => {
      server.closeAllConnections();
      await close();
    },
  };
}

// ------------------------------------------------------------------ all of them

export interface VulnServicePorts {
  readonly ftp?: number;
  readonly ssh?: number;
  readonly smtp?: number;
  readonly legacyTls?: number;
  readonly web?: number;
}

/** Starts every service (random ports unless given) and returns them with one `close()`. */
export async function startVulnServices(ports: VulnServicePorts = {}): Promise<VulnServices> {
  const started: LocalService[] = [];
  try {
    const ftp = await startAnonymousFtp(ports.ftp);
    started.push(ftp);
    const ssh = await startSsh(ports.ssh);
    started.push(ssh);
    const smtp = await startSmtp(ports.smtp);
    started.push(smtp);
    const legacyTls = await startLegacyTls(ports.legacyTls);
    started.push(legacyTls);
    const web = await startInsecureWebApp(ports.web);
    started.push(web);
    return {
      ftp,
      ssh,
      smtp,
      legacyTls,
      web,
      all: started,
      childPids: () => (ssh.pid !== undefined ? [ssh.pid] : []),
      close: async () => {
        await Promise.all(started.map((s) => s.close()));
      },
    };
  } catch (error) {
    await Promise.all(started.map((s) => s.close()));
    throw error;
  }
}
