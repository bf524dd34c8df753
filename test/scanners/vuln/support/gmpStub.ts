/**
 * A small STUB of gvmd's GMP, for the GVM adapter's tests — not a Greenbone. It speaks
 * the protocol's framing (one XML command in, one XML response out, over TLS, plain TCP
 * or a Unix socket), checks the login, and answers the commands the adapter sends with
 * the response shapes of the GMP 22.4 reference: authenticate, get_configs,
 * create_port_list, create_target, create_task, start_task, get_tasks, get_reports,
 * stop_task, delete_task/target/port_list. Tasks go Requested → Running → Done over a
 * few polls; the report is a hand-written GMP report (GMP reference layout: report in
 * report, results with nvt/tags/refs/severities/qod, ports, host details). Every
 * command is recorded for the assertions.
 */
import { createServer as createNetServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { completeElementEnd, type XmlScanState } from '../../../../scanners/vuln/gvm/gmpClient.js';
import { child, parseXml, type XmlElement } from '../../../../scanners/shared/xml.js';

export interface GmpStubOptions {
  readonly username?: string;
  readonly password?: string;
  /** Scan config ids gvmd "has" (default: Discovery, Full and fast, Full and very deep). */
  readonly configs?: readonly string[];
  /** Statuses get_tasks walks through, one per poll (default Requested, Running, Done). */
  readonly statuses?: readonly string[];
  readonly report?: string;
  readonly tls?: { readonly key: string; readonly cert: string };
  /** Listen on this Unix socket path instead of TCP. */
  readonly socketPath?: string;
}

export interface GmpStub {
  /** TCP port (0 for a Unix socket). */
  readonly port: number;
  /** Every command received, parsed. */
  readonly commands: XmlElement[];
  /** Names of the commands received, in order. */
  names(): string[];
  close(): Promise<void>;
}

export const STUB_REPORT = `<get_reports_response status="200" status_text="OK">
<report id="r-1111" format_id="a994b278-1f62-11e1-96ac-406186ea4fc5" extension="xml" content_type="text/xml">
<owner><name>scanner</name></owner>
<name>2024-05-02T10:00:00Z</name>
<report id="r-1111">
<scan_run_status>Done</scan_run_status>
<ports start="1" max="-1"><count>2</count>
<port>443/tcp<host>192.0.2.10</host><severity>7.5</severity><threat>High</threat></port>
<port>22/tcp<host>192.0.2.10</host><severity>0.0</severity><threat>Log</threat></port>
</ports>
<results start="1" max="-1">
<result id="res-1">
<name>OpenSSL: TLS Heartbeat Read Overrun (Heartbleed)</name>
<host>192.0.2.10<asset asset_id="a-1"/><hostname>shop.example.test</hostname></host>
<port>443/tcp</port>
<nvt oid="1.3.6.1.4.1.25623.1.0.103936">
<type>nvt</type>
<name>OpenSSL: TLS Heartbeat Read Overrun (Heartbleed)</name>
<family>SSL and TLS</family>
<cvss_base>7.5</cvss_base>
<severities score="7.5"><severity type="cvss_base_v3"><origin/><date>2014-04-09T00:00:00Z</date><score>7.5</score><value>CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N</value></severity></severities>
<tags>cvss_base_vector=AV:N/AC:L/Au:N/C:P/I:N/A:N|summary=OpenSSL is prone to an information disclosure vulnerability.|insight=The TLS and DTLS implementations do not properly handle Heartbeat Extension packets.|affected=OpenSSL 1.0.1 before 1.0.1g.|impact=An attacker can read up to 64k of server memory per request.|solution=Update to 1.0.1g or later.|vuldetect=Sends a crafted heartbeat request and checks the response.|solution_type=VendorFix</tags>
<solution type="VendorFix">Update OpenSSL to version 1.0.1g or later.</solution>
<refs><ref type="cve" id="CVE-2014-0160"/><ref type="url" id="https://heartbleed.com/"/><ref type="cert-bund" id="CB-K14/0412"/></refs>
</nvt>
<scan_nvt_version>2024-01-01T00:00:00Z</scan_nvt_version>
<threat>High</threat>
<severity>7.5</severity>
<qod><value>98</value><type>remote_vul</type></qod>
<description>Heartbeat response of 16384 bytes received for a 3-byte request.</description>
</result>
<result id="res-2">
<name>SSH Server type and version</name>
<host>192.0.2.10<hostname>shop.example.test</hostname></host>
<port>22/tcp</port>
<nvt oid="1.3.6.1.4.1.25623.1.0.10267"><type>nvt</type><name>SSH Server type and version</name><family>Product detection</family><cvss_base>0.0</cvss_base>
<tags>cvss_base_vector=AV:N/AC:L/Au:N/C:N/I:N/A:N|summary=Detects the SSH server.|solution_type=</tags><refs/></nvt>
<threat>Log</threat><severity>0.0</severity><qod><value>80</value><type>remote_banner</type></qod>
<description>Remote SSH server banner: SSH-2.0-OpenSSH_9.2p1</description>
</result>
<result id="res-3">
<name>TCP timestamps</name>
<host>192.0.2.10</host>
<port>general/tcp</port>
<nvt oid="1.3.6.1.4.1.25623.1.0.80091"><type>nvt</type><name>TCP timestamps</name><cvss_base>2.6</cvss_base>
<tags>summary=The remote host implements TCP timestamps.|solution=Disable TCP timestamps.</tags><refs><ref type="url" id="https://www.ietf.org/rfc/rfc1323.txt"/></refs></nvt>
<threat>Low</threat><severity>2.6</severity><qod><value>80</value></qod><description>It was detected that the host implements RFC1323/RFC7323.</description>
</result>
<result id="res-4">
<name>Overridden finding</name><host>192.0.2.10</host><port>443/tcp</port>
<nvt oid="1.3.6.1.4.1.25623.1.0.1"><name>Overridden finding</name></nvt>
<threat>False Positive</threat><severity>-1.0</severity>
</result>
<result id="res-5">
<name>Scan error</name><host>192.0.2.10</host><port>8080/tcp</port>
<nvt oid="1.3.6.1.4.1.25623.1.0.2"><name>HTTP check</name></nvt>
<threat>Error</threat><severity>-3.0</severity><description>Connection timed out</description>
</result>
</results>
<host><ip>192.0.2.10</ip>
<detail><name>App</name><value>cpe:/a:openbsd:openssh:9.2p1</value><source><type>nvt</type><name>1.3.6.1.4.1.25623.1.0.10267</name></source></detail>
<detail><name>best_os_cpe</name><value>cpe:/o:debian:debian_linux:12</value></detail>
<detail><name>hostname</name><value>shop.example.test</value></detail>
</host>
</report>
</report>
</get_reports_response>`;

const DEFAULT_CONFIGS = [
  '8715c877-47a0-438d-98a3-27c7a6ab2196',
  'daba56c8-73ec-11df-a475-002264764cea',
  '708f25c4-7489-11df-8094-002264764cea',
];

export async function startGmpStub(options: GmpStubOptions = {}): Promise<GmpStub> {
  const username = options.username ?? 'scanner';
  const password = options.password ?? 'secret';
  const configs = new Set(options.configs ?? DEFAULT_CONFIGS);
  const statuses = options.statuses ?? ['Requested', 'Running', 'Done'];
  const commands: XmlElement[] = [];
  const sockets = new Set<Socket>();
  let ids = 0;
  let polls = 0;
  const newId = () => `00000000-0000-4000-8000-${String(++ids).padStart(12, '0')}`;

  const answer = (command: XmlElement, authenticated: boolean): { xml: string; authenticated: boolean } => {
    const ok = (name: string, extra = '', body = '') =>
      `<${name}_response status="200" status_text="OK"${extra}>${body}</${name}_response>`;
    const created = (name: string) =>
      `<${name}_response status="201" status_text="OK, resource created" id="${newId()}"/>`;
    if (command.name === 'authenticate') {
      const credentials = child(command, 'credentials');
      const good =
        child(credentials ?? command, 'username')?.text === username &&
        child(credentials ?? command, 'password')?.text === password;
      return good
        ? { xml: ok('authenticate', '', '<role>Admin</role><timezone>UTC</timezone>'), authenticated: true }
        : { xml: '<authenticate_response status="400" status_text="Authentication failed"/>', authenticated: false };
    }
    if (!authenticated)
      return { xml: `<${command.name}_response status="401" status_text="Authenticate first"/>`, authenticated };
    switch (command.name) {
      case 'get_configs': {
        const id = command.attributes.config_id ?? '';
        return configs.has(id)
          ? { xml: ok('get_configs', '', `<config id="${id}"><name>config</name></config>`), authenticated }
          : { xml: `<get_configs_response status="404" status_text="Failed to find config '${id}'"/>`, authenticated };
      }
      case 'create_port_list':
        return { xml: created('create_port_list'), authenticated };
      case 'create_target':
        return { xml: created('create_target'), authenticated };
      case 'create_task':
        return { xml: created('create_task'), authenticated };
      case 'start_task':
        return {
          xml: `<start_task_response status="202" status_text="OK, request submitted"><report_id>${newId()}</report_id></start_task_response>`,
          authenticated,
        };
      case 'get_tasks': {
        const status = statuses[Math.min(polls, statuses.length - 1)] ?? 'Done';
        polls += 1;
        const progress = status === 'Done' ? -1 : status === 'Running' ? 50 : 0;
        return {
          xml: ok(
            'get_tasks',
            '',
            `<task id="${command.attributes.task_id ?? ''}"><name>t</name><status>${status}</status><progress>${progress}</progress></task>`,
          ),
          authenticated,
        };
      }
      case 'get_reports':
        return { xml: options.report ?? STUB_REPORT, authenticated };
      case 'stop_task':
        return { xml: '<stop_task_response status="202" status_text="OK, request submitted"/>', authenticated };
      case 'delete_task':
      case 'delete_target':
      case 'delete_port_list':
        return { xml: `<${command.name}_response status="200" status_text="OK"/>`, authenticated };
      default:
        return { xml: `<${command.name}_response status="400" status_text="Bogus command name"/>`, authenticated };
    }
  };

  const onConnection = (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let authenticated = false;
    let text = '';
    let state: XmlScanState = { pos: 0, depth: 0, started: false };
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      text += chunk;
      for (;;) {
        const end = completeElementEnd(text, state);
        if (end === -1) return;
        const command = parseXml(text.slice(0, end));
        text = text.slice(end);
        state = { pos: 0, depth: 0, started: false };
        commands.push(command);
        const reply = answer(command, authenticated);
        authenticated = reply.authenticated;
        socket.write(reply.xml);
      }
    });
  };

  const server: Server = options.tls
    ? (createTlsServer({ key: options.tls.key, cert: options.tls.cert }, onConnection) as unknown as Server)
    : createNetServer(onConnection);
  if (options.tls) server.on('tlsClientError', () => undefined);
  const port = await new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    if (options.socketPath) server.listen(options.socketPath, () => resolve(0));
    else server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port));
  });
  return {
    port,
    commands,
    names: () => commands.map((c) => c.name),
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
