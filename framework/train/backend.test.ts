import { describe, expect, test } from 'vitest';
import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from './backend.js';

const installed = (pkg: string): boolean => {
  try {
    createRequire(import.meta.url).resolve(pkg);
    return true;
  } catch {
    return false;
  }
};

describe('initBackend', () => {
  test('wasm: the backend actually in use and the library versions are reported', async () => {
    const info = await initBackend('wasm');
    expect(info.name).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    expect(info.fallback_reason).toBeUndefined();
    expect(info.versions).toMatchObject({ 'tfjs-core': '4.22.0', 'tfjs-layers': '4.22.0', 'tfjs-backend-wasm': '4.22.0', node: process.versions.node });
  });

  test('cpu', async () => {
    const info = await initBackend('cpu');
    expect([info.name, tf.getBackend()]).toEqual(['cpu', 'cpu']);
    expect(info.versions['tfjs-backend-cpu']).toBe('4.22.0');
  });

  test.skipIf(installed('@tensorflow/tfjs-node'))('a requested tensorflow backend that is not installed falls back with a message naming tfjs-node', async () => {
    const info = await initBackend('tensorflow');
    expect(info.requested).toBe('tensorflow');
    expect(info.name).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    expect(info.fallback_reason).toMatch(/requested backend 'tensorflow' is unavailable: @tensorflow\/tfjs-node is not installed.*using 'wasm' instead/);
  });

  test.skipIf(installed('@tensorflow/tfjs-node-gpu') || installed('@tensorflow/tfjs-node'))('tensorflow-gpu falls back past tfjs-node-gpu and tfjs-node; auto lands on wasm', async () => {
    const gpu = await initBackend('tensorflow-gpu');
    expect(gpu.name).toBe('wasm');
    expect(gpu.fallback_reason).toMatch(/@tensorflow\/tfjs-node-gpu is not installed.*@tensorflow\/tfjs-node is not installed/);
    const auto = await initBackend('auto');
    expect(auto.name).toBe('wasm');
    expect(auto.fallback_reason).toMatch(/^auto: /);
  });
});
