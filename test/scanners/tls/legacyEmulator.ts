/**
 * A scripted TLS server for what no installed library will still do: SSLv2, SSLv3,
 * export/NULL/RC4 suites, DEFLATE compression, Heartbleed (an over-read emulated by
 * echoing the request's own bytes and filler, never real memory), no RFC 5746, no
 * TLS_FALLBACK_SCSV. It answers each ClientHello with ServerHello, Certificate and
 * ServerHelloDone (RSA key exchange suites only) and never finishes a handshake.
 * Its ClientHello reader is its own, independent of the scanner's code.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { randomBytes } from 'node:crypto';

export interface EmulatorConfig {
  /** Versions it accepts (0x0300 SSLv3, 0x0301 TLS 1.0, …). */
  readonly versions: readonly number[];
  /** RSA-key-exchange suites in the server's order of preference. */
  readonly suites: readonly number[];
  /** SSLv2 cipher specs it shares (empty: no SSLv2). */
  readonly sslv2Specs?: readonly number[];
  readonly compression?: boolean;
  /** 'vulnerable': answers malformed heartbeats; 'patched': echoes the extension and drops them. */
  readonly heartbeat?: 'vulnerable' | 'patched';
  readonly secureRenegotiation?: boolean;
  readonly fallbackScsv?: boolean;
  /** 'vulnerable': takes an early ChangeCipherSpec, then fails to decrypt (old OpenSSL); default: unexpected_message. */
  readonly ccsInjection?: 'vulnerable';
  readonly certificate: Buffer;
}

interface ClientHelloSeen {
  readonly version: number;
  readonly suites: number[];
  readonly compression: number[];
  readonly extensions: Map<number, Buffer>;
}

function readClientHello(body: Buffer): ClientHelloSeen {
  let offset = 0;
  const version = body.readUInt16BE(offset);
  offset += 2 + 32;
  offset += 1 + body[offset]!;
  const suitesLength = body.readUInt16BE(offset);
  offset += 2;
  const suites: number[] = [];
  for (let i = 0; i < suitesLength; i += 2) suites.push(body.readUInt16BE(offset + i));
  offset += suitesLength;
  const compressionLength = body[offset]!;
  const compression = [...body.subarray(offset + 1, offset + 1 + compressionLength)];
  offset += 1 + compressionLength;
  const extensions = new Map<number, Buffer>();
  if (offset + 2 <= body.length) {
    const end = offset + 2 + body.readUInt16BE(offset);
    offset += 2;
    while (offset + 4 <= end) {
      const type = body.readUInt16BE(offset);
      const length = body.readUInt16BE(offset + 2);
      extensions.set(type, body.subarray(offset + 4, offset + 4 + length));
      offset += 4 + length;
    }
  }
  return { version, suites, compression, extensions };
}

const u16 = (n: number) => Buffer.from([n >> 8, n & 0xff]);
const u24 = (n: number) => Buffer.from([n >> 16, (n >> 8) & 0xff, n & 0xff]);
const record = (type: number, version: number, body: Buffer) =>
  Buffer.concat([Buffer.from([type]), u16(version), u16(body.length), body]);
const handshake = (type: number, body: Buffer) => Buffer.concat([Buffer.from([type]), u24(body.length), body]);
const alert = (version: number, description: number) => record(21, version, Buffer.from([2, description]));

