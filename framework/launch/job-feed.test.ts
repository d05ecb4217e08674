import { describe, expect, it } from 'vitest';
import { JobFeed } from './job-feed.js';

describe('JobFeed', () => {
  it('hands jobs to waiting takers in order, then undefined to everyone once closed', async () => {
    const feed = new JobFeed<number>();
    const a = feed.next();
    const b = feed.next();
    feed.push(1, 2, 3);
    expect(await a).toBe(1);
    expect(await b).toBe(2);
    const rest = feed.next();
    expect(await rest).toBe(3);
    const waiting = feed.next();
    feed.close();
    expect(await waiting).toBeUndefined();
    expect(await feed.next()).toBeUndefined();
    expect(() => feed.push(4)).toThrow(/after close/);
  });

  it('all() collects everything pushed until close', async () => {
    const feed = new JobFeed<string>();
    const all = feed.all();
    feed.push('a');
    setTimeout(() => {
      feed.push('b');
      feed.close();
    }, 5);
    expect(await all).toEqual(['a', 'b']);
    expect(await JobFeed.of([1, 2]).all()).toEqual([1, 2]);
  });
});
