/**
 * The TLS message parsers on bytes real servers sent (fixtures/capture.ts): OpenSSL
 * TLS 1.2 flights (ECDHE, DHE), its alerts to SSLv3 and SSLv2 hellos, a node:https
 * flight with a stapled OCSP response, an OpenSSL HelloRetryRequest, a GnuTLS TLS 1.3
 * flight decrypted with the private key we used, and an HTTP server's answer.
 */
import { createPrivateKey, createPublicKey, diffieHellman, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseOcspResponse } from '../../../scanners/tls/certificate.parser.js';
import { decryptServerFlight, locateServerHello } from '../../../scanners/tls/tlsCertificates.js';
import { answerComplete, classifyAnswer } from '../../../scanners/tls/tlsExchange.js';
import {
  handshakeMessages,
  parseCertificateList,
  parseCertificateStatus,
  parseServerHello,
  parseServerKeyExchange,
  parseSslv2ServerHello,
  parseTls13Certificate,
  scanRecords,
  TlsParseError,
} from '../../../scanners/tls/tlsMessages.parser.js';
import { serverHandshakeKeys, tls13SuiteParams } from '../../../scanners/tls/tls13Keys.js';
import { Extension, HandshakeType } from '../../../scanners/tls/tlsWire.js';

const fixtures = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');
const json = (name: string) => JSON.parse(readFileSync(join(fixtures, name), 'utf8')) as Record<string, string>;
const bytes = (name: string, field = 'answer') => Buffer.from(json(name)[field]!, 'hex');
const recordsOf = (data: Buffer) => {
  const scan = scanRecords(data);
  if (scan.kind !== 'tls') throw new Error(`not TLS records: ${scan.kind}`);
  return scan.records;
};
const derOf = (pem: string) => new X509Certificate(readFileSync(join(fixtures, pem))).raw;

describe('TLS 1.2 flights (OpenSSL s_server)', () => {
  it('ECDHE: ServerHello, Certificate, ServerKeyExchange (x25519), ServerHelloDone', () => {
    const data = bytes('openssl-tls12-ecdhe.json');
    const scan = scanRecords(data);
    expect(scan.kind).toBe('tls');
    if (scan.kind !== 'tls') return;
    expect(scan.pending).toBe(0);
    const messages = handshakeMessages(scan.records);
    expect(messages.map((m) => m.type)).toEqual([
      HandshakeType.serverHello,
      HandshakeType.certificate,
      HandshakeType.serverKeyExchange,
      HandshakeType.serverHelloDone,
    ]);
    const hello = parseServerHello(messages[0]!.body);
    expect(hello).toMatchObject({ legacyVersion: 0x0303, version: 0x0303, cipherSuite: 0xc030, compressionMethod: 0 });
    expect(hello.helloRetryRequest).toBe(false);
    expect(hello.extensions.has(Extension.renegotiationInfo)).toBe(true);
    expect(hello.extensions.has(Extension.extendedMasterSecret)).toBe(true);
    expect(hello.extensions.has(Extension.heartbeat)).toBe(false);
    const chain = parseCertificateList(messages[1]!.body);
    expect(chain).toHaveLength(1);
    expect(chain[0]!.equals(derOf('legacy.pem'))).toBe(true);
    expect(parseServerKeyExchange(messages[2]!.body, 'ECDH')).toEqual({ kind: 'ecdhe', group: 29, publicKeyBytes: 32 });
    const outcome = classifyAnswer(data, 'ready');
    expect(outcome).toMatchObject({ kind: 'server_hello', complete: true });
  });

  it('DHE: the ServerKeyExchange carries a 1024-bit prime (SECLEVEL=0)', () => {
    const messages = handshakeMessages(recordsOf(bytes('openssl-tls12-dhe.json')));
    const hello = parseServerHello(messages[0]!.body);
    expect(hello.cipherSuite).toBe(0x009f);
    const ske = messages.find((m) => m.type === HandshakeType.serverKeyExchange)!;
    const params = parseServerKeyExchange(ske.body, 'DH');
    expect(params).toMatchObject({ kind: 'dhe', primeBits: 1024 });
  });

  it('waits for the whole flight, and classifies a cut-off one', () => {
    const data = bytes('openssl-tls12-ecdhe.json');
    expect(answerComplete(data, 'flight')).toBe(true);
    for (const cut of [3, 5, 60, data.length - 4]) {
      expect(answerComplete(data.subarray(0, cut), 'flight'), String(cut)).toBe(false);
    }
    expect(answerComplete(data.subarray(0, 100), 'server_hello')).toBe(true);
    expect(classifyAnswer(data.subarray(0, 30), 'timeout')).toEqual({ kind: 'timeout', partial: true });
    expect(classifyAnswer(data.subarray(0, 30), 'closed')).toEqual({ kind: 'closed', reset: false, partial: true });
    expect(classifyAnswer(Buffer.alloc(0), 'closed', { reset: true })).toEqual({
      kind: 'closed',
      reset: true,
      partial: false,
    });
  });

  it('refuses to read past the end of a truncated message', () => {
    const messages = handshakeMessages(recordsOf(bytes('openssl-tls12-ecdhe.json')));
    expect(() => parseServerHello(messages[0]!.body.subarray(0, 40))).toThrow(TlsParseError);
    expect(() => parseCertificateList(messages[1]!.body.subarray(0, 50))).toThrow(TlsParseError);
    expect(() => parseServerKeyExchange(messages[2]!.body.subarray(0, 3), 'ECDH')).toThrow(TlsParseError);
  });
});

