/**
 * Errors every scanner runner raises, so the worker can tell what happened
 * without knowing the scanner: an abort (cancel or shutdown), a timeout, a tool
 * that is not installed, a target that cannot be scanned (refused, unreachable,
 * does not speak the protocol), output that is too large, and any other failure.
 */

/** The scan was stopped on purpose (cancel, worker shutdown). */
export class ScanAbortedError extends Error {
  override name = 'ScanAbortedError';
}

/** The scan ran out of its time budget. */
export class ScanTimeoutError extends Error {
  override name = 'ScanTimeoutError';
}

/** The tool or engine a runner needs is missing (binary not installed, external engine unreachable). */
export class ScannerUnavailableError extends Error {
  override name = 'ScannerUnavailableError';
}

/**
 * The target cannot be scanned by this scanner: nothing listens, the connection is
 * refused or reset, it does not speak the expected protocol. A clear, permanent
 * failure of the scan (no retry), with a reason the user can act on.
 */
export class TargetUnreachableError extends Error {
  override name = 'TargetUnreachableError';
  constructor(
    message: string,
    readonly code: string = 'target_unreachable',
  ) {
    super(message);
  }
}

/** A tool's output or a result exceeded its size cap. */
export class ScanOutputTooLargeError extends Error {
  override name = 'ScanOutputTooLargeError';
}

/** A child process ran but failed (non-zero exit, error report). */
export class ToolFailedError extends Error {
  override name = 'ToolFailedError';
  constructor(
    message: string,
    readonly exitCode: number | null,
    readonly stderrTail: string,
  ) {
    super(message);
  }
}
