/**
 * For every bundled template: an app on which it must fire (positive) and a
 * near-miss app on which it must stay silent (negative). Every other path answers
 * 404 unless the case says otherwise. The contents imitate what the real software
 * serves (phpinfo pages, actuator JSON, Apache's status page, …).
 */
import { gzipSync } from 'node:zlib';
import { binary, html, json, text, type App, type Reply } from './httpApp.js';

export interface TemplateCase {
  readonly positive: App;
  readonly negative: App;
  /** More near misses, when one is not enough. */
  readonly moreNegatives?: readonly App[];
  /** How many findings the positive app yields (default 1). */
  readonly findings?: number;
}

const page = (title: string, body = '') =>
  html(`<!DOCTYPE html><html><head><title>${title}</title></head><body>${body}</body></html>`);

const GIT_CONFIG =
  '[core]\n\trepositoryformatversion = 0\n\tfilemode = true\n\tbare = false\n[remote "origin"]\n\turl = https://git.example.com/acme/site.git\n';
const ENV =
  'APP_NAME=Shop\nAPP_ENV=production\nAPP_KEY=base64:Zm9vYmFyYmF6\nDB_HOST=10.0.0.5\nDB_PASSWORD=hunter2hunter2\n';
const PHPINFO = `<!DOCTYPE html><html><head><title>PHP 8.2.7 - phpinfo()</title></head><body><div class="center"><table><tr class="h"><td><h1 class="p">PHP Version 8.2.7</h1></td></tr></table><table><tr><td class="e">System </td><td class="v">Linux web 6.1.0 x86_64 </td></tr></table></div></body></html>`;
const SERVER_STATUS = `<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 3.2 Final//EN"><html><head><title>Apache Status</title></head><body><h1>Apache Server Status for localhost (via 127.0.0.1)</h1><dl><dt>Server Version: Apache/2.4.57 (Debian)</dt><dt>Server MPM: event</dt><dt>Server uptime:  2 days 3 hours</dt></dl></body></html>`;
const ACTUATOR_ENV = {
  activeProfiles: ['prod'],
  propertySources: [
    { name: 'server.ports', properties: { 'local.server.port': { value: 8080 } } },
    { name: 'systemProperties', properties: { 'java.version': { value: '17.0.8' } } },
    { name: 'systemEnvironment', properties: { HOME: { value: '/root' } } },
  ],
};
const ACTUATOR_INDEX = {
  _links: {
    self: { href: 'http://app.test/actuator', templated: false },
    health: { href: 'http://app.test/actuator/health', templated: false },
    env: { href: 'http://app.test/actuator/env', templated: false },
  },
};
const METRICS =
  '# HELP http_requests_total The total number of HTTP requests.\n# TYPE http_requests_total counter\nhttp_requests_total{method="get",code="200"} 1027\n# HELP process_resident_memory_bytes Resident memory size in bytes.\n# TYPE process_resident_memory_bytes gauge\nprocess_resident_memory_bytes 2.3e+07\n';