describe('alerts', () => {
  it('OpenSSL 3 answers an SSLv3 hello with handshake_failure', () => {
    expect(classifyAnswer(bytes('openssl-ssl3-alert.json'), 'closed')).toEqual({
      kind: 'alert',
      alert: { level: 2, description: 40 },
    });
  });

  it('and an SSLv2 CLIENT-HELLO with a TLS protocol_version alert', () => {
    expect(classifyAnswer(bytes('openssl-sslv2-alert.json'), 'closed')).toEqual({
      kind: 'alert',
      alert: { level: 2, description: 70 },
    });
  });
});

describe('OCSP stapling (node:https, TLS 1.2)', () => {
  it('reads the CertificateStatus message and the OCSP response in it', () => {
    const messages = handshakeMessages(recordsOf(bytes('node-tls12-ocsp.json')));
    const hello = parseServerHello(messages[0]!.body);
    expect(hello.extensions.has(Extension.statusRequest)).toBe(true);
    const chain = parseCertificateList(messages.find((m) => m.type === HandshakeType.certificate)!.body);
    expect(chain.map((c) => c.equals(derOf('modern-leaf.pem')))).toEqual([true, false]);
    expect(chain[1]!.equals(derOf('modern-intermediate.pem'))).toBe(true);
    const status = messages.find((m) => m.type === HandshakeType.certificateStatus)!;
    const ocsp = parseCertificateStatus(status.body)!;
    expect(ocsp.equals(readFileSync(join(fixtures, 'modern-ocsp.der')))).toBe(true);
    expect(parseOcspResponse(ocsp)).toMatchObject({ responseStatus: 'successful', certStatus: 'good' });
  });
});

