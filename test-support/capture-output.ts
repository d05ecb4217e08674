import { vi } from 'vitest';

/**
 * What an in-process CLI command writes: `run(fn)` captures stdout and stderr while `fn` runs (the
 * command's exit code is returned), and keeps them in `stdout`/`stderr` until the next run.
 */
export function outputCapture(): { stdout: string; stderr: string; run: (fn: () => Promise<number>) => Promise<number> } {
  const cap = {
    stdout: '',
    stderr: '',
    async run(fn: () => Promise<number>): Promise<number> {
      cap.stdout = '';
      cap.stderr = '';
      const out = vi.spyOn(process.stdout, 'write').mockImplementation((s) => ((cap.stdout += String(s)), true));
      const err = vi.spyOn(process.stderr, 'write').mockImplementation((s) => ((cap.stderr += String(s)), true));
      try {
        return await fn();
      } finally {
        out.mockRestore();
        err.mockRestore();
      }
    },
  };
  return cap;
}
