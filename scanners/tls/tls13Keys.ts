/**
 * Just enough of TLS 1.3 (RFC 8446 section 7) to read what a server encrypts in its
 * first flight — EncryptedExtensions, Certificate (the chain as served, with a
 * stapled OCSP response), CertificateVerify — without ever finishing a handshake:
 * key shares for the groups Node can compute, the handshake key schedule, and
 * record decryption for the RFC 8446 AEAD suites. Pure, apart from generating keys.
 */
import {
  createCipheriv,
  createDecipheriv,
  createECDH,
  createHash,
  createHmac,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  type CipherGCM,
  type DecipherGCM,
  type KeyObject,
} from 'node:crypto';
import { TlsParseError } from './tlsMessages.parser.js';
import { GROUP_SECP256R1, GROUP_SECP384R1, GROUP_SECP521R1, GROUP_X25519, GROUP_X448 } from './namedGroups.js';

/** Groups we can finish a key exchange with (others: we can only see that the server accepts them). */
export const COMPUTABLE_GROUPS: readonly number[] = [
  GROUP_X25519,
  GROUP_SECP256R1,
  GROUP_SECP384R1,
  GROUP_SECP521R1,
  GROUP_X448,
];

export interface KeyShare {
  readonly group: number;
  /** What goes in the ClientHello's key_share. */
  readonly publicKey: Buffer;
  /** The shared secret with the server's share. */
  computeSecret(peer: Buffer): Buffer;
}

const SPKI_PREFIX: Readonly<Record<number, Buffer>> = {
  [GROUP_X25519]: Buffer.from('302a300506032b656e032100', 'hex'),
  [GROUP_X448]: Buffer.from('3042300506032b656f033900', 'hex'),
};
const EC_CURVE: Readonly<Record<number, string>> = {
  [GROUP_SECP256R1]: 'prime256v1',
  [GROUP_SECP384R1]: 'secp384r1',
  [GROUP_SECP521R1]: 'secp521r1',
};

export function generateKeyShare(group: number): KeyShare {
  const prefix = SPKI_PREFIX[group];
  if (prefix) {
    const { privateKey, publicKey } =
      group === GROUP_X25519 ? generateKeyPairSync('x25519') : generateKeyPairSync('x448');
    const raw = (publicKey.export({ format: 'der', type: 'spki' }) as Buffer).subarray(prefix.length);
    return {
      group,
      publicKey: Buffer.from(raw),
      computeSecret(peer) {
        const peerKey: KeyObject = createPublicKey({
          key: Buffer.concat([prefix, peer]),
          format: 'der',
          type: 'spki',
        });
        return diffieHellman({ privateKey, publicKey: peerKey });
      },
    };
  }
  const curve = EC_CURVE[group];
  if (!curve) throw new Error(`cannot compute a key share for group ${group}`);
  const ecdh = createECDH(curve);
  const publicKey = ecdh.generateKeys();
  return { group, publicKey, computeSecret: (peer) => ecdh.computeSecret(peer) };
}

export interface Tls13SuiteParams {
  readonly hash: 'sha256' | 'sha384';
  readonly cipher: 'aes-128-gcm' | 'aes-256-gcm' | 'chacha20-poly1305' | 'aes-128-ccm';
  readonly keyLength: number;
  readonly tagLength: number;
}

/** The RFC 8446 suites we can decrypt. */
export function tls13SuiteParams(suite: number): Tls13SuiteParams | null {
  switch (suite) {
    case 0x1301:
      return { hash: 'sha256', cipher: 'aes-128-gcm', keyLength: 16, tagLength: 16 };
    case 0x1302:
      return { hash: 'sha384', cipher: 'aes-256-gcm', keyLength: 32, tagLength: 16 };
    case 0x1303:
      return { hash: 'sha256', cipher: 'chacha20-poly1305', keyLength: 32, tagLength: 16 };
    case 0x1304:
      return { hash: 'sha256', cipher: 'aes-128-ccm', keyLength: 16, tagLength: 16 };
    case 0x1305:
      return { hash: 'sha256', cipher: 'aes-128-ccm', keyLength: 16, tagLength: 8 };
    default:
      return null;
  }
}

const hashLength = (hash: 'sha256' | 'sha384') => (hash === 'sha256' ? 32 : 48);

export function hkdfExtract(hash: 'sha256' | 'sha384', salt: Buffer, ikm: Buffer): Buffer {
  return createHmac(hash, salt).update(ikm).digest();
}

export function hkdfExpand(hash: 'sha256' | 'sha384', prk: Buffer, info: Buffer, length: number): Buffer {
  const blocks: Buffer[] = [];
  let previous = Buffer.alloc(0);
  for (let i = 1; Buffer.concat(blocks).length < length; i++) {
    previous = createHmac(hash, prk)
      .update(Buffer.concat([previous, info, Buffer.from([i])]))
      .digest();
    blocks.push(previous);
  }
  return Buffer.concat(blocks).subarray(0, length);
}

