import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { NmapOutputError, parseNmapXml, toScanResult } from '../../../scanners/nmap/nmapParser.js';

/**
 * Fixtures: the exact XML nmap 7.93 printed on stdout in hand runs against loopback
 * listeners we started (see the header comment of each test for the command line;
 * nmap also records it in the file's `args`). `quick-top1000*.xml` and
 * `full-connect.xml` ran inside a private network namespace (`unshare -n`) so the
 * top-1000 / all-ports scans touched nothing but our own listeners.
 * `truncated.xml` is `port-range-connect.xml` cut at byte 1500;
 * `killed-during-service-scan.xml` is the real output of an nmap killed by SIGTERM.
 */
function fixture(name: string): string {
  return readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');
}

/** A minimal nmap-like document for tests of the XML reader itself (synthetic). */
function doc(hostXml: string, extra = ''): string {
  return `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE nmaprun>
<nmaprun scanner="nmap" args="nmap" version="7.93">
${hostXml}
<runstats><finished time="1" elapsed="0.01" summary="done" exit="success"${extra}/><hosts up="1" down="0" total="1"/></runstats>
</nmaprun>`;
}

describe('parseNmapXml on real nmap output', () => {
  it('quick profile (--top-ports 1000, -sT): three open ports, the other 997 collapsed as closed', () => {
    // nmap -sT --top-ports 1000 -Pn -n --max-retries 2 --host-timeout 300s -oX - --stats-every 1s -- 127.0.0.1
    const result = parseNmapXml(fixture('quick-top1000.xml'));
    expect(result.scanner_version).toBe('7.93');
    expect(result.args).toContain('--top-ports 1000');
    expect(result.scan_info).toEqual([{ type: 'connect', protocol: 'tcp', services: 1000 }]);
    expect(result.hosts).toHaveLength(1);
    const [host] = result.hosts;
    expect(host).toMatchObject({
      address: '127.0.0.1',
      address_type: 'ipv4',
      hostnames: [],
      status: 'up',
      status_reason: 'user-set',
      timed_out: false,
      port_counts: { closed: 997, open: 3 },
    });
    expect(host?.open_ports).toEqual([
      { port: 21, protocol: 'tcp', state: 'open', reason: 'syn-ack', service: 'ftp', method: 'table', confidence: 3 },
      {
        port: 23,
        protocol: 'tcp',
        state: 'open',
        reason: 'syn-ack',
        service: 'telnet',
        method: 'table',
        confidence: 3,
      },
      {
        port: 8080,
        protocol: 'tcp',
        state: 'open',
        reason: 'syn-ack',
        service: 'http-proxy',
        method: 'table',
        confidence: 3,
      },
    ]);
    expect(result.runstats).toMatchObject({ exit: 'success', hosts: { up: 1, down: 0, total: 1 } });
    expect(result.runstats.elapsed).toBeGreaterThan(0);
    expect(result.runstats.summary).toMatch(/^Nmap done at .*; 1 IP address \(1 host up\) scanned in/);
    expect(result.skipped_targets).toEqual([]);
  });

  it('latency is <times srtt> (microseconds) in seconds', () => {
    const xml = fixture('quick-top1000.xml');
    const srtt = Number(/<times srtt="(\d+)"/.exec(xml)?.[1]);
    expect(srtt).toBeGreaterThan(0);
    expect(parseNmapXml(xml).hosts[0]?.latency).toBeCloseTo(srtt / 1_000_000, 12);
  });

  it('decodes entities in attributes (nmap writes "--" as "-&#45;")', () => {
    const result = parseNmapXml(fixture('port-range-connect.xml'));
    expect(result.args).toBe(
      'nmap -sT -Pn -n -oX - --max-retries 2 --host-timeout 300s --stats-every 1s -p 21,23,8080,33251,1,2 -- 127.0.0.1',
    );
    expect(result.hosts[0]?.open_ports.map((p) => [p.port, p.service])).toEqual([
      [21, 'ftp'],
      [23, 'telnet'],
      [8080, 'http-proxy'],
      [33251, 'unknown'],
    ]);
    expect(result.hosts[0]?.port_counts).toEqual({ closed: 2, open: 4 });
  });

  it('aggressive (-sV): product, version, CPE; an unidentified service stays "unknown"', () => {
    // nmap -sT -sV -Pn -n ... -p 21,23,8080,33251,38883,1 -- 127.0.0.1
    const result = parseNmapXml(fixture('aggressive-service-detection.xml'));
    const ports = result.hosts[0]?.open_ports ?? [];
    expect(ports.map((p) => p.port)).toEqual([21, 23, 8080, 33251, 38883]);
    expect(ports[0]).toEqual({
      port: 21,
      protocol: 'tcp',
      state: 'open',
      reason: 'syn-ack',
      service: 'ftp',
      method: 'probed',
      confidence: 10,
      product: 'vsftpd',
      version: '3.0.3',
      ostype: 'Unix',
      cpe: ['cpe:/a:vsftpd:vsftpd:3.0.3'],
    });
    expect(ports[1]).toMatchObject({ service: 'telnet', product: 'Linux telnetd', method: 'probed' });
    expect(ports[2]).toMatchObject({ service: 'http', product: 'nginx', version: '1.22.1', method: 'probed' });
    // The HTTP listener without a Server header: nmap keeps a fingerprint (full of
    // &quot; &lt; &gt;) and no name.
    expect(ports[3]).toMatchObject({ port: 33251, service: 'unknown', method: 'table' });
    expect(ports[3]?.product).toBeUndefined();
    expect(ports[4]).toMatchObject({ port: 38883, service: 'ftp', product: 'vsftpd', method: 'probed' });
  });

  it('SYN scan of ports nmap has no name for: no <service> element', () => {
    const result = parseNmapXml(fixture('syn-unidentified-services.xml'));
    expect(result.scan_info[0]?.type).toBe('syn');
    expect(result.hosts[0]?.open_ports.map((p) => [p.port, p.service, p.method])).toEqual([
      [33433, 'unknown', null],
      [39273, 'unknown', null],
      [42431, 'unknown', null],
    ]);
  });

  it('full profile (-p 1-65535): 65529 closed collapsed, progress elements ignored', () => {
    const result = parseNmapXml(fixture('full-connect.xml'));
    expect(result.hosts[0]?.port_counts).toEqual({ closed: 65529, open: 6 });
    expect(result.hosts[0]?.open_ports).toHaveLength(6);
  });

  it('no open ports: an up host with nothing in open_ports', () => {
    const result = parseNmapXml(fixture('no-open-ports.xml'));
    expect(result.hosts[0]).toMatchObject({ status: 'up', open_ports: [], port_counts: { closed: 4 } });
    expect(toScanResult(result)).toMatchObject({ open_ports: [], host_info: { status: 'up' } });
  });

  it('unreachable target with -Pn: "up" by assumption, every port filtered', () => {
    const result = parseNmapXml(fixture('unreachable-filtered.xml'));
    expect(result.hosts[0]).toMatchObject({
      status: 'up',
      status_reason: 'user-set',
      open_ports: [],
      port_counts: { filtered: 2 },
    });
  });

  it('a target nmap skipped: no host, the target listed as skipped', () => {
    const result = parseNmapXml(fixture('target-skipped-no-route.xml'));
    expect(result.hosts).toEqual([]);
    expect(result.skipped_targets).toEqual([{ specification: '127.0.0.1', status: 'skipped', reason: 'invalid' }]);
    expect(result.runstats.hosts).toEqual({ up: 0, down: 0, total: 0 });
    expect(toScanResult(result)).toEqual({ open_ports: [], host_info: { status: 'down', latency: null }, hosts: [] });
  });

  it('a host nmap gave up on (--host-timeout): timed_out, no ports at all', () => {
    const result = parseNmapXml(fixture('host-timeout.xml'));
    expect(result.hosts[0]).toMatchObject({ timed_out: true, open_ports: [], port_counts: {} });
    expect(toScanResult(result).hosts[0]?.timed_out).toBe(true);
  });

  it('IPv6 and hostnames', () => {
    const v6 = parseNmapXml(fixture('ipv6-loopback.xml'));
    expect(v6.hosts[0]).toMatchObject({ address: '::1', address_type: 'ipv6' });
    expect(v6.hosts[0]?.open_ports.map((p) => p.port)).toEqual([41823]);
    expect(parseNmapXml(fixture('localhost-hostname.xml')).hosts[0]?.hostnames).toEqual(['localhost']);
  });

  it('multi-host (127.0.0.1-3): one entry per host', () => {
    const result = parseNmapXml(fixture('multi-host-loopback.xml'));
    expect(result.hosts.map((h) => [h.address, h.open_ports.map((p) => p.port)])).toEqual([
      ['127.0.0.1', [21, 8080]],
      ['127.0.0.2', [8080]],
      ['127.0.0.3', []],
    ]);
  });
});

