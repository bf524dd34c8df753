/**
 * Where the time goes in a `node --cpu-prof` profile (e.g. the service's, from
 * `npx tsx bench/http.bench.ts --cpu-prof=DIR`):
 *
 *   npx tsx bench/cpuprofile.ts DIR/service-warn-123.cpuprofile [top=25] [focus=substring]
 *
 * Prints self time by function and by file/package, and inclusive (self + callees)
 * time by function, as shares of the busy (non-idle) samples. With `focus`, only
 * samples whose stack contains a frame matching it count.
 */
import { readFileSync } from 'node:fs';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const [file, topArg, focus] = process.argv.slice(2);
if (!file) {
  process.stderr.write('usage: npx tsx bench/cpuprofile.ts FILE.cpuprofile [top] [focus]\n');
  process.exit(2);
}
const top = Number(topArg ?? 25);
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;

const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

/** A short place: the package (node_modules/NAME) or the project file, and the line. */
function place(frame: CallFrame): string {
  const url = frame.url.replace(/^file:\/\//, '');
  if (!url) return '(native/vm)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)\/(.*)$/.exec(url);
  if (pkg) return `${pkg[1]}:${pkg[2]}`;
  if (url.startsWith('node:')) return url;
  const project = /\/(?:dist|build)\/(.*)$/.exec(url);
  return project ? project[1]! : url;
}
const fileOf = (frame: CallFrame) => {
  const p = place(frame);
  if (p.startsWith('(')) return p;
  const pkg = /^((?:@[^/]+\/)?[^/:]+):/.exec(p);
  return pkg && !p.startsWith('node:') ? `pkg ${pkg[1]}` : p;
};
const label = (frame: CallFrame) => `${frame.functionName || '(anonymous)'} ${place(frame)}:${frame.lineNumber + 1}`;
const idle = (frame: CallFrame) => ['(idle)', '(program)', '(root)'].includes(frame.functionName);

const self = new Map<string, number>();
const selfFile = new Map<string, number>();
const inclusive = new Map<string, number>();
let busy = 0;
let total = 0;
let gc = 0;

profile.samples.forEach((id, i) => {
  const dt = profile.timeDeltas[i] ?? 0;
  total += dt;
  const node = byId.get(id)!;
  if (node.callFrame.functionName === '(idle)') return;
  const stack: CallFrame[] = [];
  for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) stack.push(byId.get(at)!.callFrame);
  if (focus && !stack.some((f) => label(f).includes(focus))) return;
  busy += dt;
  if (node.callFrame.functionName === '(garbage collector)') gc += dt;
  const l = label(node.callFrame);
  self.set(l, (self.get(l) ?? 0) + dt);
  const f = fileOf(node.callFrame);
  selfFile.set(f, (selfFile.get(f) ?? 0) + dt);
  const seen = new Set<string>();
  for (const frame of stack) {
    if (idle(frame)) continue;
    const key = label(frame);
    if (seen.has(key)) continue; // recursion counts once
    seen.add(key);
    inclusive.set(key, (inclusive.get(key) ?? 0) + dt);
  }
});

const share = (us: number) => `${((us / busy) * 100).toFixed(1).padStart(5)} %`;
const print = (title: string, map: Map<string, number>) => {
  process.stdout.write(`\n${title}\n`);
  for (const [key, us] of [...map].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    process.stdout.write(`  ${share(us)}  ${(us / 1000).toFixed(0).padStart(7)} ms  ${key}\n`);
  }
};

process.stdout.write(
  `${file}\nprofiled ${(total / 1e6).toFixed(1)} s, busy ${(busy / 1e6).toFixed(1)} s` +
    `${focus ? ` (stacks containing "${focus}")` : ''}, of which GC ${share(gc)}\n`,
);
print('self time by file / package:', selfFile);
print('self time by function:', self);
print('inclusive time by function (self + callees):', inclusive);
