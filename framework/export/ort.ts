/**
 * Which onnxruntime scores exported models in Node. onnxruntime-node (native, CPU) is an optional
 * dependency: its install script fetches CUDA files from NuGet on linux/x64, and where that cannot
 * succeed npm drops the package instead of failing the install. bnx then uses onnxruntime-web, a
 * regular dependency (the report page needs it anyway), whose wasm build runs in Node too. Both
 * implement the same ONNX operators on CPU, so parity with the trained model is checked either way.
 *
 * BNX_ONNX_RUNTIME=node | web picks one explicitly (node: fail if it is missing); unset or auto:
 * node when it loads, else web.
 */
import type * as OrtWeb from 'onnxruntime-web';
import { UserError } from '../util/errors.js';
import { packageVersion } from '../util/paths.js';

/** The part of the onnxruntime API bnx uses; onnxruntime-node and -web share it (onnxruntime-common). */
export type Ort = Pick<typeof OrtWeb, 'InferenceSession' | 'Tensor'>;
export type OrtSession = OrtWeb.InferenceSession;

export interface LoadedOrt {
  ort: Ort;
  /** e.g. "onnxruntime-node 1.22.0" or "onnxruntime-web 1.22.0 (wasm)". */
  name: string;
  executionProviders: string[];
}

async function loadNode(): Promise<LoadedOrt> {
  const ort = (await import('onnxruntime-node')) as unknown as Ort;
  return { ort, name: `onnxruntime-node ${packageVersion('onnxruntime-node')}`, executionProviders: ['cpu'] };
}

async function loadWeb(): Promise<LoadedOrt> {
  const ort = await import('onnxruntime-web');
  // One thread, no proxy worker: deterministic and nothing left running after a session ends.
  ort.env.wasm.numThreads = 1;
  ort.env.wasm.proxy = false;
  return { ort, name: `onnxruntime-web ${packageVersion('onnxruntime-web')} (wasm)`, executionProviders: ['wasm'] };
}

const loaded = new Map<string, Promise<LoadedOrt>>();

/**
 * The runtime to score ONNX models with, loaded once per process and choice. `choice` defaults to
 * $BNX_ONNX_RUNTIME, else auto.
 */
export function loadOrt(choice: string = process.env.BNX_ONNX_RUNTIME ?? 'auto'): Promise<LoadedOrt> {
  const want = choice.trim() || 'auto';
  let p = loaded.get(want);
  if (!p) {
    p = pick(want);
    loaded.set(want, p);
    p.catch(() => loaded.delete(want));
  }
  return p;
}

async function pick(want: string): Promise<LoadedOrt> {
  if (want === 'web') return loadWeb();
  if (want !== 'node' && want !== 'auto') {
    throw new UserError(`BNX_ONNX_RUNTIME must be node, web or auto (got "${want}")`, ['unset it to let bnx choose']);
  }
  try {
    return await loadNode();
  } catch (err) {
    if (want === 'node') {
      throw new UserError(`BNX_ONNX_RUNTIME=node but onnxruntime-node does not load: ${(err as Error).message.split('\n')[0]}`, [
        'install it with `npm install onnxruntime-node`, or unset BNX_ONNX_RUNTIME to use onnxruntime-web',
      ]);
    }
    return loadWeb();
  }
}
