// A worker-like parent for the parent-death test: starts a long tool, prints its pid, waits.
import { runTool } from '../../../scanners/shared/childProcess.js';

void runTool({
  command: 'sleep',
  args: ['60'],
  toolName: 'sleep',
  timeoutMs: 60_000,
  onSpawn: (pid) => process.stdout.write(`child ${pid}\n`),
}).catch(() => {});