const OPENAPI = { openapi: '3.0.1', info: { title: 'Shop API', version: '1.4' }, paths: { '/orders': { get: {} } } };
const DJANGO_404 = `<!DOCTYPE html><html lang="en"><head><title>Page not found at /secably-nuclei-not-found-8d41e7</title></head><body><div id="info"><p>Using the URLconf defined in <code>shop.urls</code>, Django tried these URL patterns, in this order:</p><ol><li>admin/</li></ol></div></body></html>`;
const RAILS_404 = `<!DOCTYPE html><html><head><title>Action Controller: Exception caught</title></head><body><header><h1>Routing Error</h1></header><div id="container"><h2>No route matches [GET] "/secably-nuclei-not-found-8d41e7"</h2><p><code>Rails.root: /app</code></p></div></body></html>`;
const WERKZEUG_CONSOLE = `<!doctype html><html lang=en><head><title>Console // Werkzeug Debugger</title><link rel="stylesheet" href="?__debugger__=yes&amp;cmd=resource&amp;f=style.css"></head><body><div class="debugger"><h1>Interactive Console</h1><div class="footer">Brought to you by <strong class="arthur">DON'T PANIC</strong>, your friendly Werkzeug powered traceback interpreter.</div></div><script>var CONSOLE_MODE = true, EVALEX = true, EVALEX_TRUSTED = false, SECRET = "abc";</script></body></html>`;
const PMA_LOGIN = `<!DOCTYPE HTML><html lang='en' dir='ltr'><head><title>phpMyAdmin</title><link rel="stylesheet" type="text/css" href="./themes/pmahomme/css/theme.css"></head><body><form method="post" id="login_form"><input type="text" name="pma_username" id="input_username"><input type="password" name="pma_password"></form></body></html>`;
const ADMINER = `<!DOCTYPE html><html lang="en" dir="ltr"><head><title>Login - Adminer</title></head><body class="ltr nojs"><div id="menu"><h1><a href='https://www.adminer.org/' target="_blank" rel="noreferrer noopener" id='h1'>Adminer</a> <span class="version">4.8.1</span></h1></div></body></html>`;
const WP_INSTALL = `<!DOCTYPE html><html lang="en-US"><head><title>WordPress &rsaquo; Installation</title></head><body class="wp-core-ui language-chooser"><p id="logo">WordPress</p><form id="setup" method="post" action="?step=1"></form></body></html>`;
const WP_INSTALLED = `<!DOCTYPE html><html lang="en-US"><head><title>WordPress &rsaquo; Installation</title></head><body class="wp-core-ui"><p id="logo">WordPress</p><h1>Already Installed</h1><p>You appear to have already installed WordPress. To reinstall please clear your old database tables first.</p></body></html>`;
const APACHE_UBUNTU = `<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN"><html xmlns="http://www.w3.org/1999/xhtml"><head><title>Apache2 Ubuntu Default Page: It works</title></head><body><div class="main_page">It works!</div></body></html>`;
const NGINX_WELCOME = `<!DOCTYPE html><html><head><title>Welcome to nginx!</title></head><body><h1>Welcome to nginx!</h1><p>If you see this page, the nginx web server is successfully installed and working.</p></body></html>`;
const IIS_START = `<!DOCTYPE html><html xmlns="http://www.w3.org/1999/xhtml"><head><title>IIS Windows Server</title></head><body><div id="container"><a href="http://go.microsoft.com/fwlink/?linkid=66138&amp;clcid=0x409"><img src="iisstart.png" alt="IIS" width="960" height="600" /></a></div></body></html>`;
const TOMCAT_ROOT = `<!DOCTYPE html><html lang="en"><head><title>Apache Tomcat/9.0.71</title></head><body><div id="congrats" class="curved container"><h2>If you're seeing this, you've successfully installed Tomcat. Congratulations!</h2></div></body></html>`;
const INDEX_OF = `<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 3.2 Final//EN"><html><head><title>Index of /uploads</title></head><body><h1>Index of /uploads</h1><table><tr><td><a href="report.pdf">report.pdf</a></td></tr></table></body></html>`;
const WP_HOME = (version: string) =>
  `<!DOCTYPE html><html lang="en-US"><head><meta name="generator" content="WordPress ${version}" /><title>Blog</title></head><body>Hello world!</body></html>`;
const ES_ROOT = `{\n  "name" : "node-1",\n  "cluster_name" : "elasticsearch",\n  "version" : {\n    "number" : "7.10.2",\n    "build_flavor" : "default"\n  },\n  "tagline" : "You Know, for Search"\n}\n`;
const SQLITE_HEADER = Buffer.concat([Buffer.from('SQLite format 3\0', 'latin1'), Buffer.alloc(84, 1)]);
const ZIP = Buffer.concat([Buffer.from('504b0304140000000800', 'hex'), Buffer.from('site/index.php')]);
const DS_STORE = Buffer.concat([Buffer.from('0000000142756431', 'hex'), Buffer.alloc(64, 0)]);
const HPROF = Buffer.concat([Buffer.from('JAVA PROFILE 1.0.2\0', 'latin1'), Buffer.alloc(64, 2)]);

const server = (value: string, extra: Record<string, string> = {}): Reply =>
  html('<html><head><title>Home</title></head><body>Welcome</body></html>', 200, { server: value, ...extra });

