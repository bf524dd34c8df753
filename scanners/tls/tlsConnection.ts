/**
 * Raw TCP conversations with the one address a scan may touch, bounded every way:
 *
 * - at most `maxConnections` sockets open at once (default 4), and at most
 *   `maxHandshakes` connections in all (the budget: `HandshakeBudgetError` when spent);
 * - a timeout for the TCP connect and another for each conversation;
 * - the scan's abort signal destroys every open socket at once (`ScanAbortedError`);
 * - at most 1 MiB kept per connection.
 *
 * A connection that cannot be made raises `ConnectionFailure` with what happened
 * (refused, timeout, unreachable, reset) so the first probe can tell the user.
 */
import { setMaxListeners } from 'node:events';
import { connect, type Socket } from 'node:net';
import { ScanAbortedError } from '../shared/errors.js';

export interface ConnectionLimits {
  /** Sockets open at once. */
  readonly maxConnections: number;
  /** Connections in all. */
  readonly maxHandshakes: number;
  /** TCP connect, and each conversation after it. */
  readonly timeoutMs: number;
}

export type ConnectionFailureKind = 'refused' | 'timeout' | 'unreachable' | 'reset' | 'error';

/** A TCP connection could not be made or broke before anything came back. */
export class ConnectionFailure extends Error {
  override name = 'ConnectionFailure';
  constructor(
    message: string,
    readonly kind: ConnectionFailureKind,
  ) {
    super(message);
  }
}

/** The scan's handshake budget is spent. */
export class HandshakeBudgetError extends Error {
  override name = 'HandshakeBudgetError';
}

export type WaitResult = 'ready' | 'closed' | 'timeout';

export interface Conversation {
  send(data: Buffer): void;
  /**
   * Waits until `ready(received)` holds, the peer closes (or resets), or `timeoutMs`
   * (default: what is left of the conversation's time) runs out.
   */
  until(ready: (received: Buffer) => boolean, timeoutMs?: number): Promise<WaitResult>;
  /** Everything received so far (at most 1 MiB). */
  received(): Buffer;
  /** The peer closed or reset the connection. */
  readonly closed: boolean;
  /** The peer reset the connection (ECONNRESET) rather than closing it. */
  readonly reset: boolean;
}

export interface Connector {
  readonly address: string;
  readonly port: number;
  readonly signal: AbortSignal;
  readonly limits: ConnectionLimits;
  /** Runs `body` on a fresh connection (waiting for a free slot), then closes it. */
  converse<T>(body: (conversation: Conversation) => Promise<T>, options?: { timeoutMs?: number }): Promise<T>;
  /**
   * Runs `body` holding a connection slot, counted as one handshake, without opening
   * a socket (for probes that connect through node:tls themselves).
   */
  withSlot<T>(
    body: (track: (socket: { once(event: 'close', listener: () => void): unknown }) => void) => Promise<T>,
  ): Promise<T>;
  /** Connections made so far. */
  handshakes(): number;
  /** Connections that failed (refused, timed out, reset before an answer). */
  failures(): number;
  /** The most sockets that were open at once (from connect to their 'close'). */
  maxOpen(): number;
}

const MAX_RECEIVED = 1024 * 1024;

function semaphore(limit: number) {
  let active = 0;
  const waiting: (() => void)[] = [];
  return {
    async acquire(signal: AbortSignal): Promise<() => void> {
      while (active >= limit) {
        await new Promise<void>((resolve, reject) => {
          const wake = () => {
            signal.removeEventListener('abort', onAbort);
            resolve();
          };
          const onAbort = () => {
            const index = waiting.indexOf(wake);
            if (index !== -1) waiting.splice(index, 1);
            reject(new ScanAbortedError('TLS scan aborted'));
          };
          waiting.push(wake);
          signal.addEventListener('abort', onAbort, { once: true });
        });
      }
      active++;
      let released = false;
      return () => {
        if (released) return;
        released = true;
        active--;
        waiting.shift()?.();
      };
    },
  };
}

function describeError(error: NodeJS.ErrnoException, target: string): ConnectionFailure {
  switch (error.code) {
    case 'ECONNREFUSED':
      return new ConnectionFailure(`${target} refused the connection (nothing listens on that port)`, 'refused');
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'EHOSTDOWN':
    case 'ENETDOWN':
    case 'EADDRNOTAVAIL':
      return new ConnectionFailure(`${target} is unreachable (${error.code})`, 'unreachable');
    case 'ECONNRESET':
    case 'EPIPE':
      return new ConnectionFailure(`${target} reset the connection`, 'reset');
    case 'ETIMEDOUT':
      return new ConnectionFailure(`${target} did not accept a TCP connection in time`, 'timeout');
    default:
      return new ConnectionFailure(`connection to ${target} failed: ${error.code ?? error.message}`, 'error');
  }
}