describe('TLS 1.3', () => {
  it('a HelloRetryRequest names the group the server wants', () => {
    const hello = parseServerHello(handshakeMessages(recordsOf(bytes('node-tls13-hrr.json')))[0]!.body);
    expect(hello.helloRetryRequest).toBe(true);
    expect(hello.version).toBe(0x0304);
    expect(hello.legacyVersion).toBe(0x0303);
    expect(hello.keyShare).toEqual({ group: 23 });
    expect(TLS13_SUITES).toContain(hello.cipherSuite);
  });

  it('decrypts the GnuTLS flight with our key share: EncryptedExtensions … Certificate … Finished', () => {
    const fixture = json('gnutls-tls13.json');
    const data = Buffer.from(fixture.answer!, 'hex');
    const located = locateServerHello(data, 0);
    if (!located || 'alert' in located) throw new Error('no ServerHello in the fixture');
    expect(located.hello).toMatchObject({ version: 0x0304, helloRetryRequest: false });
    expect(located.hello.keyShare?.group).toBe(29);
    const privateKey = createPrivateKey({ key: Buffer.from(fixture.privateKey!, 'hex'), format: 'der', type: 'pkcs8' });
    const serverKey = createPublicKey({
      key: Buffer.concat([Buffer.from('302a300506032b656e032100', 'hex'), located.hello.keyShare!.key!]),
      format: 'der',
      type: 'spki',
    });
    const shared = diffieHellman({ privateKey, publicKey: serverKey });
    const params = tls13SuiteParams(located.hello.cipherSuite)!;
    const keys = serverHandshakeKeys(params, shared, [Buffer.from(fixture.helloMessage!, 'hex'), located.raw]);
    const flight = decryptServerFlight(data, located.end, keys);
    expect(flight.alert).toBeUndefined();
    const types = flight.messages.map((m) => m.type);
    expect(types[0]).toBe(HandshakeType.encryptedExtensions);
    expect(types).toContain(HandshakeType.certificate);
    expect(types).toContain(HandshakeType.certificateVerify);
    expect(types.at(-1)).toBe(HandshakeType.finished);
    const entries = parseTls13Certificate(flight.messages.find((m) => m.type === HandshakeType.certificate)!.body);
    expect(entries).toHaveLength(1);
    expect(entries[0]!.der.equals(derOf('gnutls.pem'))).toBe(true);
    expect(entries[0]!.ocspResponse).toBeUndefined();
    // The wrong keys fail loudly instead of yielding garbage.
    const wrong = serverHandshakeKeys(params, Buffer.alloc(32, 1), [
      Buffer.from(fixture.helloMessage!, 'hex'),
      located.raw,
    ]);
    expect(() => decryptServerFlight(data, located.end, wrong)).toThrow(TlsParseError);
  });
});

const TLS13_SUITES = [0x1301, 0x1302, 0x1303, 0x1304, 0x1305];

describe('what is not TLS', () => {
  it('an HTTP server answers a ClientHello with 400 Bad Request', () => {
    const outcome = classifyAnswer(bytes('http-answer.json'), 'closed');
    expect(outcome.kind).toBe('not_tls');
    expect(outcome.kind === 'not_tls' && outcome.preview).toMatch(/^HTTP\/1\.1 400 Bad Request/);
  });

  it('banners and garbage', () => {
    expect(scanRecords(Buffer.from('SSH-2.0-OpenSSH_9.2\r\n'))).toEqual({
      kind: 'not_tls',
      preview: 'SSH-2.0-OpenSSH_9.2',
    });
    expect(scanRecords(Buffer.from([0x16, 0x04, 0x00]))).toMatchObject({ kind: 'not_tls' });
    expect(scanRecords(Buffer.from([0x16, 0x03, 0x03, 0x50, 0x00, 0x01]))).toMatchObject({ kind: 'not_tls' }); // 18 KiB+ record
    expect(scanRecords(Buffer.alloc(0))).toEqual({ kind: 'empty' });
  });
});

describe('SSLv2 SERVER-HELLO', () => {
  it('reads the certificate and the shared cipher specs', () => {
    const certificate = derOf('legacy.pem');
    const specs = Buffer.from('0100800700c0', 'hex');
    const body = Buffer.concat([
      Buffer.from([4, 0, 1, 0x00, 0x02]),
      Buffer.from([certificate.length >> 8, certificate.length & 0xff, 0, specs.length, 0, 16]),
      certificate,
      specs,
      Buffer.alloc(16, 0xaa),
    ]);
    const hello = parseSslv2ServerHello(body);
    expect(hello).toMatchObject({ version: 2, certificateType: 1, cipherSpecs: [0x010080, 0x0700c0] });
    expect(hello.certificate.equals(certificate)).toBe(true);
    const record = Buffer.concat([Buffer.from([0x80 | (body.length >> 8), body.length & 0xff]), body]);
    expect(classifyAnswer(record, 'ready')).toMatchObject({ kind: 'sslv2' });
    expect(() => parseSslv2ServerHello(body.subarray(0, 20))).toThrow(TlsParseError);
  });
});