export const TEMPLATE_CASES: Readonly<Record<string, TemplateCase>> = {
  'git-config-exposure': {
    positive: { routes: { '/.git/config': text(GIT_CONFIG) } },
    negative: {
      routes: {
        '/.git/config': html('<html><body><pre>[core]\nbare = false</pre> (a blog post about git)</body></html>'),
      },
    },
  },
  'git-credentials-exposure': {
    positive: { routes: { '/.git-credentials': text('https://deploy:ghp_0123456789abcdef@github.com\n') } },
    negative: { routes: { '/.git-credentials': text('https://github.com\n') } },
  },
  'svn-repository-exposure': {
    positive: { routes: { '/.svn/wc.db': binary(SQLITE_HEADER) } },
    negative: {
      routes: {
        '/.svn/wc.db': html('<html><body>SQLite format 3 explained</body></html>'),
        '/.svn/entries': text('12\n'),
      },
    },
  },
  'mercurial-repository-exposure': {
    positive: {
      routes: { '/.hg/requires': text('dotencode\nfncache\ngeneraldelta\nrevlogv1\nsparserevlog\nstore\n') },
    },
    negative: { routes: { '/.hg/requires': text('revlogv1 is a storage format\n') } },
  },
  'env-file-exposure': {
    positive: { routes: { '/.env': text(ENV) } },
    negative: {
      routes: {
        '/.env': html(`<!DOCTYPE html><html><body><pre>${ENV}</pre></body></html>`),
        '/.env.local': text('# nothing here\nNODE_ENV=development\n'),
      },
    },
  },
  'ds-store-exposure': {
    positive: { routes: { '/.DS_Store': binary(DS_STORE) } },
    negative: { routes: { '/.DS_Store': text('Bud1') } },
  },
  'backup-archive-exposure': {
    positive: {
      routes: {
        '/backup.zip': binary(ZIP, 'application/zip'),
        '/app.test.tar.gz': binary(gzipSync('x'), 'application/gzip'),
      },
    },
    negative: {
      routes: {
        '/backup.zip': html('<html><body>PK archive not found</body></html>'),
        '/www.zip': {
          status: 200,
          headers: { 'content-type': 'text/html', 'content-encoding': 'gzip' },
          body: gzipSync('<html>soft 404</html>'),
        },
      },
    },
    findings: 2,
  },
  'sql-dump-exposure': {
    positive: {
      routes: {
        '/dump.sql': text(
          '-- MySQL dump 10.13  Distrib 8.0.33\n--\n-- Host: localhost    Database: shop\nCREATE TABLE `users` (\n  `id` int NOT NULL\n);\nINSERT INTO `users` VALUES (1);\n',
        ),
      },
    },
    negative: {
      routes: { '/backup.sql': html('<html><body><pre>\nCREATE TABLE users (id int);\n</pre></body></html>') },
    },
  },
  'wordpress-config-backup': {
    positive: {
      routes: {
        '/wp-config.php.bak': text(
          "<?php\ndefine( 'DB_NAME', 'wordpress' );\ndefine( 'DB_USER', 'wp' );\ndefine( 'DB_PASSWORD', 's3cret' );\n",
        ),
      },
    },
    negative: { routes: { '/wp-config.php~': text('') } },
  },
  'php-source-backup': {
    positive: { routes: { '/config.php.bak': text("<?php\n$db_password = 'secret';\n") } },
    negative: { routes: { '/index.php~': html('<html><body>Use &lt;?php to start PHP code</body></html>') } },
  },
  'phpinfo-exposure': {
    positive: { routes: { '/info.php': html(PHPINFO) } },
    negative: {
      routes: { '/phpinfo.php': page('Manual: phpinfo', 'The function phpinfo() outputs PHP Version and more.') },
    },
  },
  'apache-server-status': {
    positive: { routes: { '/server-status': html(SERVER_STATUS) } },
    negative: {
      routes: { '/server-status': html('<html><body>Server status: all systems operational</body></html>') },
    },
  },
  'apache-server-info': {
    positive: {
      routes: {
        '/server-info': html(
          '<html><head><title>Server Information</title></head><body><h1 style="text-align: center">Apache Server Information</h1><h2><a name="server">Server Settings</a></h2></body></html>',
        ),
      },
    },
    negative: {
      routes: {
        '/server-info': html('<html><body><h1>Apache Server Information</h1> is restricted</body></html>', 403),
      },
    },
  },
  'nginx-stub-status': {
    positive: {
      routes: {
        '/nginx_status': text(
          'Active connections: 2 \nserver accepts handled requests\n 16 16 31 \nReading: 0 Writing: 1 Waiting: 1 \n',
        ),
      },
    },
    negative: { routes: { '/nginx_status': text('Active connections: many') } },
  },
  'spring-boot-actuator-env': {
    positive: {
      routes: {
        '/actuator/env': json(ACTUATOR_ENV, 200, { 'content-type': 'application/vnd.spring-boot.actuator.v3+json' }),
      },
    },
    negative: {
      routes: {
        '/actuator/env': json({ status: 'UP' }),
        '/env': html('<html><body>activeProfiles: [] systemProperties</body></html>'),
      },
    },
  },
  'spring-boot-actuator-heapdump': {
    positive: { routes: { '/actuator/heapdump': binary(HPROF) } },
    negative: { routes: { '/actuator/heapdump': json({ error: 'Forbidden' }, 403) } },
  },
  'spring-boot-actuator-httpexchanges': {
    positive: {
      routes: {
        '/actuator/httpexchanges': json({
          exchanges: [
            {
              timestamp: '2026-11-30T10:00:00Z',
              request: { uri: 'http://app.test/', method: 'GET', headers: { cookie: ['SESSION=abc'] } },
              response: { status: 200 },
            },
          ],
        }),
      },
    },
    negative: { routes: { '/actuator/httptrace': json({ traces: [] }) } },
  },
  'spring-boot-actuator-index': {
    positive: { routes: { '/actuator': json(ACTUATOR_INDEX) } },
    negative: { routes: { '/actuator': json({ _links: {} }) } },
  },
  'prometheus-metrics-exposure': {
    positive: { routes: { '/metrics': text(METRICS, 200, { 'content-type': 'text/plain; version=0.0.4' }) } },
    negative: {
      routes: {
        '/metrics': html('<html><body><h1>Metrics</h1><p># HELP is how Prometheus documents metrics</p></body></html>'),
      },
    },
  },
  'swagger-ui-exposure': {
    positive: {
      routes: {
        '/swagger-ui/index.html': html(
          '<!DOCTYPE html><html><head><title>Swagger UI</title></head><body><div id="swagger-ui"></div><script src="./swagger-ui-bundle.js"></script><script>window.ui = SwaggerUIBundle({url: "/v3/api-docs"})</script></body></html>',
        ),
      },
    },
    negative: { routes: { '/docs': page('Documentation', 'Read our API guide.') } },
  },
  'openapi-spec-exposure': {
    positive: { routes: { '/v3/api-docs': json(OPENAPI) } },
    negative: { routes: { '/openapi.json': json({ openapi: 'maybe later', paths: {} }) } },
  },
  'graphql-introspection-enabled': {
    positive: {
      routes: {
        '/graphql': (request, body) =>
          request.method === 'POST' && body.includes('__schema')
            ? json({ data: { __schema: { queryType: { name: 'Query' } } } })
            : json({ errors: [{ message: 'Must provide query string.' }] }, 400),
      },
    },
    negative: {
      routes: {
        '/graphql': json(
          { errors: [{ message: 'GraphQL introspection is not allowed, but the query contained __schema or __type' }] },
          400,
        ),
      },
    },
  },
  'django-debug-mode': {
    positive: { fallback: html(DJANGO_404, 404) },
    negative: {
      fallback: html(
        '<!doctype html><html><head><title>Not Found</title></head><body><h1>Not Found</h1><p>The requested resource was not found on this server.</p></body></html>',
        404,
      ),
    },
  },
  'rails-development-mode': {
    positive: { fallback: html(RAILS_404, 404) },
    negative: {
      fallback: html(
        "<!DOCTYPE html><html><head><title>The page you were looking for doesn't exist (404)</title></head><body><h1>The page you were looking for doesn't exist.</h1></body></html>",
        404,
      ),
    },
  },
  'laravel-ignition-exposure': {
    positive: { routes: { '/_ignition/health-check': json({ can_execute_commands: true }) } },
    negative: { routes: { '/_ignition/health-check': html('<html><body>can_execute_commands</body></html>', 404) } },
  },
  'symfony-profiler-exposure': {
    positive: {
      routes: {
        '/_profiler/': html(
          '<!DOCTYPE html><html><head><title>Symfony Profiler</title></head><body><div id="header">Profiler search</div></body></html>',
        ),
      },
    },
    negative: {
      routes: {
        '/_profiler/': html('<html><head><title>Symfony Profiler</title></head><body>Access denied</body></html>', 403),
      },
    },
  },
  'werkzeug-debugger-console': {
    positive: { routes: { '/console': html(WERKZEUG_CONSOLE) } },
    negative: { routes: { '/console': page('Game console shop', 'Consoles and debuggers') } },
  },
  'aspnet-trace-axd': {
    positive: {
      routes: {
        '/trace.axd': html(
          '<html><head><title>Application Trace</title></head><body><h1>Application Trace</h1><h2>Requests to this Application</h2></body></html>',
        ),
      },
    },
    negative: {
      routes: {
        '/trace.axd': html(
          '<html><body><h2>Trace Error</h2><p>Trace.axd is not enabled in the configuration file for this application.</p></body></html>',
          403,
        ),
      },
    },
  },
  'elmah-log-exposure': {
    positive: {
      routes: {
        '/elmah.axd': html(
          '<html><head><title>Error log for /LM/W3SVC/1/ROOT on WEB01 (Page #1)</title></head><body><p>Powered by ELMAH, version 1.2</p></body></html>',
        ),
      },
    },
    negative: {
      routes: {
        '/elmah.axd': html(
          '<html><head><title>Forbidden</title></head><body>ELMAH remote access denied</body></html>',
          403,
        ),
      },
    },
  },
  'go-pprof-exposure': {
    positive: {
      routes: {
        '/debug/pprof/': html(
          '<html><head><title>/debug/pprof/</title></head><body>/debug/pprof/<br><p>Set debug=1 as a query parameter to export in legacy text format</p><br>Types of profiles available:<table></table></body></html>',
        ),
      },
    },
    negative: {
      routes: {
        '/debug/pprof/': html('<html><head><title>Debugging Go</title></head><body>About /debug/pprof/</body></html>'),
      },
    },
  },
  'phpmyadmin-panel': {
    positive: { routes: { '/phpmyadmin/': html(PMA_LOGIN) } },
    negative: { routes: { '/phpmyadmin/': page('phpMyAdmin hosting guide', 'Install phpMyAdmin in 5 minutes') } },
  },
  'adminer-panel': {
    positive: { routes: { '/adminer.php': html(ADMINER) } },
    negative: {
      routes: {
        '/adminer.php': text(ADMINER.replace('Adminer</title>', 'x</title>').replace('adminer.org', 'example.org')),
      },
    },
  },
  'tomcat-manager-panel': {
    positive: {
      routes: {
        '/manager/html': html('<html><body>401 Unauthorized</body></html>', 401, {
          'www-authenticate': 'Basic realm="Tomcat Manager Application"',
        }),
      },
    },
    negative: {
      routes: {
        '/manager/html': html('<html><body>401</body></html>', 401, { 'www-authenticate': 'Basic realm="Intranet"' }),
      },
    },
  },
  'h2-console-exposure': {
    positive: {
      routes: {
        '/h2-console/': html(
          '<!DOCTYPE html><html><head><title>H2 Console</title></head><frameset><frame src="login.jsp?jsessionid=abc"/></frameset></html>',
        ),
      },
    },
    negative: { routes: { '/h2-console/': page('Not Found', 'H2 Console is disabled') } },
  },
  'wordpress-installer-exposed': {
    positive: { routes: { '/wp-admin/install.php': html(WP_INSTALL) } },
    negative: { routes: { '/wp-admin/install.php': html(WP_INSTALLED) } },
  },
  'apache-default-page': {
    positive: { routes: { '/': html(APACHE_UBUNTU) } },
    negative: { routes: { '/': page('Acme Corp', 'Our servers run Apache2 and it works!') } },
  },
  'nginx-default-page': {
    positive: { routes: { '/': html(NGINX_WELCOME) } },
    negative: { routes: { '/': page('Welcome to Acme', 'Powered by nginx') } },
  },
  'iis-default-page': {
    positive: { routes: { '/': html(IIS_START) } },
    negative: { routes: { '/': page('Intranet', 'Hosted on IIS Windows Server 2019') } },
  },
  'tomcat-default-page': {
    positive: { routes: { '/': html(TOMCAT_ROOT) } },
    negative: { routes: { '/': page('Apache Tomcat/9.0.71 - Error report', 'HTTP Status 404') } },
  },
  'directory-listing': {
    positive: { routes: { '/uploads/': html(INDEX_OF) } },
    negative: { routes: { '/files/': page('Files', 'Index of our documents: <a href="/a">a</a>') } },
  },
  'security-txt-missing': {
    positive: { routes: { '/.well-known/security.txt': html('<html><body>Home</body></html>') } },
    negative: {
      routes: {
        '/.well-known/security.txt': text('Contact: mailto:security@example.com\nExpires: 2027-12-31T23:00:00.000Z\n'),
      },
    },
    moreNegatives: [
      {
        routes: {
          '/.well-known/security.txt': {
            status: 301,
            headers: { location: 'https://www.example.com/.well-known/security.txt' },
          },
        },
      },
      {
        routes: {
          '/.well-known/security.txt': { status: 302, headers: { location: '/security.txt' } },
          '/security.txt': text('Contact: https://example.com/report\n'),
        },
      },
    ],
  },
  'cors-reflected-origin-credentials': {
    positive: {
      routes: {
        '/': (request) =>
          html('<html>home</html>', 200, {
            'access-control-allow-origin': String(request.headers.origin ?? '*'),
            'access-control-allow-credentials': 'true',
          }),
      },
    },
    negative: {
      routes: {
        '/': html('<html>home</html>', 200, {
          'access-control-allow-origin': 'https://app.example.net',
          'access-control-allow-credentials': 'true',
        }),
      },
    },
  },
  'cors-null-origin-credentials': {
    positive: {
      routes: {
        '/': (request) =>
          html('<html>home</html>', 200, {
            'access-control-allow-origin': request.headers.origin === 'null' ? 'null' : 'https://app.example.net',
            'access-control-allow-credentials': 'true',
          }),
      },
    },
    negative: { routes: { '/': html('<html>home</html>', 200, { 'access-control-allow-origin': 'null' }) } },
  },
  'apache-httpd-cve-2021-41773': {
    positive: { routes: { '/': server('Apache/2.4.49 (Unix)') } },
    negative: { routes: { '/': server('Apache/2.4.491') } },
  },
  'apache-httpd-cve-2021-42013': {
    positive: { routes: { '/': server('Apache/2.4.50 (Unix) OpenSSL/1.1.1k') } },
    negative: { routes: { '/': server('Apache/2.4.51 (Unix)') } },
  },
  'iis-6-cve-2017-7269': {
    positive: { routes: { '/': server('Microsoft-IIS/6.0') } },
    negative: { routes: { '/': server('Microsoft-IIS/10.0') } },
  },
  'nginx-cve-2021-23017-version': {
    positive: { routes: { '/': server('nginx/1.18.0') } },
    negative: { routes: { '/': server('nginx/1.20.1') } },
  },
  'wordpress-cve-2017-1001000-version': {
    positive: { routes: { '/': html(WP_HOME('4.7.1')) } },
    negative: { routes: { '/': html(WP_HOME('4.7.10')) } },
  },
  'php-8-1-0-dev-backdoor': {
    positive: { routes: { '/': server('Apache', { 'x-powered-by': 'PHP/8.1.0-dev' }) } },
    negative: { routes: { '/': server('Apache', { 'x-powered-by': 'PHP/8.1.0' }) } },
  },
  'elasticsearch-unauthenticated': {
    positive: { routes: { '/': json(ES_ROOT) } },
    negative: {
      routes: {
        '/': json({ error: { type: 'security_exception', reason: 'missing authentication credentials' } }, 401),
      },
    },
  },
  'docker-compose-exposure': {
    positive: {
      routes: {
        '/docker-compose.yml': text(
          'services:\n  web:\n    image: nginx:1.25\n  db:\n    image: postgres:16\n    environment:\n      POSTGRES_PASSWORD: example\n',
        ),
      },
    },
    negative: {
      routes: {
        '/docker-compose.yml': html('<html><body><pre>services:\n  web:\n    image: nginx</pre></body></html>'),
      },
    },
  },
  'npmrc-token-exposure': {
    positive: {
      routes: {
        '/.npmrc': text(
          'registry=https://registry.npmjs.org/\n//registry.npmjs.org/:_authToken=npm_0123456789abcdef\n',
        ),
      },
    },
    negative: { routes: { '/.npmrc': text('registry=https://registry.npmjs.org/\nsave-exact=true\n') } },
  },
  'aws-credentials-exposure': {
    positive: {
      routes: {
        '/.aws/credentials': text(
          '[default]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n',
        ),
      },
    },
    negative: { routes: { '/.aws/credentials': text('[default]\nregion = eu-west-1\n') } },
  },
  'private-key-exposure': {
    positive: {
      routes: {
        '/.ssh/id_rsa': text(
          '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n-----END OPENSSH PRIVATE KEY-----\n',
        ),
      },
    },
    negative: {
      routes: { '/server.key': html('<html><body>Never publish -----BEGIN RSA PRIVATE KEY----- files!</body></html>') },
    },
  },
  'htpasswd-exposure': {
    positive: { routes: { '/.htpasswd': text('admin:$apr1$9Jb1nYp3$K8QbW1x0Wdx0oC8o1u5uD1\n') } },
    negative: { routes: { '/.htpasswd': text('admin:secret\n') } },
  },
  'web-config-exposure': {
    positive: {
      routes: {
        '/web.config': {
          status: 200,
          headers: { 'content-type': 'application/xml' },
          body: '<?xml version="1.0" encoding="utf-8"?>\n<configuration>\n  <system.webServer>\n    <handlers/>\n  </system.webServer>\n</configuration>\n',
        },
      },
    },
    negative: { routes: { '/web.config': text('<configuration>') } },
  },
  'rails-database-yml-exposure': {
    positive: {
      routes: {
        '/config/database.yml': text(
          'default: &default\n  adapter: postgresql\n  pool: 5\nproduction:\n  <<: *default\n  database: shop\n  password: secret\n',
        ),
      },
    },
    negative: { routes: { '/config/database.yml': text('production:\n  url: <%= ENV["DATABASE_URL"] %>\n') } },
  },
  'aspnet-appsettings-exposure': {
    positive: {
      routes: {
        '/appsettings.json': json({
          ConnectionStrings: { Default: 'Server=db;Password=x' },
          Logging: { LogLevel: { Default: 'Information' } },
          AllowedHosts: '*',
        }),
      },
    },
    negative: { routes: { '/appsettings.json': html('<html><body>"ConnectionStrings": see docs</body></html>') } },
  },
  'vscode-sftp-config-exposure': {
    positive: {
      routes: {
        '/.vscode/sftp.json': json({
          name: 'prod',
          host: 'ftp.example.com',
          protocol: 'sftp',
          port: 22,
          username: 'deploy',
          password: 'x',
          remotePath: '/var/www',
        }),
      },
    },
    negative: { routes: { '/.vscode/sftp.json': json({ host: 'example' }) } },
  },
  'laravel-log-exposure': {
    positive: {
      routes: {
        '/storage/logs/laravel.log': text(
          '[2026-11-29 10:15:01] production.ERROR: SQLSTATE[HY000] [2002] Connection refused {"exception":"[object] (PDOException(code: 2002))"}\n',
        ),
      },
    },
    negative: { routes: { '/storage/logs/laravel.log': text('log rotated\n') } },
  },
  'wordpress-debug-log-exposure': {
    positive: {
      routes: {
        '/wp-content/debug.log': text(
          '[29-Nov-2026 10:15:01 UTC] PHP Warning:  Undefined variable $x in /var/www/html/wp-content/plugins/shop/shop.php on line 42\n',
        ),
      },
    },
    negative: { routes: { '/wp-content/debug.log': text('') } },
  },
};
