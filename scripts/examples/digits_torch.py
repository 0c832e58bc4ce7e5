#!/usr/bin/python3
"""A PyTorch MLP of the kind researchers bring to cbound, trained on the Digits set.

Usage: digits_torch.py OUTDIR

Writes into OUTDIR: train.csv and test.csv (the Digits set of python3-sklearn, 1,400 /
397 rows, 64 pixel columns and a `digit` column), digits_mlp.h5 (the trained module as a
cbound model file, exported with torch_interop.export_module), and prints PyTorch's own
train/test loss and accuracy of the module ("train LOSS ACC", "test LOSS ACC"), which a
cbound sweep over the file reproduces in its orig_* columns. The module is an ordinary
custom nn.Module: named layers, Dropout, F.relu in forward, hidden widths 40 and 24.
"""
import gzip
import os
import sys

import numpy as np
import sklearn
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import torch_interop  # noqa: E402  (cbound's scripts/)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(64, 40)
        self.drop = nn.Dropout(0.2)
        self.fc2 = nn.Linear(40, 24)
        self.fc3 = nn.Linear(24, 10)

    def forward(self, x):
        x = self.drop(F.relu(self.fc1(x)))
        x = F.relu(self.fc2(x))
        return self.fc3(x)


def main(out):
    os.makedirs(out, exist_ok=True)
    src = os.path.join(os.path.dirname(sklearn.__file__), "datasets", "data", "digits.csv.gz")
    a = np.loadtxt(gzip.open(src), delimiter=",")
    x, y = a[:, :64].astype(np.float32), a[:, 64].astype(np.int64)
    cols = ",".join(["p%d" % i for i in range(64)] + ["digit"])
    for name, sl in (("train.csv", slice(0, 1400)), ("test.csv", slice(1400, None))):
        np.savetxt(os.path.join(out, name), a[sl], delimiter=",", fmt="%g", header=cols, comments="")
    torch.manual_seed(3)
    net = Net()
    opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
    xt, yt = torch.tensor(x[:1400]), torch.tensor(y[:1400])
    for _ in range(15):
        perm = torch.randperm(1400)
        for i in range(0, 1400, 50):
            idx = perm[i:i + 50]
            opt.zero_grad()
            F.cross_entropy(net(xt[idx]), yt[idx]).backward()
            opt.step()
    net.eval()
    h = torch_interop.export_module(net, os.path.join(out, "digits_mlp.h5"), dataset="digits (sklearn), rows 0-1399",
                                    force=True)
    with torch.no_grad():
        for name, sl in (("train", slice(0, 1400)), ("test", slice(1400, None))):
            z = net(torch.tensor(x[sl]))
            yy = torch.tensor(y[sl])
            print(name, float(F.cross_entropy(z, yy)), float((z.argmax(1) == yy).float().mean()))
    print("wrote %s/digits_mlp.h5 (content %s), train.csv, test.csv" % (out, h), file=sys.stderr)


if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] in ("-h", "--help"):
        sys.exit(__doc__)
    main(sys.argv[1])