describe('toScanResult', () => {
  it('one host: the documented {open_ports, host_info} plus hosts', () => {
    const result = parseNmapXml(fixture('aggressive-service-detection.xml'));
    const scanResult = toScanResult(result);
    const latency = result.hosts[0]?.latency ?? null;
    expect(scanResult.host_info).toEqual({ status: 'up', latency });
    expect(scanResult.open_ports[0]).toEqual({
      port: 21,
      protocol: 'tcp',
      service: 'ftp',
      state: 'open',
      product: 'vsftpd',
      version: '3.0.3',
      host: '127.0.0.1',
    });
    expect(scanResult.open_ports[3]).toEqual({
      port: 33251,
      protocol: 'tcp',
      service: 'unknown',
      state: 'open',
      host: '127.0.0.1',
    });
    expect(scanResult.hosts).toEqual([
      { address: '127.0.0.1', hostnames: [], status: 'up', latency, timed_out: false, open_port_count: 5 },
    ]);
    expect(JSON.parse(JSON.stringify(scanResult))).toEqual(scanResult);
  });

  it('a range: status up if any host is, the lowest latency, each port tagged with its host', () => {
    const result = parseNmapXml(fixture('multi-host-loopback.xml'));
    const scanResult = toScanResult(result);
    const latencies = result.hosts.map((h) => h.latency ?? Infinity);
    expect(scanResult.host_info).toEqual({ status: 'up', latency: Math.min(...latencies) });
    expect(scanResult.open_ports.map((p) => `${p.host}:${p.port}`)).toEqual([
      '127.0.0.1:21',
      '127.0.0.1:8080',
      '127.0.0.2:8080',
    ]);
    expect(scanResult.hosts.map((h) => [h.address, h.open_port_count])).toEqual([
      ['127.0.0.1', 2],
      ['127.0.0.2', 1],
      ['127.0.0.3', 0],
    ]);
  });

  it('a range where every host is down (synthetic: nmap always reports loopback hosts up)', () => {
    const xml = doc(
      `<host><status state="down" reason="no-response" reason_ttl="0"/><address addr="192.0.2.1" addrtype="ipv4"/></host>
<host><status state="down" reason="no-response" reason_ttl="0"/><address addr="192.0.2.2" addrtype="ipv4"/></host>`,
    );
    const scanResult = toScanResult(parseNmapXml(xml));
    expect(scanResult.host_info).toEqual({ status: 'down', latency: null });
    expect(scanResult.hosts.map((h) => [h.status, h.latency])).toEqual([
      ['down', null],
      ['down', null],
    ]);
  });
});

