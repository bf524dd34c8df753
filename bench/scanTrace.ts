/**
 * Kernel scheduler tracing for bench/scan.bench.ts (`--trace=perf`): `perf record` of the
 * process fork/exec/exit tracepoints (every process) and of sched_switch / sched_wakeup
 * (only nmap, the service's main thread and the bench's main thread, by filter), so that
 * each nmap run — the bench's own and the one the service starts — gets exact fork, exec
 * and exit times, its time on a CPU and its time runnable but waiting for one; and the
 * service's main thread its CPU time inside a window.
 *
 * perf records CLOCK_MONOTONIC (`-k mono`), the clock of Node's `process.hrtime`; times
 * here are converted to epoch milliseconds on the scale of `performance.timeOrigin +
 * performance.now()`.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { performance } from 'node:perf_hooks';

export interface NmapProcess {
  readonly pid: number;
  /** The process that forked it (the bench or the service). */
  readonly parentPid: number;
  readonly forkMs: number;
  execMs: number;
  exitMs: number;
  /** Time on a CPU between exec and exit. */
  onCpuMs: number;
  /** Time runnable (woken or preempted) but not on a CPU. */
  runqMs: number;
}

export interface ThreadTimes {
  readonly onCpuMs: number;
  readonly runqMs: number;
}

export interface PerfTrace {
  readonly nmaps: NmapProcess[];
  /** CPU and run-queue time of one traced thread (the service's or the bench's main thread) in [fromMs, toMs]. */
  thread(tid: number, fromMs: number, toMs: number): ThreadTimes;
  readonly lines: number;
}

/** epoch ms = monotonic ms + this (the same constant performance.now() is built on). */
function monoToEpochOffset(): number {
  let best = Infinity;
  let offset = 0;
  for (let i = 0; i < 5; i++) {
    const a = process.hrtime.bigint();
    const epoch = performance.timeOrigin + performance.now();
    const b = process.hrtime.bigint();
    if (Number(b - a) < best) {
      best = Number(b - a);
      offset = epoch - Number(a + b) / 2e6;
    }
  }
  return offset;
}

export function perfAvailable(): boolean {
  const probe = spawnSync('perf', ['--version'], { encoding: 'utf8', timeout: 10_000 });
  return probe.status === 0;
}

type Interval = [number, number];

const LINE = /^\s*(.+?)\s+(\d+)\/(\d+)\s+([\d.]+):\s+(\S+):\s+(.*)$/;
const field = (text: string, name: string): string | undefined => new RegExp(`(?:^|\\s)${name}=(\\S+)`).exec(text)?.[1];

/**
 * Starts `perf record` (a child process, tracked by the caller's `track`); `stop()` ends it
 * with SIGINT and returns the parsed trace.
 */
export async function startPerf(options: {
  file: string;
  servicePid: number;
  benchPid: number;
  track: (child: ChildProcess) => ChildProcess;
}): Promise<{ stop(): Promise<PerfTrace> }> {
  const { servicePid, benchPid } = options;
  const threads = `prev_pid == ${servicePid} || next_pid == ${servicePid} || prev_pid == ${benchPid} || next_pid == ${benchPid}`;
  const args = [
    'record',
    '-q',
    '-k',
    'mono',
    '-a',
    '-o',
    options.file,
    '-e',
    'sched:sched_process_fork,sched:sched_process_exec,sched:sched_process_exit',
    '-e',
    'sched:sched_switch',
    '--filter',
    `prev_comm == "nmap" || next_comm == "nmap" || ${threads}`,
    '-e',
    'sched:sched_wakeup',
    '--filter',
    `comm == "nmap" || pid == ${servicePid} || pid == ${benchPid}`,
  ];
  const child = options.track(spawn('perf', args, { stdio: ['ignore', 'ignore', 'pipe'] }));
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const exited = new Promise<number | null>((done) => child.on('close', (code) => done(code)));
  // perf needs a moment to open its events on every CPU.
  await new Promise((done) => setTimeout(done, 1500));
  if (child.exitCode !== null) throw new Error(`perf record exited: ${stderr}`);

  return {
    async stop() {
      child.kill('SIGINT');
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      await exited;
      clearTimeout(timer);
      const script = options.track(
        spawn('perf', ['script', '-i', options.file, '-F', 'comm,pid,tid,time,event,trace'], {
          stdio: ['ignore', 'pipe', 'pipe'],
        }),
      );
      let out = '';
      script.stdout!.on('data', (d: Buffer) => (out += d.toString()));
      script.stderr!.resume();
      const killer = setTimeout(() => script.kill('SIGKILL'), 120_000);
      await new Promise((done) => script.on('close', done));
      clearTimeout(killer);
      return parse(out, monoToEpochOffset(), new Set([servicePid, benchPid]));
    },
  };
}

