/**
 * Jobs handed to an executor while they are still being claimed: a large plan starts training
 * its first runs while the rest are created in the store. `next()` waits for a job or the end.
 */
export class JobFeed<T> {
  private readonly items: T[] = [];
  private readonly waiters: ((item: T | undefined) => void)[] = [];
  private closed = false;

  static of<T>(items: T[]): JobFeed<T> {
    const feed = new JobFeed<T>();
    feed.push(...items);
    feed.close();
    return feed;
  }

  push(...items: T[]): void {
    if (this.closed) throw new Error('JobFeed: push after close');
    for (const item of items) {
      const waiter = this.waiters.shift();
      if (waiter) waiter(item);
      else this.items.push(item);
    }
  }

  /** No more jobs will come: waiting and later calls of next() get undefined. */
  close(): void {
    this.closed = true;
    for (const waiter of this.waiters.splice(0)) waiter(undefined);
  }

  next(): Promise<T | undefined> {
    if (this.items.length) return Promise.resolve(this.items.shift());
    if (this.closed) return Promise.resolve(undefined);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Every job, once the feed is closed (for executors that hand the whole list over at once). */
  async all(): Promise<T[]> {
    const out: T[] = [];
    for (let item = await this.next(); item !== undefined; item = await this.next()) out.push(item);
    return out;
  }
}
