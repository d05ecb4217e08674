/**
 * Poll `f` every 50 ms until it returns something truthy, or fail naming what never happened. The
 * timeout is a safety net for a hung test, not a speed requirement: it is generous because a busy
 * 2-core machine can take many seconds to start a process.
 */
export async function until<T>(what: string, f: () => T | Promise<T>, timeoutMs = 90_000): Promise<NonNullable<T>> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await f();
    if (v) return v as NonNullable<T>;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
