import type { ReadModels } from '../adapters/ports.js';

/**
 * Resolves once every named projection's stored checkpoint has reached
 * `position` — read-your-writes for an API process whose projector runs elsewhere.
 */
export async function checkpointsReached(
  readModels: ReadModels,
  projections: readonly string[],
  position: number,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let wait = 2; ; wait = Math.min(50, wait * 2)) {
    const checkpoints = await Promise.all(projections.map((name) => readModels.getCheckpoint(name)));
    if (checkpoints.every((c) => c !== undefined && c >= position)) return;
    if (Date.now() >= deadline) {
      throw new Error(
        `read models did not reach position ${position} within ${timeoutMs} ms (is the projector running?)`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, wait));
  }
}
