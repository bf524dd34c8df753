/**
 * A minimal client of gvmd's Greenbone Management Protocol (GMP): XML commands over a
 * TLS connection (gvmd's port, 9390 by default), a plain TCP connection, or gvmd's Unix
 * socket (/run/gvmd/gvmd.sock). One command at a time: write the command, read exactly
 * one complete XML element back, check its `status` (2xx is success).
 *
 * - Authentication is per connection (`<authenticate>` first).
 * - Every response is bounded in size and time; `signal` (cancel) destroys the socket
 *   at once and the pending command rejects with ScanAbortedError.
 * - Values we put into commands are XML-escaped (`xmlEscape`).
 */
import { connect as netConnect, type Socket } from 'node:net';
import { StringDecoder } from 'node:string_decoder';
import { connect as tlsConnect } from 'node:tls';
import {
  ScanAbortedError,
  ScannerUnavailableError,
  ScanOutputTooLargeError,
  ScanTimeoutError,
} from '../../shared/errors.js';
import { parseXml, type XmlElement } from '../../shared/xml.js';

export type GmpEndpoint =
  | {
      readonly kind: 'tls';
      readonly host: string;
      readonly port: number;
      /** Name checked against gvmd's certificate (default: host). */
      readonly servername?: string;
      /** PEM of the CA that signed gvmd's certificate (default: the system's). */
      readonly ca?: string;
      /** false only when the operator said so (GVM_TLS_INSECURE=true). */
      readonly verify: boolean;
    }
  | { readonly kind: 'tcp'; readonly host: string; readonly port: number }
  | { readonly kind: 'socket'; readonly path: string };

export class GmpError extends Error {
  override name = 'GmpError';
  constructor(
    message: string,
    readonly status: number | null,
    readonly command: string,
  ) {
    super(message);
  }
}

export interface GmpCommandOptions {
  readonly timeoutMs?: number;
  readonly maxBytes?: number;
}

export interface GmpSession {
  /** Sends one command (a whole XML element) and returns the response's root element. */
  command(xml: string, options?: GmpCommandOptions): Promise<XmlElement>;
  close(): void;
}

export const DEFAULT_COMMAND_TIMEOUT_MS = 60_000;
export const DEFAULT_MAX_RESPONSE_BYTES = 4 * 1024 * 1024;

export function xmlEscape(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

/** Scanner state: where the next tag may start, how deep we are, whether the root started. */
export interface XmlScanState {
  pos: number;
  depth: number;
  started: boolean;
}

/**
 * Finds where the first complete top-level element of `text` ends (the index after
 * its last `>`), or -1 when more input is needed. Incremental: `state` remembers
 * what was already scanned. Handles comments, processing instructions, CDATA,
 * declarations, self-closing tags and quoted attribute values containing `>`.
 */
export function completeElementEnd(text: string, state: XmlScanState): number {
  for (;;) {
    const lt = text.indexOf('<', state.pos);
    if (lt === -1) {
      state.pos = text.length;
      return -1;
    }
    state.pos = lt;
    const skipTo = (token: string, from: number): number => {
      const end = text.indexOf(token, from);
      return end === -1 ? -1 : end + token.length;
    };
    let end: number;
    if (text.startsWith('<?', lt)) {
      end = skipTo('?>', lt + 2);
      if (end === -1) return -1;
      state.pos = end;
      continue;
    }
    const head = text.slice(lt, lt + 9);
    if (head.length < 9 && ('<![CDATA['.startsWith(head) || '<!--'.startsWith(head))) return -1;
    if (text.startsWith('<!--', lt)) {
      end = skipTo('-->', lt + 4);
      if (end === -1) return -1;
      state.pos = end;
      continue;
    }
    if (text.startsWith('<![CDATA[', lt)) {
      end = skipTo(']]>', lt + 9);
      if (end === -1) return -1;
      state.pos = end;
      continue;
    }
    if (text.startsWith('<!', lt)) {
      end = skipTo('>', lt + 2);
      if (end === -1) return -1;
      state.pos = end;
      continue;
    }
    if (text.startsWith('</', lt)) {
      end = skipTo('>', lt + 2);
      if (end === -1) return -1;
      state.pos = end;
      state.depth -= 1;
      if (state.started && state.depth <= 0) return end;
      continue;
    }
    // A start tag: find its '>' outside quotes.
    let quote: string | null = null;
    let i = lt + 1;
    for (; i < text.length; i++) {
      const ch = text[i];
      if (quote) {
        if (ch === quote) quote = null;
      } else if (ch === '"' || ch === "'") {
        quote = ch;
      } else if (ch === '>') {
        break;
      }
    }
    if (i >= text.length) return -1;
    const selfClosing = text[i - 1] === '/';
    state.pos = i + 1;
    state.started = true;
    if (selfClosing) {
      if (state.depth === 0) return i + 1;
    } else {
      state.depth += 1;
    }
  }
}

function statusOf(root: XmlElement): number | null {
  const status = Number(root.attributes.status);
  return Number.isInteger(status) ? status : null;
}

function commandName(xml: string): string {
  return /^\s*<([A-Za-z_][\w-]*)/.exec(xml)?.[1] ?? 'command';
}

function openSocket(endpoint: GmpEndpoint): Socket {
  switch (endpoint.kind) {
    case 'tls':
      return tlsConnect({
        host: endpoint.host,
        port: endpoint.port,
        servername: /^[\d.]+$|:/.test(endpoint.servername ?? endpoint.host)
          ? undefined
          : (endpoint.servername ?? endpoint.host),
        ...(endpoint.ca ? { ca: endpoint.ca } : {}),
        rejectUnauthorized: endpoint.verify,
      });
    case 'tcp':
      return netConnect({ host: endpoint.host, port: endpoint.port });
    case 'socket':
      return netConnect({ path: endpoint.path });
  }
}

function describe(endpoint: GmpEndpoint): string {
  return endpoint.kind === 'socket' ? endpoint.path : `${endpoint.host}:${endpoint.port}`;
}

/** Opens a connection to gvmd (ScannerUnavailableError when it cannot). */
export function connectGmp(
  endpoint: GmpEndpoint,
  options: { readonly signal: AbortSignal; readonly timeoutMs?: number },
): Promise<GmpSession> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  if (options.signal.aborted) return Promise.reject(new ScanAbortedError('cancelled before connecting to gvmd'));
  return new Promise((resolve, reject) => {
    const socket = openSocket(endpoint);
    const ready = endpoint.kind === 'tls' ? 'secureConnect' : 'connect';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new ScannerUnavailableError(`gvmd at ${describe(endpoint)} did not answer within ${timeoutMs} ms`));
    }, timeoutMs);
    const onAbort = () => {
      clearTimeout(timer);
      socket.destroy();
      reject(new ScanAbortedError('cancelled while connecting to gvmd'));
    };
    options.signal.addEventListener('abort', onAbort, { once: true });
    socket.once('error', (error) => {
      clearTimeout(timer);
      options.signal.removeEventListener('abort', onAbort);
      reject(new ScannerUnavailableError(`cannot reach gvmd at ${describe(endpoint)}: ${error.message}`));
    });
    socket.once(ready, () => {
      clearTimeout(timer);
      options.signal.removeEventListener('abort', onAbort);
      socket.removeAllListeners('error');
      resolve(gmpSession(socket, options.signal, describe(endpoint)));
    });
  });
}

