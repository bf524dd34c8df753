/**
 * Open-loop fixed-rate HTTP load (wrk2-style), run as a child process by
 * `bench/http.bench.ts`: request i is due at start + i / rate whatever happened
 * to the earlier ones, and its latency is measured from that due time (so a
 * stalled server is not hidden by the client waiting for it: no coordinated
 * omission). Prints one JSON line on stdout.
 *
 *   node --import tsx bench/openLoop.ts '{"url":"http://127.0.0.1:8000/","rate":1000,"durationSec":10}'
 *
 * Only loopback URLs are accepted; the run is bounded in requests and time.
 */
import http from 'node:http';
import { resolve as resolvePath } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface OpenLoopOptions {
  readonly url: string;
  /** Requests per second. */
  readonly rate: number;
  readonly durationSec: number;
  /** Seconds at the same rate before recording starts. */
  readonly warmupSec?: number;
  /** Keep-alive sockets at most (requests beyond wait in the agent's queue, and that wait counts). */
  readonly connections?: number;
  readonly headers?: Record<string, string>;
  readonly timeoutMs?: number;
}

export interface Percentiles {
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly p999: number;
  readonly max: number;
  readonly mean: number;
}

export interface OpenLoopResult {
  readonly rate: number;
  readonly durationSec: number;
  /** Recorded (after warm-up) requests scheduled, completed with 2xx, other status, failed. */
  readonly scheduled: number;
  readonly ok: number;
  readonly non2xx: number;
  readonly errors: number;
  readonly achievedRate: number;
  /** Milliseconds from the due time to the end of the response. */
  readonly latencyMs: Percentiles;
  /** Milliseconds from handing the request to the socket pool to the end of the response. */
  readonly serviceMs: Percentiles;
  /** Worst lateness of the client's own scheduler (ms): large values mean the client, not the server, lagged. */
  readonly clientMaxLagMs: number;
}

export function percentiles(values: Float64Array | number[]): Percentiles {
  const sorted = Float64Array.from(values).sort();
  const n = sorted.length;
  if (n === 0) return { p50: NaN, p90: NaN, p99: NaN, p999: NaN, max: NaN, mean: NaN };
  const at = (q: number) => sorted[Math.min(n - 1, Math.ceil(q * n) - 1)]!;
  let sum = 0;
  for (const v of sorted) sum += v;
  return { p50: at(0.5), p90: at(0.9), p99: at(0.99), p999: at(0.999), max: sorted[n - 1]!, mean: sum / n };
}

function assertLoopback(url: URL): void {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (!(host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host))) {
    throw new Error(`openLoop: only loopback targets are allowed, not ${url.hostname}`);
  }
}

export async function openLoop(options: OpenLoopOptions): Promise<OpenLoopResult> {
  const url = new URL(options.url);
  assertLoopback(url);
  const rate = options.rate;
  const warmupSec = options.warmupSec ?? 2;
  const timeoutMs = options.timeoutMs ?? 5000;
  if (!(rate > 0 && rate <= 100_000) || !(options.durationSec > 0 && options.durationSec <= 600)) {
    throw new Error('openLoop: rate must be in (0, 100000] and durationSec in (0, 600]');
  }
  const warmupCount = Math.round(rate * warmupSec);
  const recordCount = Math.round(rate * options.durationSec);
  const total = warmupCount + recordCount; // the bound on requests sent
  const intervalMs = 1000 / rate;

  const agent = new http.Agent({ keepAlive: true, maxSockets: options.connections ?? 50, scheduling: 'fifo' });
  const latency = new Float64Array(recordCount);
  const service = new Float64Array(recordCount);
  let recorded = 0;
  let ok = 0;
  let non2xx = 0;
  let outstanding = 0;
  let sent = 0;
  let clientMaxLagMs = 0;
  let firstRecordedDue = 0;
  let lastRecordedEnd = 0;

  return new Promise<OpenLoopResult>((settle) => {
    const start = performance.now() + 50;
    let finished = false;

    const finish = () => {
      if (finished) return;
      finished = true;
      clearTimeout(hardStop);
      agent.destroy();
      const measuredSec = Math.max(1e-9, (lastRecordedEnd - firstRecordedDue) / 1000);
      settle({
        rate,
        durationSec: options.durationSec,
        scheduled: recordCount,
        ok,
        non2xx,
        errors: recordCount - ok - non2xx, // failed, or never answered before the hard stop
        achievedRate: ok / measuredSec,
        latencyMs: percentiles(latency.subarray(0, recorded)),
        serviceMs: percentiles(service.subarray(0, recorded)),
        clientMaxLagMs,
      });
    };
    // Hard bound: everything due, plus the request timeout, plus slack.
    const hardStop = setTimeout(finish, (warmupSec + options.durationSec) * 1000 + timeoutMs + 5000);

    const fire = (index: number, due: number) => {
      const record = index >= warmupCount;
      if (record && index === warmupCount) firstRecordedDue = due;
      const handedAt = performance.now();
      outstanding += 1;
      let done = false;
      const complete = (status: number | null) => {
        if (done) return;
        done = true;
        outstanding -= 1;
        const end = performance.now();
        if (record) {
          if (status !== null && status >= 200 && status < 300) ok += 1;
          else if (status !== null) non2xx += 1;
          if (status !== null) {
            latency[recorded] = end - due;
            service[recorded] = end - handedAt;
            recorded += 1;
          }
          lastRecordedEnd = Math.max(lastRecordedEnd, end);
        }
        if (sent === total && outstanding === 0) finish();
      };
      const req = http.request(
        {
          agent,
          host: url.hostname,
          port: url.port,
          path: url.pathname + url.search,
          method: 'GET',
          headers: options.headers ?? {},
        },
        (res) => {
          res.on('data', () => {});
          res.on('end', () => complete(res.statusCode ?? 0));
          res.on('error', () => complete(null));
        },
      );
      req.setTimeout(timeoutMs, () => req.destroy(new Error('timeout')));
      req.on('error', () => complete(null));
      req.end();
    };

    const tick = () => {
      if (finished) return;
      const now = performance.now();
      let due = start + sent * intervalMs;
      if (sent < total && now - due > clientMaxLagMs && sent > 0) clientMaxLagMs = now - due;
      while (sent < total && due <= now) {
        fire(sent, due);
        sent += 1;
        due = start + sent * intervalMs;
      }
      if (sent < total) setTimeout(tick, Math.max(0, Math.min(1, due - performance.now())));
      else if (outstanding === 0) finish();
    };
    setTimeout(tick, 50);
  });
}

// Run as a child: options as JSON in argv[2], the result as one JSON line.
if (process.argv[1] && resolvePath(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const options = JSON.parse(process.argv[2] ?? '{}') as OpenLoopOptions;
  openLoop(options)
    .then((result) => {
      process.stdout.write(`${JSON.stringify(result)}\n`);
      process.exit(0);
    })
    .catch((error: unknown) => {
      process.stderr.write(`openLoop: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(1);
    });
}
