/** The data a run trains on, as the rest of bnx sees it. */
import type { Rows } from './rows.js';

export interface Split {
  /** count x height x width x channels bytes, row-major (NHWC). */
  images: Uint8Array;
  labels: Uint8Array;
  count: number;
}

/** What a run records about its data and what its key hashes: the digest changes when the bytes do. */
export interface DatasetIdentity {
  name: string;
  /** 'official' | 'npm:<package>@<version>' | 'archive:<md5>' (an imported archive that is not the published one) | 'path:<abs>' */
  source: string;
  /** sha256 over the four uncompressed IDX files (train images, train labels, test images, test labels). */
  digest: string;
  train_count: number;
  test_count: number;
  /** True when the train/test split is not the official one (the npm fallback). */
  approximate_split: boolean;
  /** The cache folder, or the dataset folder for `path:` datasets. */
  location: string;
}

export interface Dataset {
  name: string;
  classNames: string[];
  height: number;
  width: number;
  channels: number;
  train: Split;
  test: Split;
  identity: DatasetIdentity;
  /** Where this call got the bytes: the cache, or the source that just filled it. */
  loadedFrom: 'cache' | 'official' | 'npm' | 'path' | 'import';
}

export interface DatasetRef {
  name?: string;
  path?: string;
}

export interface LoadOptions {
  /** The cache root (default $BNX_DATA_DIR, else ~/.cache/bnx/datasets). */
  dataDir?: string;
  log?: (msg: string) => void;
  /** Refill the cache from the sources even when it is valid. */
  force?: boolean;
  /** Draw download progress bars (default: when stderr is a terminal). */
  progress?: boolean;
  /**
   * The source a queued run pins (`npm:...` skips the network when the cache is empty, so the
   * cache fills from what the study was planned with). A filled cache is never replaced for it.
   */
  prefer?: string;
}

/** A split's examples as the dataset's bytes, turned into floats row by row (rows.ts). */
export interface Prepared {
  train: Rows;
  test: Rows;
  /** Present with dataset.validation: held out of train. */
  val?: Rows;
  /** [784] for flat, [28, 28, 1] for image (NHWC). */
  inputShape: number[];
  /** [height, width, channels] of the images, whatever the layout (augmentation works on it). */
  imageShape: number[];
  /** Per channel: the model input of a black pixel (byte 0), what crop padding fills with. */
  black: number[];
  featureSize: number;
  numClasses: number;
  classNames: string[];
}