export function hkdfExpandLabel(
  hash: 'sha256' | 'sha384',
  secret: Buffer,
  label: string,
  context: Buffer,
  length: number,
): Buffer {
  const fullLabel = Buffer.from(`tls13 ${label}`, 'ascii');
  const info = Buffer.concat([
    Buffer.from([length >> 8, length & 0xff, fullLabel.length]),
    fullLabel,
    Buffer.from([context.length]),
    context,
  ]);
  return hkdfExpand(hash, secret, info, length);
}

export function transcriptHash(hash: 'sha256' | 'sha384', messages: readonly Buffer[]): Buffer {
  const h = createHash(hash);
  for (const message of messages) h.update(message);
  return h.digest();
}

/** The synthetic message that replaces ClientHello1 in the transcript after a HelloRetryRequest. */
export function messageHashOf(hash: 'sha256' | 'sha384', clientHello1: Buffer): Buffer {
  const digest = transcriptHash(hash, [clientHello1]);
  return Buffer.concat([Buffer.from([254, 0, 0, digest.length]), digest]);
}

export interface TrafficKeys {
  readonly params: Tls13SuiteParams;
  readonly key: Buffer;
  readonly iv: Buffer;
}

/** The server's handshake traffic keys, from the shared secret and the transcript up to ServerHello. */
export function serverHandshakeKeys(
  params: Tls13SuiteParams,
  sharedSecret: Buffer,
  transcript: readonly Buffer[],
): TrafficKeys {
  const { hash } = params;
  const zeros = Buffer.alloc(hashLength(hash));
  const early = hkdfExtract(hash, zeros, zeros);
  const derived = hkdfExpandLabel(hash, early, 'derived', transcriptHash(hash, []), hashLength(hash));
  const handshakeSecret = hkdfExtract(hash, derived, sharedSecret);
  const serverSecret = hkdfExpandLabel(
    hash,
    handshakeSecret,
    's hs traffic',
    transcriptHash(hash, transcript),
    hashLength(hash),
  );
  return {
    params,
    key: hkdfExpandLabel(hash, serverSecret, 'key', Buffer.alloc(0), params.keyLength),
    iv: hkdfExpandLabel(hash, serverSecret, 'iv', Buffer.alloc(0), 12),
  };
}

function nonceOf(iv: Buffer, sequence: number): Buffer {
  const nonce = Buffer.from(iv);
  let seq = BigInt(sequence);
  for (let i = 11; i >= 4; i--) {
    nonce[i]! ^= Number(seq & 0xffn);
    seq >>= 8n;
  }
  return nonce;
}

export interface InnerPlaintext {
  readonly contentType: number;
  readonly content: Buffer;
}

/** Decrypts one TLS 1.3 record (header + fragment) with the `sequence`-th nonce. Throws on a bad tag. */
export function decryptRecord(keys: TrafficKeys, header: Buffer, fragment: Buffer, sequence: number): InnerPlaintext {
  const { cipher, tagLength } = keys.params;
  if (fragment.length < tagLength) throw new TlsParseError('encrypted record shorter than its tag');
  const nonce = nonceOf(keys.iv, sequence);
  const ciphertext = fragment.subarray(0, fragment.length - tagLength);
  const tag = fragment.subarray(fragment.length - tagLength);
  let plain: Buffer;
  try {
    if (cipher === 'aes-128-ccm') {
      const decipher = createDecipheriv(cipher, keys.key, nonce, { authTagLength: tagLength });
      decipher.setAuthTag(tag);
      decipher.setAAD(header, { plaintextLength: ciphertext.length });
      plain = Buffer.concat([decipher.update(ciphertext), decipher.final()]);
    } else {
      const decipher = createDecipheriv(cipher, keys.key, nonce, { authTagLength: tagLength } as never) as DecipherGCM;
      decipher.setAuthTag(tag);
      decipher.setAAD(header);
      plain = Buffer.concat([decipher.update(ciphertext), decipher.final()]);
    }
  } catch {
    throw new TlsParseError('encrypted record failed authentication (wrong keys)');
  }
  let end = plain.length;
  while (end > 0 && plain[end - 1] === 0) end--;
  if (end === 0) throw new TlsParseError('encrypted record without a content type');
  return { contentType: plain[end - 1]!, content: plain.subarray(0, end - 1) };
}

/** The inverse of `decryptRecord` (used by tests to build server flights). */
export function encryptRecord(keys: TrafficKeys, contentType: number, content: Buffer, sequence: number): Buffer {
  const { cipher, tagLength } = keys.params;
  const inner = Buffer.concat([content, Buffer.from([contentType])]);
  const length = inner.length + tagLength;
  const header = Buffer.from([23, 3, 3, length >> 8, length & 0xff]);
  const nonce = nonceOf(keys.iv, sequence);
  const encipher = createCipheriv(cipher, keys.key, nonce, { authTagLength: tagLength } as never) as CipherGCM;
  encipher.setAAD(header, { plaintextLength: inner.length });
  const body = Buffer.concat([encipher.update(inner), encipher.final(), encipher.getAuthTag()]);
  return Buffer.concat([header, body]);
}
