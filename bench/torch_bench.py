#!/usr/bin/env python3
"""The PyTorch side of `npm run bench -- --torch`: the bench's models in PyTorch's fastest plain CPU loop.

The loop is what a careful PyTorch user writes for speed: the whole data set as tensors in memory (no
DataLoader), a permutation per epoch, rows gathered by index, `zero_grad(set_to_none=True)`, SGD. The
models match bnx's (framework/model/build.ts): MLP 784-64-32-10 with ReLU, optionally Linear ->
BatchNorm1d / LayerNorm -> ReLU; the bench CNN conv 8 -> ReLU -> max-pool 2 -> conv 16 -> ReLU ->
max-pool 2 -> flatten -> 64 -> ReLU -> 10 (3x3 'same' convolutions), NCHW or channels_last.

The data comes from the bnx bench (train-bench.ts writes it once): DIR/{train,test}-{images,labels}.u8,
raw bytes in bnx's row order, so both sides train on the very same images.

  per model:  torch_bench.py --data DIR --model mlp|mlp-bn|mlp-ln|cnn [--layout nchw|channels_last]
                             [--train N] [--epochs E] [--threads 1]
  the study:  torch_bench.py --data DIR --study   (the seed study's 6 runs, 5 epochs each, one process)
  a command:  torch_bench.py --measure CMD ARG...  (runs it; its wall time and the peak RSS of its
              largest process, children included: bnx run's training processes)

Prints one line `TORCH_RESULT {json}`: per epoch the CPU seconds of training and of the test evaluation
(time.process_time, all threads of this process) and the wall seconds.
"""
import argparse
import json
import os
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

PIXELS = 784


def load(data_dir, n_train):
    def read(name, shape):
        a = np.fromfile(os.path.join(data_dir, name), dtype=np.uint8)
        return torch.from_numpy(a.reshape(shape))

    n_all = os.path.getsize(os.path.join(data_dir, 'train-labels.u8'))
    n_test = os.path.getsize(os.path.join(data_dir, 'test-labels.u8'))
    n = n_all if n_train is None else min(n_train, n_all)
    train_x = read('train-images.u8', (n_all, PIXELS))[:n].float().div_(255)
    train_y = read('train-labels.u8', (n_all,))[:n].long()
    test_x = read('test-images.u8', (n_test, PIXELS)).float().div_(255)
    test_y = read('test-labels.u8', (n_test,)).long()
    return train_x, train_y, test_x, test_y


def mlp(norm):
    layers = []
    width = PIXELS
    for units in (64, 32):
        layers.append(nn.Linear(width, units))
        if norm == 'batch':
            layers.append(nn.BatchNorm1d(units))
        elif norm == 'layer':
            layers.append(nn.LayerNorm(units))
        layers.append(nn.ReLU())
        width = units
    layers.append(nn.Linear(width, 10))
    return nn.Sequential(*layers)


def cnn():
    return nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(16 * 7 * 7, 64), nn.ReLU(), nn.Linear(64, 10),
    )


MODELS = {'mlp': lambda: mlp('none'), 'mlp-bn': lambda: mlp('batch'), 'mlp-ln': lambda: mlp('layer'), 'cnn': cnn}


