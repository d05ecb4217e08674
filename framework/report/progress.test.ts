import { PassThrough } from 'node:stream';
import { expect, test } from 'vitest';
import { until } from '../../test-support/until.js';
import { createProgress, formatDuration } from './progress.js';

function capture(isTTY: boolean) {
  const stream = Object.assign(new PassThrough(), { isTTY, columns: 120 });
  let text = '';
  stream.on('data', (d: Buffer) => (text += d.toString()));
  return { stream, text: () => text };
}

test('durations', () => {
  expect(formatDuration(null)).toBe('--');
  expect(formatDuration(9.4)).toBe('9s');
  expect(formatDuration(75)).toBe('1m15s');
  expect(formatDuration(3700)).toBe('1h01m');
});

test('plain lines when not a TTY, with run and study ETAs from a clock', () => {
  const out = capture(false);
  let t = 0;
  const p = createProgress({ total: 3, stream: out.stream, now: () => t });
  p.runSkipped('aaa');
  p.runStarted('k1', 'baseline seed 1', 2);
  t = 10_000;
  p.epochDone('k1', 1, { test_accuracy: 0.8123, test_loss: 0.51, train_loss: 0.6, seconds: 10 });
  t = 20_000;
  p.epochDone('k1', 2, { test_accuracy: 0.84, test_loss: 0.45 });
  p.runDone('k1', 'FINISHED');
  p.stop();
  const lines = out.text().trimEnd().split('\n');
  expect(lines).toEqual([
    '[run 1/3] aaa skipped (already finished)',
    '[run 2/3] start baseline seed 1 (k1), 2 epochs',
    // 10 s per epoch: 1 epoch left in this run + 1 unstarted run of ~2 epochs = 30 s
    '[run 2/3] baseline seed 1 epoch 1/2: test_acc 81.23% test_loss 0.5100 train_loss 0.6000 10.0s | run ETA 10s, study ETA 30s',
    '[run 2/3] baseline seed 1 epoch 2/2: test_acc 84.00% test_loss 0.4500 | run ETA 0s, study ETA 20s',
    '[run 2/3] baseline seed 1 FINISHED in 20s (2/3 done, study ETA 20s)',
  ]);
  // eslint-disable-next-line no-control-regex -- the escape character is what this test looks for
  expect(out.text()).not.toMatch(/\r|\u001b/); // no carriage returns or escape codes in CI logs
});

test('a failed run stops counting as work left', () => {
  const out = capture(false);
  let t = 0;
  const p = createProgress({ total: 2, stream: out.stream, now: () => t });
  p.runStarted('a', 'a', 10);
  t = 5_000;
  p.epochDone('a', 1, {});
  p.runDone('a', 'FAILED');
  // 5 s per epoch, one unstarted run of ~10 planned epochs: 50 s.
  expect(out.text()).toContain('a FAILED in 5s (1/2 done, study ETA 50s)');
});

test('bars on a TTY: overall and per run, with labels and ETA', async () => {
  const out = capture(true);
  let t = 0;
  const p = createProgress({ total: 2, stream: out.stream, now: () => t });
  p.runStarted('k1', 'batchnorm seed 1', 3);
  t = 4_000;
  p.epochDone('k1', 1, { test_accuracy: 0.7 });
  // cli-progress redraws on a timer: wait for the redraw that shows the epoch.
  await until('the bar to show the epoch', () => out.text().includes('test_acc 70.00%'));
  p.runDone('k1', 'FINISHED');
  p.runSkipped('k2');
  p.stop();
  await new Promise((r) => setImmediate(r));
  const text = out.text();
  expect(text).toContain('study');
  expect(text).toContain('1. batchnorm seed 1');
  expect(text).toContain('test_acc 70.00%');
  expect(text).toMatch(/2\/2 runs/);
  expect(text).toContain('ETA');
  expect(text).toContain('batchnorm seed 1 FINISHED in 4s');
});

test('one epoch reads "1 epoch"', () => {
  const out = capture(false);
  const p = createProgress({ total: 1, stream: out.stream, now: () => 0 });
  p.runStarted('k1', 'baseline seed 1', 1);
  p.stop();
  expect(out.text().split('\n')[0]).toBe('[run 1/1] start baseline seed 1 (k1), 1 epoch');
});

test('a resumed study numbers runs by their place in the plan', () => {
  const out = capture(false);
  const p = createProgress({ total: 6, stream: out.stream, now: () => 0 });
  [1, 2, 3].forEach((n) => p.runSkipped(`k${n}`, n));
  p.runStarted('k4', 'batchnorm/seed=1', 1, 4);
  p.runDone('k4', 'FINISHED');
  p.stop();
  const lines = out.text().trimEnd().split('\n');
  expect(lines[2]).toBe('[run 3/6] k3 skipped (already finished)');
  expect(lines[3]).toBe('[run 4/6] start batchnorm/seed=1 (k4), 1 epoch');
  expect(lines[4]).toMatch(/^\[run 4\/6\] batchnorm\/seed=1 FINISHED/);
});

test('after halt() on a TTY nothing is drawn over the interrupt message', async () => {
  const out = capture(true);
  let t = 0;
  const p = createProgress({ total: 2, stream: out.stream, now: () => t });
  p.runStarted('k1', 'batchnorm seed 1', 3);
  t = 1_000;
  p.epochDone('k1', 1, { test_accuracy: 0.7 });
  await new Promise((r) => setTimeout(r, 250)); // let the bars draw
  p.halt('interrupted: recording the runs under way as KILLED');
  const at = out.text().length;
  // Events keep coming while children stop: they must not redraw the bars.
  p.epochDone('k1', 2, { test_accuracy: 0.8 });
  p.runDone('k1', 'KILLED');
  await new Promise((r) => setTimeout(r, 250));
  p.stop();
  await new Promise((r) => setImmediate(r));
  const after = out.text().slice(at);
  expect(out.text().slice(0, at)).toMatch(/interrupted: recording the runs under way as KILLED\n$/);
  // Only plain lines follow: no cursor movement or line clearing that would overwrite the message.
  // eslint-disable-next-line no-control-regex -- the escape character is what this test looks for
  expect(after).not.toMatch(/\u001b|\r/);
  expect(after).toContain('batchnorm seed 1 KILLED');
});
