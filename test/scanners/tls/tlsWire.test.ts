/**
 * The hellos we send, read back byte by byte, the cipher suite table, and the
 * TLS 1.3 key schedule (RFC 8448 values and round trips for every AEAD).
 */
import { describe, expect, it } from 'vitest';
import {
  LEGACY_OFFER,
  SSL2_CIPHER_SPECS,
  suiteById,
  TLS13_OFFER,
  TLS_SUITES,
} from '../../../scanners/tls/cipherSuites.js';
import { groupById, NAMED_GROUPS } from '../../../scanners/tls/namedGroups.js';
import { parseExtensions, reader } from '../../../scanners/tls/tlsMessages.parser.js';
import {
  decryptRecord,
  encryptRecord,
  generateKeyShare,
  hkdfExpandLabel,
  hkdfExtract,
  serverHandshakeKeys,
  tls13SuiteParams,
  transcriptHash,
} from '../../../scanners/tls/tls13Keys.js';
import {
  buildClientHello,
  buildHeartbeatProbe,
  buildSslv2ClientHello,
  Extension,
  sniName,
  SSL3,
  TLS10,
  TLS12,
  TLS13,
} from '../../../scanners/tls/tlsWire.js';

function readHello(bytes: Buffer) {
  const record = reader(bytes, 'record');
  const type = record.u8();
  const recordVersion = record.u16();
  const body = reader(record.vec16(), 'handshake');
  const handshakeType = body.u8();
  const hello = reader(body.vec24(), 'ClientHello');
  const version = hello.u16();
  hello.bytes(32);
  const sessionId = hello.vec8();
  const suitesRaw = hello.vec16();
  const suites: number[] = [];
  for (let i = 0; i < suitesRaw.length; i += 2) suites.push(suitesRaw.readUInt16BE(i));
  const compression = [...hello.vec8()];
  const extensions = hello.remaining > 0 ? parseExtensions(hello.vec16(), 'extensions') : null;
  return {
    type,
    recordVersion,
    handshakeType,
    version,
    sessionId,
    suites,
    compression,
    extensions,
    total: bytes.length,
  };
}

describe('ClientHello', () => {
  it('a TLS 1.2 hello: SNI, groups, signature algorithms, renegotiation_info, padded past 511 bytes', () => {
    const hello = readHello(
      buildClientHello({
        version: TLS12,
        cipherSuites: LEGACY_OFFER.slice(0, 100),
        serverName: 'example.com',
        groups: [29, 23],
        signatureAlgorithms: [0x0403],
        renegotiationInfo: true,
        compressionMethods: [1, 0],
      }).bytes,
    );
    expect(hello).toMatchObject({
      type: 22,
      recordVersion: TLS10,
      handshakeType: 1,
      version: TLS12,
      compression: [1, 0],
    });
    expect(hello.suites).toEqual(LEGACY_OFFER.slice(0, 100));
    const ext = hello.extensions!;
    expect(ext.get(Extension.serverName)!.subarray(5).toString()).toBe('example.com');
    expect([...ext.get(Extension.supportedGroups)!]).toEqual([0, 4, 0, 29, 0, 23]);
    expect([...ext.get(Extension.renegotiationInfo)!]).toEqual([0]);
    expect(ext.has(Extension.padding)).toBe(true);
    expect(hello.total - 5).toBeGreaterThanOrEqual(512);
  });

  it('no SNI for an IP literal; SSLv3 hellos carry no extensions', () => {
    expect(sniName('127.0.0.1')).toBeNull();
    expect(sniName('::1')).toBeNull();
    expect(sniName('example.com.')).toBe('example.com');
    const ip = readHello(buildClientHello({ version: TLS12, cipherSuites: [0x002f], serverName: '10.0.0.1' }).bytes);
    expect(ip.extensions?.has(Extension.serverName)).toBe(false);
    const ssl3 = readHello(
      buildClientHello({ version: SSL3, cipherSuites: [0x000a, 0x00ff], noExtensions: true }).bytes,
    );
    expect(ssl3).toMatchObject({ recordVersion: SSL3, version: SSL3, extensions: null, suites: [0x000a, 0x00ff] });
  });

  it('a TLS 1.3 hello: supported_versions, key_share, psk modes', () => {
    const share = generateKeyShare(29);
    const hello = readHello(
      buildClientHello({
        version: TLS12,
        cipherSuites: [0x1301],
        supportedVersions: [TLS13],
        keyShares: [{ group: 29, key: share.publicKey }],
        sessionId: Buffer.alloc(32, 1),
      }).bytes,
    );
    expect(hello.sessionId).toHaveLength(32);
    expect([...hello.extensions!.get(Extension.supportedVersions)!]).toEqual([2, 3, 4]);
    const keyShare = hello.extensions!.get(Extension.keyShare)!;
    expect(keyShare.readUInt16BE(0)).toBe(36);
    expect(keyShare.readUInt16BE(2)).toBe(29);
    expect(keyShare.subarray(6).equals(share.publicKey)).toBe(true);
    const empty = readHello(buildClientHello({ version: TLS12, cipherSuites: [0x1301], keyShares: [] }).bytes);
    expect([...empty.extensions!.get(Extension.keyShare)!]).toEqual([0, 0]);
  });

  it('the SSLv2 CLIENT-HELLO', () => {
    const specs = SSL2_CIPHER_SPECS.map((s) => s.id);
    const hello = buildSslv2ClientHello(specs, Buffer.alloc(16, 7));
    expect(hello[0]! & 0x80).toBe(0x80);
    expect(((hello[0]! & 0x7f) << 8) | hello[1]!).toBe(hello.length - 2);
    expect([...hello.subarray(2, 5)]).toEqual([1, 0, 2]);
    expect(hello.readUInt16BE(5)).toBe(specs.length * 3);
    expect(hello.subarray(-16).equals(Buffer.alloc(16, 7))).toBe(true);
  });

  it('the heartbeat probe claims exactly its own payload and padding', () => {
    const probe = buildHeartbeatProbe(TLS12, Buffer.from('abc'));
    expect([...probe.subarray(0, 5)]).toEqual([24, 3, 3, 0, 22]);
    expect(probe[5]).toBe(1);
    expect(probe.readUInt16BE(6)).toBe(3 + 16); // = what follows: a correct server has no room for padding
    expect(probe.length - 8).toBe(19);
  });
});