describe('parseNmapXml rejects what is not complete nmap XML', () => {
  it('truncated output', () => {
    expect(() => parseNmapXml(fixture('truncated.xml'))).toThrow(NmapOutputError);
    expect(() => parseNmapXml(fixture('truncated.xml'))).toThrow(/truncated/);
  });

  it('the real output of an nmap killed mid-scan', () => {
    expect(() => parseNmapXml(fixture('killed-during-service-scan.xml'))).toThrow(
      /<nmaprun> is never closed \(output truncated\?\)/,
    );
  });

  it('every prefix of a real output', () => {
    const xml = fixture('quick-top1000.xml');
    const end = xml.lastIndexOf('</nmaprun>');
    for (let cut = 0; cut < end; cut += 7) {
      expect(() => parseNmapXml(xml.slice(0, cut)), `cut at ${cut}`).toThrow(NmapOutputError);
    }
    expect(() => parseNmapXml(xml.slice(0, end + '</nmaprun>'.length))).not.toThrow();
  });

  it('empty output, non-XML, other XML', () => {
    expect(() => parseNmapXml('')).toThrow(/empty output/);
    expect(() => parseNmapXml('   \n')).toThrow(/empty output/);
    expect(() => parseNmapXml('Starting Nmap 7.93 ( https://nmap.org )\nNmap done')).toThrow(NmapOutputError);
    expect(() => parseNmapXml('<html><body>hi</body></html>')).toThrow(/not nmap XML output: root element is <html>/);
    expect(() => parseNmapXml('<nmaprun scanner="masscan"></nmaprun>')).toThrow(/without scanner="nmap"/);
    expect(() => parseNmapXml('<nmaprun scanner="nmap"></nmaprun>')).toThrow(/no <runstats><finished\/>/);
  });

  it('malformed XML', () => {
    const bad = [
      doc('<host></hosts>'),
      doc('<host>') + '',
      doc('') + '<nmaprun scanner="nmap"/>',
      doc('') + 'trailing text',
      doc('<host a="1" a="2"></host>'),
      doc('<host a=1></host>'),
      doc('<host a="x &foo; y"></host>'),
      doc('<host a="x & y"></host>'),
      doc('<host a="&#xD800;"></host>'),
      doc('<host a="&#1114112;"></host>'),
      doc('<host a="<"></host>'),
      doc('<!-- never closed '),
      doc('<host><![CDATA[ never closed </host>'),
      doc('<host a="1"b="2"></host>'),
    ];
    for (const xml of bad) expect(() => parseNmapXml(xml), xml).toThrow(NmapOutputError);
  });

  it('a DOCTYPE with an internal subset (entity expansion)', () => {
    const bomb = `<?xml version="1.0"?><!DOCTYPE nmaprun [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;">]><nmaprun scanner="nmap" args="&b;"></nmaprun>`;
    expect(() => parseNmapXml(bomb)).toThrow(/internal subset/);
  });

  it('a port or host missing what nmap always writes', () => {
    expect(() => parseNmapXml(doc('<host><status state="up"/></host>'))).toThrow(/without <address>/);
    expect(() => parseNmapXml(doc('<host><address addr="127.0.0.1" addrtype="ipv4"/></host>'))).toThrow(
      /without <status>/,
    );
    const port = (p: string) =>
      doc(`<host><status state="up"/><address addr="127.0.0.1" addrtype="ipv4"/><ports>${p}</ports></host>`);
    expect(() => parseNmapXml(port('<port protocol="tcp" portid="80"></port>'))).toThrow(/has no <state>/);
    expect(() => parseNmapXml(port('<port protocol="tcp" portid="x"><state state="open"/></port>'))).toThrow(
      /bad portid/,
    );
    expect(() => parseNmapXml(port('<port protocol="tcp" portid="70000"><state state="open"/></port>'))).toThrow(
      /bad portid/,
    );
  });
});