function gmpSession(socket: Socket, signal: AbortSignal, where: string): GmpSession {
  let busy = false;
  let closed = false;
  let failure: Error | null = null;
  let pending: ((error: Error | null, chunk?: Buffer) => void) | null = null;
  socket.on('data', (chunk: Buffer) => pending?.(null, chunk));
  socket.on('error', (error) => {
    failure = new ScannerUnavailableError(`connection to gvmd at ${where} failed: ${error.message}`);
    pending?.(failure);
  });
  socket.on('close', () => {
    closed = true;
    failure ??= new ScannerUnavailableError(`gvmd at ${where} closed the connection`);
    pending?.(failure);
  });
  const onAbort = () => {
    failure = new ScanAbortedError('cancelled');
    socket.destroy();
    pending?.(failure);
  };
  signal.addEventListener('abort', onAbort, { once: true });
  socket.once('close', () => signal.removeEventListener('abort', onAbort));

  return {
    command(xml, commandOptions = {}) {
      const name = commandName(xml);
      if (busy) return Promise.reject(new Error('one GMP command at a time'));
      if (failure) return Promise.reject(failure);
      if (closed) return Promise.reject(new ScannerUnavailableError(`gvmd at ${where} closed the connection`));
      busy = true;
      const timeoutMs = commandOptions.timeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
      const maxBytes = commandOptions.maxBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
      return new Promise<XmlElement>((resolve, reject) => {
        const decoder = new StringDecoder('utf8');
        let text = '';
        let bytes = 0;
        const state: XmlScanState = { pos: 0, depth: 0, started: false };
        const finish = (error: Error | null, root?: XmlElement) => {
          clearTimeout(timer);
          pending = null;
          busy = false;
          if (error) {
            if (!(error instanceof GmpError)) socket.destroy();
            reject(error);
          } else resolve(root!);
        };
        const timer = setTimeout(() => {
          failure = new ScanTimeoutError(`gvmd did not answer ${name} within ${Math.round(timeoutMs / 1000)} s`);
          finish(failure);
        }, timeoutMs);
        pending = (error, chunk) => {
          if (error) return finish(error);
          bytes += chunk!.length;
          if (bytes > maxBytes) {
            failure = new ScanOutputTooLargeError(`gvmd's answer to ${name} exceeded ${maxBytes} bytes`);
            return finish(failure);
          }
          text += decoder.write(chunk!);
          const end = completeElementEnd(text, state);
          if (end === -1) return;
          let root: XmlElement;
          try {
            root = parseXml(text.slice(0, end), { what: `gvmd's answer to ${name}` });
          } catch (parseError) {
            failure = parseError instanceof Error ? parseError : new Error(String(parseError));
            return finish(failure);
          }
          const status = statusOf(root);
          if (status === null || status < 200 || status >= 300) {
            return finish(
              new GmpError(
                `gvmd refused ${name}: ${status ?? 'no status'} ${root.attributes.status_text ?? ''}`.trim(),
                status,
                name,
              ),
            );
          }
          finish(null, root);
        };
        socket.write(xml);
      });
    },
    close() {
      signal.removeEventListener('abort', onAbort);
      socket.end();
      socket.destroy();
    },
  };
}

/** Connects and authenticates; a refused login is ScannerUnavailableError (the operator's settings are wrong). */
export async function openGmpSession(
  endpoint: GmpEndpoint,
  credentials: { readonly username: string; readonly password: string },
  options: { readonly signal: AbortSignal; readonly timeoutMs?: number },
): Promise<GmpSession> {
  const session = await connectGmp(endpoint, options);
  try {
    await session.command(
      `<authenticate><credentials><username>${xmlEscape(credentials.username)}</username>` +
        `<password>${xmlEscape(credentials.password)}</password></credentials></authenticate>`,
      { timeoutMs: options.timeoutMs ?? 30_000 },
    );
    return session;
  } catch (error) {
    session.close();
    if (error instanceof GmpError) {
      throw new ScannerUnavailableError(`gvmd refused the GVM_USERNAME/GVM_PASSWORD login (${error.message})`);
    }
    throw error;
  }
}