function answerHello(
  config: EmulatorConfig,
  hello: ClientHelloSeen,
  socket: Socket,
  state: { version: number; ccs: number },
): void {
  const best = Math.max(...config.versions);
  const version = Math.min(hello.version, best);
  const recordVersion = Math.min(hello.version, 0x0301);
  if (!config.versions.includes(version)) return void socket.end(alert(recordVersion, 70));
  if (config.fallbackScsv && hello.suites.includes(0x5600) && version < best)
    return void socket.end(alert(version, 86));
  const suite = config.suites.find((s) => hello.suites.includes(s));
  if (suite === undefined) return void socket.end(alert(version, 40));
  const compression = config.compression && hello.compression.includes(1) ? 1 : 0;
  const extensions: Buffer[] = [];
  const wantsRenegotiation = hello.extensions.has(0xff01) || hello.suites.includes(0x00ff);
  if (config.secureRenegotiation && wantsRenegotiation)
    extensions.push(Buffer.concat([u16(0xff01), u16(1), Buffer.from([0])]));
  if (config.heartbeat && hello.extensions.has(15)) extensions.push(Buffer.concat([u16(15), u16(1), Buffer.from([1])]));
  const extensionBlock =
    extensions.length > 0 ? Buffer.concat([u16(Buffer.concat(extensions).length), ...extensions]) : Buffer.alloc(0);
  const serverHello = Buffer.concat([
    u16(version),
    randomBytes(32),
    Buffer.from([0]),
    u16(suite),
    Buffer.from([compression]),
    extensionBlock,
  ]);
  const certificateList = Buffer.concat([u24(config.certificate.length), config.certificate]);
  const flight = Buffer.concat([
    handshake(2, serverHello),
    handshake(11, Buffer.concat([u24(certificateList.length), certificateList])),
    handshake(14, Buffer.alloc(0)),
  ]);
  state.version = version;
  socket.write(record(22, version, flight));
}

function answerHeartbeat(config: EmulatorConfig, fragment: Buffer, socket: Socket, version: number): void {
  if (config.heartbeat !== 'vulnerable' || fragment[0] !== 1) return; // a correct server drops what it cannot answer
  const claimed = fragment.readUInt16BE(1);
  // The bug: trust the claimed length. Emulated with the request's own bytes, then filler.
  const payload = Buffer.alloc(claimed, 0x2e);
  fragment.subarray(3, 3 + claimed).copy(payload);
  socket.write(record(24, version, Buffer.concat([Buffer.from([2]), u16(claimed), payload, randomBytes(16)])));
}

function answerSslv2(config: EmulatorConfig, message: Buffer, socket: Socket): void {
  const specsLength = message.readUInt16BE(3);
  const offered = new Set<number>();
  for (let i = 0; i < specsLength; i += 3) {
    const at = 9 + i;
    offered.add((message[at]! << 16) | (message[at + 1]! << 8) | message[at + 2]!);
  }
  const shared = (config.sslv2Specs ?? []).filter((s) => offered.has(s));
  if (shared.length === 0) return void socket.end(Buffer.from([0x80, 0x03, 0x00, 0x00, 0x01])); // ERROR: no cipher
  const specs = Buffer.concat(shared.map((s) => Buffer.from([s >> 16, (s >> 8) & 0xff, s & 0xff])));
  const connectionId = randomBytes(16);
  const body = Buffer.concat([
    Buffer.from([4, 0, 1]),
    u16(0x0002),
    u16(config.certificate.length),
    u16(specs.length),
    u16(connectionId.length),
    config.certificate,
    specs,
    connectionId,
  ]);
  socket.write(Buffer.concat([u16(0x8000 | body.length), body]));
}

export async function startEmulator(config: EmulatorConfig): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    let buffer = Buffer.alloc(0);
    const state = { version: 0x0301, ccs: 0 };
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      for (;;) {
        if (buffer.length >= 2 && buffer[0]! & 0x80) {
          const length = ((buffer[0]! & 0x7f) << 8) | buffer[1]!;
          if (buffer.length < 2 + length) return;
          const message = buffer.subarray(2, 2 + length);
          buffer = buffer.subarray(2 + length);
          if (message[0] === 1 && config.sslv2Specs && config.sslv2Specs.length > 0)
            answerSslv2(config, message, socket);
          else socket.end(alert(0x0301, 70));
          continue;
        }
        if (buffer.length < 5) return;
        const length = buffer.readUInt16BE(3);
        if (buffer.length < 5 + length) return;
        const type = buffer[0]!;
        const fragment = buffer.subarray(5, 5 + length);
        buffer = buffer.subarray(5 + length);
        if (type === 22 && fragment[0] === 1) answerHello(config, readClientHello(fragment.subarray(4)), socket, state);
        else if (type === 24) answerHeartbeat(config, fragment, socket, state.version);
        else if (type === 20) {
          state.ccs++;
          if (config.ccsInjection !== 'vulnerable') socket.end(alert(state.version, 10));
          else if (state.ccs === 2) socket.end(alert(state.version, 21));
        } else if (type === 21) socket.end();
      }
    });
  });
  const port = await new Promise<number>((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : 0);
    }),
  );
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