function parse(text: string, offset: number, tracedThreads: ReadonlySet<number>): PerfTrace {
  const nmaps = new Map<number, NmapProcess>();
  /** pid → its parent, for every fork from a traced thread. */
  const forks = new Map<number, { parent: number; at: number }>();
  const onCpu = new Map<number, Interval[]>();
  const runq = new Map<number, Interval[]>();
  const cpuSince = new Map<number, number>();
  const readySince = new Map<number, number>();
  const isNmap = (tid: number) => nmaps.has(tid);
  const traced = (tid: number) => tracedThreads.has(tid) || isNmap(tid);
  const push = (map: Map<number, Interval[]>, tid: number, interval: Interval) => {
    const list = map.get(tid) ?? [];
    list.push(interval);
    map.set(tid, list);
  };
  let lines = 0;
  for (const line of text.split('\n')) {
    const m = LINE.exec(line);
    if (!m) continue;
    lines += 1;
    const at = Number(m[4]) * 1000 + offset;
    const event = m[5]!;
    const trace = m[6]!;
    if (event === 'sched:sched_process_fork') {
      const parent = Number(field(trace, 'pid'));
      const childPid = Number(field(trace, 'child_pid'));
      if (tracedThreads.has(parent)) forks.set(childPid, { parent, at });
    } else if (event === 'sched:sched_process_exec') {
      const pid = Number(field(trace, 'pid'));
      const fork = forks.get(pid);
      if (fork && /\/nmap$/.test(field(trace, 'filename') ?? '')) {
        nmaps.set(pid, {
          pid,
          parentPid: fork.parent,
          forkMs: fork.at,
          execMs: at,
          exitMs: NaN,
          onCpuMs: 0,
          runqMs: 0,
        });
        // It is on a CPU as it execs.
        cpuSince.set(pid, at);
      }
    } else if (event === 'sched:sched_process_exit') {
      const nmap = nmaps.get(Number(field(trace, 'pid')));
      if (nmap && Number.isNaN(nmap.exitMs)) nmap.exitMs = at;
    } else if (event === 'sched:sched_switch') {
      const prev = Number(field(trace, 'prev_pid'));
      const next = Number(field(trace, 'next_pid'));
      const prevState = field(trace, 'prev_state') ?? '';
      if (traced(prev)) {
        const since = cpuSince.get(prev);
        if (since !== undefined) push(onCpu, prev, [since, at]);
        cpuSince.delete(prev);
        // Preempted (still runnable): waiting for a CPU from now on.
        if (prevState.startsWith('R')) readySince.set(prev, at);
      }
      if (traced(next)) {
        const ready = readySince.get(next);
        if (ready !== undefined) push(runq, next, [ready, at]);
        readySince.delete(next);
        cpuSince.set(next, at);
      }
    } else if (event === 'sched:sched_wakeup') {
      const pid = Number(field(trace, 'pid'));
      if (traced(pid) && !cpuSince.has(pid) && !readySince.has(pid)) readySince.set(pid, at);
    }
  }
  const overlap = (intervals: Interval[] | undefined, from: number, to: number) =>
    (intervals ?? []).reduce((sum, [a, b]) => sum + Math.max(0, Math.min(b, to) - Math.max(a, from)), 0);
  for (const nmap of nmaps.values()) {
    const end = Number.isNaN(nmap.exitMs) ? Infinity : nmap.exitMs;
    nmap.onCpuMs = overlap(onCpu.get(nmap.pid), nmap.execMs, end);
    nmap.runqMs = overlap(runq.get(nmap.pid), nmap.execMs, end);
  }
  return {
    nmaps: [...nmaps.values()].sort((a, b) => a.forkMs - b.forkMs),
    lines,
    thread: (tid, from, to) => ({
      onCpuMs: overlap(onCpu.get(tid), from, to),
      runqMs: overlap(runq.get(tid), from, to),
    }),
  };
}