describe('the XML reader (synthetic documents)', () => {
  const host = (attrs: string, body = '') =>
    doc(`<host><status state="up"/><address addr="127.0.0.1" addrtype="ipv4"/><ports>
<port protocol="tcp" portid="80"><state state="open"/><service name="http" ${attrs}>${body}</service></port>
</ports></host>`);

  it('named and numeric entities, either quote, whitespace around =, > inside values', () => {
    const result = parseNmapXml(
      host(
        `product='a &quot;b&quot; &amp; &lt;c&gt; &apos;d&apos;' version = "&#65;&#x42;&#x1F600;" extrainfo="x > y"`,
      ),
    );
    expect(result.hosts[0]?.open_ports[0]).toMatchObject({
      product: 'a "b" & <c> \'d\'',
      version: 'AB😀',
      extrainfo: 'x > y',
    });
  });

  it('comments, processing instructions and CDATA anywhere, BOM at the start', () => {
    const xml = `\ufeff${host('method="probed"', '<!-- a <comment> --><cpe>cpe:/a:x<![CDATA[:<y>]]></cpe><?pi x?>')}<!-- after -->`;
    expect(parseNmapXml(xml).hosts[0]?.open_ports[0]?.cpe).toEqual(['cpe:/a:x:<y>']);
  });

  it('open|filtered and other states are counted, not listed as open', () => {
    const xml = doc(`<host><status state="up"/><address addr="127.0.0.1" addrtype="ipv4"/><ports>
<extraports state="open|filtered" count="10"/>
<port protocol="udp" portid="53"><state state="open|filtered"/><service name="domain"/></port>
<port protocol="udp" portid="161"><state state="open"/><service name="snmp"/></port>
<port protocol="tcp" portid="25"><state state="unfiltered"/></port>
</ports><times srtt="-1" rttvar="-1" to="1000000"/></host>`);
    const [h] = parseNmapXml(xml).hosts;
    expect(h?.open_ports.map((p) => `${p.port}/${p.protocol}`)).toEqual(['161/udp']);
    expect(h?.port_counts).toEqual({ 'open|filtered': 11, open: 1, unfiltered: 1 });
    expect(h?.latency).toBeNull();
  });

  it('an error exit recorded by nmap', () => {
    const result = parseNmapXml(doc('', ' errormsg="something broke"').replace('exit="success"', 'exit="error"'));
    expect(result.runstats).toMatchObject({ exit: 'error', errormsg: 'something broke' });
  });

  it('a MAC address before the IP one (LAN scans)', () => {
    const xml = doc(
      '<host><status state="up"/><address addr="00:11:22:33:44:55" addrtype="mac"/><address addr="192.0.2.7" addrtype="ipv4"/></host>',
    );
    expect(parseNmapXml(xml).hosts[0]?.address).toBe('192.0.2.7');
  });
});