export function createConnector(options: {
  address: string;
  port: number;
  signal: AbortSignal;
  limits: ConnectionLimits;
}): Connector {
  const { address, port, limits } = options;
  // One listener on the caller's signal; ours carries the many per-socket listeners.
  const controller = new AbortController();
  setMaxListeners(0, controller.signal);
  const signal = controller.signal;
  if (options.signal.aborted) controller.abort(options.signal.reason);
  else options.signal.addEventListener('abort', () => controller.abort(options.signal.reason), { once: true });
  const gate = semaphore(Math.max(1, limits.maxConnections));
  const label = `${address.includes(':') ? `[${address}]` : address}:${port}`;
  let made = 0;
  let failed = 0;
  let open = 0;
  let maxOpen = 0;
  /** Counts a socket from now until its 'close' event. */
  const track = (socket: { once(event: 'close', listener: () => void): unknown }) => {
    open++;
    maxOpen = Math.max(maxOpen, open);
    socket.once('close', () => open--);
  };

  async function openSocket(timeoutMs: number): Promise<Socket> {
    return new Promise<Socket>((resolve, reject) => {
      const socket = connect({ host: address, port, noDelay: true });
      track(socket);
      const timer = setTimeout(() => {
        cleanup();
        socket.destroy();
        reject(new ConnectionFailure(`${label} did not accept a TCP connection within ${timeoutMs} ms`, 'timeout'));
      }, timeoutMs);
      const onAbort = () => {
        cleanup();
        socket.destroy();
        reject(new ScanAbortedError('TLS scan aborted'));
      };
      const onError = (error: NodeJS.ErrnoException) => {
        cleanup();
        socket.destroy();
        reject(describeError(error, label));
      };
      const onConnect = () => {
        cleanup();
        resolve(socket);
      };
      function cleanup() {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        socket.off('error', onError);
        socket.off('connect', onConnect);
      }
      signal.addEventListener('abort', onAbort, { once: true });
      socket.once('error', onError);
      socket.once('connect', onConnect);
    });
  }

  return {
    address,
    port,
    signal,
    limits,
    handshakes: () => made,
    failures: () => failed,
    maxOpen: () => maxOpen,
    async withSlot(body) {
      if (signal.aborted) throw new ScanAbortedError('TLS scan aborted');
      const release = await gate.acquire(signal);
      try {
        if (made >= limits.maxHandshakes) {
          throw new HandshakeBudgetError(`the scan's budget of ${limits.maxHandshakes} handshakes is spent`);
        }
        made++;
        return await body(track);
      } finally {
        release();
      }
    },
    async converse(body, converseOptions = {}) {
      if (signal.aborted) throw new ScanAbortedError('TLS scan aborted');
      const release = await gate.acquire(signal);
      let socket: Socket | undefined;
      try {
        if (made >= limits.maxHandshakes) {
          throw new HandshakeBudgetError(`the scan's budget of ${limits.maxHandshakes} handshakes is spent`);
        }
        made++;
        const timeoutMs = converseOptions.timeoutMs ?? limits.timeoutMs;
        try {
          socket = await openSocket(limits.timeoutMs);
        } catch (error) {
          if (error instanceof ConnectionFailure) failed++;
          throw error;
        }
        const conversationSocket = socket;
        const deadline = Date.now() + timeoutMs;
        const chunks: Buffer[] = [];
        let size = 0;
        let received: Buffer = Buffer.alloc(0);
        let dirty = false;
        let closed = false;
        let reset = false;
        let wake: (() => void) | null = null;
        const notify = () => {
          const w = wake;
          wake = null;
          w?.();
        };
        conversationSocket.on('data', (chunk: Buffer) => {
          if (size >= MAX_RECEIVED) return;
          const kept = chunk.subarray(0, MAX_RECEIVED - size);
          chunks.push(kept);
          size += kept.length;
          dirty = true;
          notify();
        });
        conversationSocket.on('error', (error: NodeJS.ErrnoException) => {
          if (error.code === 'ECONNRESET' || error.code === 'EPIPE') reset = true;
          closed = true;
          notify();
        });
        conversationSocket.on('close', () => {
          closed = true;
          notify();
        });
        conversationSocket.on('end', () => {
          closed = true;
          notify();
        });
        const current = () => {
          if (dirty) {
            received = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
            chunks.length = 0;
            if (received.length > 0) chunks.push(received);
            dirty = false;
          }
          return received;
        };
        const conversation: Conversation = {
          send(data) {
            if (!closed && !conversationSocket.destroyed) conversationSocket.write(data);
          },
          async until(ready, waitMs) {
            const limit = Math.max(0, Math.min(waitMs ?? Infinity, deadline - Date.now()));
            const giveUpAt = Date.now() + limit;
            for (;;) {
              if (signal.aborted) throw new ScanAbortedError('TLS scan aborted');
              if (ready(current())) return 'ready';
              if (closed) return 'closed';
              if (size >= MAX_RECEIVED) return 'ready';
              const left = giveUpAt - Date.now();
              if (left <= 0) return 'timeout';
              await new Promise<void>((resolve) => {
                const timer = setTimeout(() => {
                  wake = null;
                  signal.removeEventListener('abort', onAbort);
                  resolve();
                }, left);
                const onAbort = () => {
                  clearTimeout(timer);
                  wake = null;
                  resolve();
                };
                signal.addEventListener('abort', onAbort, { once: true });
                wake = () => {
                  clearTimeout(timer);
                  signal.removeEventListener('abort', onAbort);
                  resolve();
                };
              });
            }
          },
          received: current,
          get closed() {
            return closed;
          },
          get reset() {
            return reset;
          },
        };
        return await body(conversation);
      } finally {
        // The slot is free once the socket is really closed, so the limit holds on the wire too.
        if (socket && !socket.closed) {
          const closing = socket;
          await new Promise<void>((resolve) => {
            closing.once('close', () => resolve());
            closing.destroy();
          });
        }
        release();
      }
    },
  };
}
