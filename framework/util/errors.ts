/** Exit codes of the CLI: 0 success, 1 a run or study failed, 2 bad input. */
export const EXIT = { ok: 0, failed: 1, badInput: 2 } as const;

/**
 * An error the user caused and can fix (bad config, unknown run key, missing file). The CLI prints
 * its message without a stack trace and exits 2.
 */
export class UserError extends Error {
  constructor(
    message: string,
    readonly details: string[] = [],
  ) {
    super(message);
    this.name = 'UserError';
  }
}
