/**
 * The IDX format of MNIST-style datasets: a 4-byte magic (0x00 0x00 <type> <ndim>), ndim big-endian
 * uint32 dimensions, then the values. bnx reads and writes unsigned-byte IDX only: 0x00000801 for
 * labels (n), 0x00000803 for grey images (n x height x width) and 0x00000804 for colour images
 * (n x height x width x channels, channels last, as the cache stores CIFAR-10). Files may be
 * gzip-compressed.
 */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';

export const IDX_LABELS_MAGIC = 0x00000801;
export const IDX_IMAGES_MAGIC = 0x00000803;
/** Images with a channel dimension (NHWC): the same IDX convention, one more dimension. */
export const IDX_COLOR_IMAGES_MAGIC = 0x00000804;
const UBYTE = 0x08;

export interface IdxArray {
  kind: 'labels' | 'images';
  /** [n] for labels, [n, height, width] for grey images, [n, height, width, channels] for colour ones. */
  dims: number[];
  /** The values: a view into `raw`, no copy. */
  data: Uint8Array;
  /** The whole uncompressed file, header included (what the cache stores and the digest covers). */
  raw: Uint8Array;
}

/** A file that is not what it claims to be; `where` names the file so the message says what to fix. */
export class IdxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IdxError';
  }
}

export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/** Parse IDX bytes (gzip-compressed or not). Rejects a bad magic, a truncated body and trailing bytes. */
export function parseIdx(input: Uint8Array, where = 'IDX data'): IdxArray {
  let bytes = input;
  if (isGzip(bytes)) {
    try {
      bytes = gunzipSync(bytes);
    } catch (err) {
      throw new IdxError(`${where}: not a valid gzip stream (${(err as Error).message}); the file is probably truncated or corrupt`);
    }
  }
  if (bytes.length < 4) throw new IdxError(`${where}: ${bytes.length} bytes, too short to be an IDX file (needs at least a 4-byte magic number)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0);
  if (magic !== IDX_LABELS_MAGIC && magic !== IDX_IMAGES_MAGIC && magic !== IDX_COLOR_IMAGES_MAGIC) {
    const why = bytes[0] !== 0 || bytes[1] !== 0 ? 'not an IDX file' : bytes[2] !== UBYTE ? 'IDX values are not unsigned bytes' : `IDX with ${bytes[3]} dimensions`;
    throw new IdxError(
      `${where}: bad magic number 0x${magic.toString(16).padStart(8, '0')} (${why}); expected 0x00000801 (labels), 0x00000803 (images) or 0x00000804 (images with channels)`,
    );
  }
  const ndim = bytes[3]!;
  const header = 4 + 4 * ndim;
  if (bytes.length < header) throw new IdxError(`${where}: truncated inside the header (${bytes.length} bytes, the header alone needs ${header})`);
  const dims = Array.from({ length: ndim }, (_, i) => view.getUint32(4 + 4 * i));
  const expected = dims.reduce((a, b) => a * b, 1);
  const actual = bytes.length - header;
  const shape = dims.join(' x ');
  if (actual < expected) {
    throw new IdxError(`${where}: truncated: the header promises ${shape} = ${expected} bytes of values but the file holds ${actual}`);
  }
  if (actual > expected) {
    throw new IdxError(`${where}: ${actual - expected} unexpected bytes after the ${shape} values; the file is corrupt`);
  }
  return { kind: ndim === 1 ? 'labels' : 'images', dims, data: bytes.subarray(header), raw: bytes };
}

/** Encode values as an uncompressed IDX file: dims of length 1 (labels), 3 (grey images) or 4 (NHWC images). */
export function encodeIdx(data: Uint8Array, dims: number[]): Uint8Array {
  if (dims.length < 1 || dims.length === 2 || dims.length > 4) throw new Error(`encodeIdx: dims must have 1, 3 or 4 entries, got ${dims.length}`);
  const n = dims.reduce((a, b) => a * b, 1);
  if (n !== data.length) throw new Error(`encodeIdx: dims ${dims.join('x')} hold ${n} values, data has ${data.length}`);
  const header = 4 + 4 * dims.length;
  const out = new Uint8Array(header + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, dims.length === 1 ? IDX_LABELS_MAGIC : dims.length === 3 ? IDX_IMAGES_MAGIC : IDX_COLOR_IMAGES_MAGIC);
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d));
  out.set(data, header);
  return out;
}

export function readIdxFile(path: string): IdxArray {
  return parseIdx(readFileSync(path), path);
}
