/**
 * Choose and initialise the TensorFlow.js backend, and say which one is ACTUALLY in use: tfjs falls
 * back silently (wasm that fails to load leaves cpu active), and a study must record what it ran on.
 *
 *   auto           tfjs-node-gpu if installed and a CUDA device is usable -> tfjs-node if installed
 *                  -> wasm -> cpu
 *   tensorflow     @tensorflow/tfjs-node (optional dependency; fails to install on some machines)
 *   tensorflow-gpu @tensorflow/tfjs-node-gpu (opt-in, CUDA)
 *   wasm           @tensorflow/tfjs-backend-wasm (single-threaded in Node, SIMD when available)
 *   cpu            @tensorflow/tfjs-backend-cpu (plain JavaScript, slowest)
 * A requested backend that cannot be loaded falls back along the same chain with a reason.
 */
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { version_layers } from '@tensorflow/tfjs-layers';
import type { BackendName } from '../config/index.js';
import { silenceCpuBanner, usingGpuDevice } from '../tfjs/index.js';

const require = createRequire(import.meta.url);

export interface BackendInfo {
  requested: BackendName;
  /** The tfjs backend in use after initialisation (tf.getBackend()): tensorflow | wasm | cpu | ... */
  name: string;
  /** Set when the backend in use is not the one requested (or auto skipped a better one). */
  fallback_reason?: string;
  /** True when tfjs-node-gpu runs on a CUDA device. */
  gpu?: boolean;
  versions: Record<string, string>;
}

type Candidate = 'tensorflow-gpu' | 'tensorflow' | 'wasm' | 'cpu';

const PACKAGES: Record<Candidate, string> = {
  'tensorflow-gpu': '@tensorflow/tfjs-node-gpu',
  tensorflow: '@tensorflow/tfjs-node',
  wasm: '@tensorflow/tfjs-backend-wasm',
  cpu: '@tensorflow/tfjs-backend-cpu',
};

/** The tfjs backend name each candidate registers. */
const TFJS_NAME: Record<Candidate, string> = { 'tensorflow-gpu': 'tensorflow', tensorflow: 'tensorflow', wasm: 'wasm', cpu: 'cpu' };

function packageVersion(pkg: string): string | undefined {
  try {
    return (require(`${pkg}/package.json`) as { version: string }).version;
  } catch {
    return undefined;
  }
}

function firstLine(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return msg.split('\n')[0]!.slice(0, 300);
}

/** Try one candidate; returns null on success or the reason it is not usable. */
async function tryCandidate(c: Candidate): Promise<{ ok: true; gpu?: boolean } | { ok: false; reason: string }> {
  const pkg = PACKAGES[c];
  try {
    if (c === 'tensorflow' || c === 'tensorflow-gpu') {
      // Dynamic and untyped: the package is optional and may be absent.
      const spec: string = pkg;
      await import(spec);
    } else if (c === 'wasm') {
      const wasm = await import('@tensorflow/tfjs-backend-wasm');
      wasm.setWasmPaths(`${dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'))}/`);
    } else {
      await import('@tensorflow/tfjs-backend-cpu');
    }
  } catch (err) {
    return { ok: false, reason: `${pkg} is not installed or failed to load (${firstLine(err)})` };
  }
  let ok = false;
  try {
    ok = await tf.setBackend(TFJS_NAME[c]);
    await tf.ready();
  } catch (err) {
    return { ok: false, reason: `${pkg} failed to initialise (${firstLine(err)})` };
  }
  if (!ok || tf.getBackend() !== TFJS_NAME[c]) {
    return { ok: false, reason: `${pkg} failed to initialise (tf.setBackend('${TFJS_NAME[c]}') returned false)` };
  }
  if (c === 'cpu') {
    // The cpu backend prints a banner advising tfjs-node on first use; bnx reports the backend itself.
    silenceCpuBanner();
  }
  if (c === 'tensorflow-gpu') {
    const gpu = usingGpuDevice();
    if (!gpu) return { ok: false, reason: `${pkg} loaded but no usable CUDA device was found` };
    return { ok: true, gpu };
  }
  return { ok: true };
}

const CHAIN: Candidate[] = ['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'];

/**
 * Initialise the requested backend, falling back along the chain. Never throws for a missing optional
 * backend; the returned info names the backend actually in use and why it differs from the request.
 */
export async function initBackend(requested: BackendName): Promise<BackendInfo> {
  const start = requested === 'auto' ? 0 : CHAIN.indexOf(requested);
  const reasons: string[] = [];
  for (const c of CHAIN.slice(start)) {
    const r = await tryCandidate(c);
    if (r.ok) {
      const info: BackendInfo = { requested, name: tf.getBackend(), versions: versionsFor(c) };
      if (r.gpu) info.gpu = true;
      // auto skipping absent optional packages is the normal path, not worth a warning; an explicit
      // request that could not be honoured is.
      if (requested !== 'auto' && c !== requested) {
        info.fallback_reason = `requested backend '${requested}' is unavailable: ${reasons.join('; ')}; using '${info.name}' instead`;
      } else if (requested === 'auto' && reasons.length > 0) {
        info.fallback_reason = `auto: ${reasons.join('; ')}; using '${info.name}'`;
      }
      return info;
    }
    reasons.push(r.reason);
  }
  throw new Error(`no TensorFlow.js backend could be initialised: ${reasons.join('; ')}`);
}

function versionsFor(c: Candidate): Record<string, string> {
  const v: Record<string, string> = {
    'tfjs-core': tf.version_core,
    'tfjs-layers': version_layers,
    node: process.versions.node,
  };
  const pv = packageVersion(PACKAGES[c]);
  if (pv) v[PACKAGES[c].replace('@tensorflow/', '')] = pv;
  return v;
}

/** Info about the backend currently active, for code that did not call initBackend itself. */
export function currentBackendInfo(requested: BackendName = 'auto'): BackendInfo {
  const name = tf.getBackend();
  const c = (Object.keys(TFJS_NAME) as Candidate[]).find((k) => TFJS_NAME[k] === name && k !== 'tensorflow-gpu') ?? 'cpu';
  return { requested, name, versions: versionsFor(c) };
}