def train(model_name, layout, data, epochs, seed, batch=64, lr=0.001):
    train_x, train_y, test_x, test_y = data
    torch.manual_seed(seed)
    model = MODELS[model_name]()
    image = model_name == 'cnn'
    fmt = torch.channels_last if layout == 'channels_last' else torch.contiguous_format
    if image:
        train_x = train_x.view(-1, 1, 28, 28).contiguous(memory_format=fmt)
        test_x = test_x.view(-1, 1, 28, 28).contiguous(memory_format=fmt)
        model = model.to(memory_format=fmt)
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    n = train_x.shape[0]
    out = []
    for _ in range(epochs):
        c0, w0 = time.process_time(), time.perf_counter()
        model.train()
        perm = torch.randperm(n)
        correct = 0
        for s in range(0, n, batch):
            idx = perm[s:s + batch]
            x = train_x[idx]
            if image:
                x = x.contiguous(memory_format=fmt)
            y = train_y[idx]
            logits = model(x)
            loss = F.cross_entropy(logits, y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        c1 = time.process_time()
        model.eval()
        with torch.no_grad():
            for s in range(0, test_x.shape[0], 1000):
                correct += (model(test_x[s:s + 1000]).argmax(1) == test_y[s:s + 1000]).sum().item()
        c2, w2 = time.process_time(), time.perf_counter()
        out.append({'train_cpu': c1 - c0, 'eval_cpu': c2 - c1, 'cpu': c2 - c0, 'wall': w2 - w0,
                    'test_accuracy': correct / test_x.shape[0]})
    return out


def blas():
    """The BLAS library torch's matrix products run in, and a 512^3 product's GFLOP/s. Debian's torch
    uses whatever libblas.so.3 points to: the reference BLAS (when OpenBLAS is not installed) is ~10x
    slower, which would make every ratio look better than it is."""
    a, b = torch.randn(512, 512), torch.randn(512, 512)
    torch.mm(a, b)
    t = time.perf_counter()
    for _ in range(10):
        torch.mm(a, b)
    gflops = 2 * 512 ** 3 * 10 / (time.perf_counter() - t) / 1e9
    libs = set()
    try:
        with open('/proc/self/maps') as f:
            for line in f:
                path = line.split()[-1]
                if 'blas' in path or 'mkl' in path or 'blis' in path:
                    libs.add(path)
    except OSError:
        pass
    name = 'unknown'
    if any('openblas' in p for p in libs):
        name = 'openblas'
    elif any('mkl' in p for p in libs):
        name = 'mkl'
    elif any('blis' in p for p in libs):
        name = 'blis'
    elif any('/blas/libblas' in p for p in libs):
        name = 'reference'
    return name, gflops


def measure(cmd):
    import resource
    import subprocess
    t = time.perf_counter()
    r = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - t
    # RUSAGE_CHILDREN's ru_maxrss (KiB on Linux): the largest of every waited-for descendant
    rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print('TORCH_RESULT ' + json.dumps({'status': r.returncode, 'wall': wall, 'max_rss_mb': rss,
                                        'stderr': r.stderr[-2000:]}), flush=True)


def main():
    if len(os.sys.argv) > 2 and os.sys.argv[1] == '--measure':
        return measure(os.sys.argv[2:])
    p = argparse.ArgumentParser()
    p.add_argument('--data', required=True)
    p.add_argument('--model', choices=sorted(MODELS))
    p.add_argument('--layout', choices=['nchw', 'channels_last'], default='nchw')
    p.add_argument('--train', type=int)
    p.add_argument('--epochs', type=int, default=3)
    p.add_argument('--threads', type=int, default=1, help='intra-op threads (0: PyTorch default)')
    p.add_argument('--study', action='store_true')
    a = p.parse_args()
    if a.threads > 0:
        torch.set_num_threads(a.threads)
    t0 = time.perf_counter()
    data = load(a.data, a.train)
    blas_name, gflops = blas()
    base = {'torch': torch.__version__, 'threads': torch.get_num_threads(), 'blas': blas_name, 'gemm_gflops': gflops,
            'n_train': int(data[0].shape[0]),
            'n_test': int(data[2].shape[0])}
    if a.study:
        runs = []
        for name in ('mlp', 'mlp-bn'):
            for seed in (1, 2, 3):
                ep = train(name, 'nchw', data, 5, seed)
                runs.append({'model': name, 'seed': seed, 'test_accuracy': [e['test_accuracy'] for e in ep]})
        print('TORCH_RESULT ' + json.dumps({**base, 'runs': runs, 'wall': time.perf_counter() - t0}), flush=True)
        return
    if not a.model:
        p.error('--model or --study')
    ep = train(a.model, a.layout, data, a.epochs, 1)
    print('TORCH_RESULT ' + json.dumps({**base, 'model': a.model, 'layout': a.layout, 'epochs': ep}), flush=True)


if __name__ == '__main__':
    main()
