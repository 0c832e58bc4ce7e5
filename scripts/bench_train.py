#!/usr/bin/python3
"""PyTorch side of `make bench`: the same MLP training as `cbound bench-train`.

usage: OPENBLAS_NUM_THREADS=1 /usr/bin/python3 scripts/bench_train.py --data FILE
           [--widths 784,784,784,784,784,10] [--batch 256] [--epochs 3] [--lr 1e-3]

FILE is what `cbound bench-train --data-out FILE` wrote: x (n, widths[0]) float32,
then y (n) int32. One thread (torch.set_num_threads(1)); nn.Sequential of Linear +
ReLU, torch.optim.Adam with its defaults, cross-entropy, a fresh random order each
epoch, last partial batch kept; one warm-up epoch, then --epochs timed epochs.
Prints one key=value line like cbound's: samples_per_s (wall clock), cpu_samples_per_s
(per CPU second of the training thread), peak_rss_mb (absolute),
rss_growth_mb (peak over the process after torch import, data and a BLAS warm-up).
"""
import argparse
import resource
import sys
import time

import numpy as np
import torch


def rss_now_mb():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() / 1048576.0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--widths", default="784,784,784,784,784,10")
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--lr", type=float, default=1e-3)
    a = ap.parse_args()
    torch.set_num_threads(1)
    w = [int(v) for v in a.widths.split(",")]
    raw = np.fromfile(a.data, dtype=np.uint8)
    n = raw.size // (4 * w[0] + 4)
    if n == 0 or n * (4 * w[0] + 4) != raw.size:
        sys.exit("bench_train.py: %s: %d bytes is not n * (4 * %d + 4): data file size does not match "
                 "the widths" % (a.data, raw.size, w[0]))
    x = torch.from_numpy(raw[: 4 * n * w[0]].view(np.float32).reshape(n, w[0]).copy())
    y = torch.from_numpy(raw[4 * n * w[0]:].view(np.int32).astype(np.int64))
    torch.mm(torch.ones(64, 64), torch.ones(64, 64))  # BLAS warm-up before the baseline
    rss0 = rss_now_mb()

    torch.manual_seed(2026)
    layers = []
    for l in range(len(w) - 1):
        layers.append(torch.nn.Linear(w[l], w[l + 1]))
        if l < len(w) - 2:
            layers.append(torch.nn.ReLU())
    model = torch.nn.Sequential(*layers)
    opt = torch.optim.Adam(model.parameters(), lr=a.lr)
    lossf = torch.nn.CrossEntropyLoss()

    def epoch():
        perm = torch.randperm(n)
        for i in range(0, n, a.batch):
            idx = perm[i:i + a.batch]
            opt.zero_grad()
            loss = lossf(model(x[idx]), y[idx])
            loss.backward()
            opt.step()
        return loss.item()

    epoch()  # warm-up
    t, c = time.perf_counter(), time.thread_time()
    for _ in range(a.epochs):
        last = epoch()
    t, c = time.perf_counter() - t, time.thread_time() - c
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    n_params = sum(p.numel() for p in model.parameters())
    print("bench-train-torch widths=%s batch=%d samples=%d epochs=%d params=%d samples_per_s=%.1f "
          "cpu_samples_per_s=%.1f peak_rss_mb=%.1f rss_growth_mb=%.1f last_loss=%.4f torch=%s"
          % (a.widths, a.batch, n, a.epochs, n_params, n * a.epochs / t, n * a.epochs / c, peak,
             peak - rss0, last, torch.__version__))


if __name__ == "__main__":
    main()