describe('cipher suite and group tables', () => {
  it('IANA names, OpenSSL names and weaknesses', () => {
    expect(suiteById(0xc02f)).toMatchObject({
      name: 'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256',
      opensslName: 'ECDHE-RSA-AES128-GCM-SHA256',
      strength: 'strong',
      forwardSecrecy: true,
      aead: true,
      registered: true,
    });
    expect(suiteById(0x000a)).toMatchObject({
      strength: 'weak',
      cbc: true,
      weaknesses: ['64bit_block', 'no_forward_secrecy'],
    });
    expect(suiteById(0x0003).weaknesses).toEqual(['export', 'rc4', 'md5', 'no_forward_secrecy']);
    expect(suiteById(0x00a7).weaknesses).toContain('anonymous');
    expect(suiteById(0xcc13)).toMatchObject({
      registered: false,
      name: 'TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256_OLD',
    });
    expect(suiteById(0x1234).name).toBe('UNKNOWN_0x1234');
    expect(suiteById(0xfefe)).toMatchObject({ name: 'SSL_RSA_FIPS_WITH_DES_CBC_SHA', registered: false });
    expect(new Set(TLS_SUITES.map((s) => s.id)).size).toBe(TLS_SUITES.length);
  });

  it('offers: every non-TLS 1.3 suite once, the most common first; TLS 1.3 suites apart', () => {
    expect(new Set(LEGACY_OFFER).size).toBe(LEGACY_OFFER.length);
    expect(LEGACY_OFFER).not.toContain(0x0000);
    expect(LEGACY_OFFER.slice(0, 128)).toContain(0xc02f);
    expect(LEGACY_OFFER.slice(0, 128)).toContain(0x000a);
    expect(TLS13_OFFER.slice(0, 5)).toEqual([0x1301, 0x1302, 0x1303, 0x1304, 0x1305]);
    expect(LEGACY_OFFER.some((id) => TLS13_OFFER.includes(id))).toBe(false);
  });

  it('groups', () => {
    expect(groupById(29)).toMatchObject({ name: 'x25519', bits: 128, tls13: true });
    expect(groupById(0x11ec).name).toBe('X25519MLKEM768');
    expect(new Set(NAMED_GROUPS.map((g) => g.id)).size).toBe(NAMED_GROUPS.length);
  });
});

describe('TLS 1.3 key schedule', () => {
  it('early and derived secrets match RFC 8448', () => {
    const zeros = Buffer.alloc(32);
    const early = hkdfExtract('sha256', zeros, zeros);
    expect(early.toString('hex')).toBe('33ad0a1c607ec03b09e6cd9893680ce210adf300aa1f2660e1b22e10f170f92a');
    expect(hkdfExpandLabel('sha256', early, 'derived', transcriptHash('sha256', []), 32).toString('hex')).toBe(
      '6f2615a108c702c5678f54fc9dbab69716c076189c48250cebeac3576c3611ba',
    );
  });

  it('every RFC 8446 AEAD decrypts what it encrypted, and rejects a flipped bit', () => {
    for (const suite of [0x1301, 0x1302, 0x1303, 0x1304, 0x1305]) {
      const params = tls13SuiteParams(suite)!;
      const keys = serverHandshakeKeys(params, Buffer.alloc(32, 3), [Buffer.from('hello')]);
      const record = encryptRecord(keys, 22, Buffer.from('certificate'), 2);
      const inner = decryptRecord(keys, record.subarray(0, 5), record.subarray(5), 2);
      expect(inner, suite.toString(16)).toEqual({ contentType: 22, content: Buffer.from('certificate') });
      const tampered = Buffer.from(record);
      tampered[8]! ^= 1;
      expect(() => decryptRecord(keys, tampered.subarray(0, 5), tampered.subarray(5), 2)).toThrow();
      expect(() => decryptRecord(keys, record.subarray(0, 5), record.subarray(5), 3)).toThrow();
    }
    expect(tls13SuiteParams(0xc0b4)).toBeNull();
  });

  it('key shares agree with themselves', () => {
    for (const group of [29, 30, 23, 24, 25]) {
      const a = generateKeyShare(group);
      const b = generateKeyShare(group);
      expect(a.computeSecret(b.publicKey).equals(b.computeSecret(a.publicKey)), String(group)).toBe(true);
    }
  });
});
