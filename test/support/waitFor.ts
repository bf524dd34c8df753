/**
 * Polls `check` until it neither throws nor returns `false`, then returns its
 * result; fails after `timeoutMs` with the last error. Use it instead of sleeps:
 * `await waitFor(() => expect(seen).toHaveLength(3))` or `await waitFor(() => seen.length === 3)`.
 */
export async function waitFor<T>(check: () => T | Promise<T>, timeoutMs = 5_000, intervalMs = 5): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let failure: unknown;
    try {
      const result = await check();
      if (result !== false) return result;
      failure = new Error(`waitFor: still false after ${timeoutMs} ms`);
    } catch (error) {
      failure = error; // an assertion error keeps its diff
    }
    if (Date.now() >= deadline) throw failure;
    await sleep(intervalMs);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A promise with its resolve function, to hold a handler until the test lets it go. */
export function deferred(): { readonly promise: Promise<void>; readonly resolve: () => void } {
  let resolve: () => void = () => undefined;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

/** `promise`, or a rejection if it has not settled within `timeoutMs`. */
export function within<T>(promise: Promise<T>, timeoutMs = 5_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`within: not settled after ${timeoutMs} ms`)), timeoutMs);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
