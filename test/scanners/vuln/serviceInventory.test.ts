/** The service inventory of a real discovery run (fixtures/discovery-loopback-services.xml, nmap 7.93). */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseNmapXml } from '../../../scanners/nmap/nmapParser.js';
import {
  httpScheme,
  isHttpService,
  serviceInventory,
  tlsVerdict,
  type ServiceRecord,
} from '../../../scanners/vuln/serviceInventory.js';

const discovery = parseNmapXml(
  readFileSync(new URL('./fixtures/discovery-loopback-services.xml', import.meta.url), 'utf8'),
);

describe('serviceInventory', () => {
  const services = serviceInventory(discovery, 'shop.example.test');

  it('one service per open TCP port, named by the target, with product, version, CPE and banner', () => {
    expect(services.map((s) => [s.port, s.service, s.product, s.version])).toEqual([
      [33247, 'ssh', 'Dropbear sshd', '2022.83'],
      [35367, 'http', 'Apache httpd', '2.4.49'],
      [43721, 'imap', 'Dovecot imapd', undefined],
      [44975, 'ftp', 'vsftpd', '3.0.3'],
      [46639, 'smtp', 'Postfix smtpd', undefined],
    ]);
    for (const s of services) expect(s.host).toBe('shop.example.test');
    expect(services.find((s) => s.port === 44975)).toMatchObject({
      protocol: 'tcp',
      cpe: ['cpe:/a:vsftpd:vsftpd:3.0.3'],
      banner: '220 (vsFTPd 3.0.3)',
      method: 'probed',
    });
    expect(services.find((s) => s.port === 43721)).toMatchObject({ tunnel: 'ssl', cpe: ['cpe:/a:dovecot:dovecot'] });
    expect(services.find((s) => s.port === 46639)?.banner).toBe('220 mail.example.test ESMTP Postfix (Debian/GNU)');
  });

  it('TLS: found inside TLS is yes, a probed plain-text protocol is no', () => {
    expect(services.map((s) => [s.port, tlsVerdict(s)])).toEqual([
      [33247, 'no'],
      [35367, 'no'],
      [43721, 'yes'],
      [44975, 'no'],
      [46639, 'no'],
    ]);
  });

  it('HTTP: the services nmap names HTTP', () => {
    expect(services.filter(isHttpService).map((s) => s.port)).toEqual([35367]);
  });
});

describe('classification of services nmap could not probe', () => {
  const service = (overrides: Partial<ServiceRecord>): ServiceRecord => ({
    host: 'h',
    port: 8443,
    protocol: 'tcp',
    service: 'unknown',
    cpe: [],
    method: null,
    ...overrides,
  });

  it('a port-number guess or an unidentified service needs a handshake to tell', () => {
    expect(tlsVerdict(service({ service: 'https-alt', method: 'table' }))).toBe('unknown');
    expect(tlsVerdict(service({ service: 'tcpwrapped', method: 'probed' }))).toBe('unknown');
    expect(tlsVerdict(service({ service: 'unknown' }))).toBe('unknown');
    expect(tlsVerdict(service({ service: 'https', method: 'probed' }))).toBe('yes');
    expect(tlsVerdict(service({ service: 'imaps', method: 'probed' }))).toBe('yes');
  });

  it('scheme: https when the port speaks TLS or nmap calls it https', () => {
    expect(httpScheme(service({ service: 'http' }), false)).toBe('http');
    expect(httpScheme(service({ service: 'http' }), true)).toBe('https');
    expect(httpScheme(service({ service: 'http', tunnel: 'ssl' }), false)).toBe('https');
    expect(httpScheme(service({ service: 'https-alt', method: 'table' }), false)).toBe('https');
    expect(isHttpService(service({ service: 'http-proxy' }))).toBe(true);
    expect(isHttpService(service({ service: 'ssh' }))).toBe(false);
  });
});
