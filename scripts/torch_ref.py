#!/usr/bin/python3
"""PyTorch reference for cbound's MLP parity test (tests/test_train.c).

usage: /usr/bin/python3 scripts/torch_ref.py DIR

DIR holds one sub-directory per case, written by the C test:
  case.json     {"widths": [...], "act": "relu", "beta": 1.0, "bias": 1, "loss": "ce"|"mse",
                 "n": N, "opt": null | {"kind": "sgd"|"adam", "lr", "momentum", "weight_decay",
                 "beta1", "beta2", "eps", "epochs", "drop_epochs": [...], "drop_factor",
                 "snapshot_step", "mask": 0|1}}
  x.f32         (n, widths[0]) float32 row-major
  y.i32 | t.f32 labels (n) int32 | targets (n, widths[-1]) float32
  params.f32    cbound's layout: per layer W (out, in) row-major, then b (out) when bias
  mask.u8       (n_params) 1 = keep (only when opt.mask)
A case may instead hold a training run ("run": {"n_train", "n_test", "epochs", "batch", "lr",
"momentum", "weight_decay"}, files xtr.f32, ytr.i32, xte.f32, yte.i32 and perm.i64 — the
minibatch order, one permutation of n_train per epoch, exactly as cbound drew it): the
script trains with SGD in that order from params.f32 and writes final.f32 and run.json
{"test_acc", "test_loss", "train_acc", "train_loss"}.
Otherwise the script writes into the same directory, in the same layouts:
  logits.f32 (n, k), loss.f64 (1 value), grad.f32 (n_params)
  and for optimizer cases: final.f32 (params after `epochs` full-batch steps) and
  snap.f32 (params after snapshot_step steps).
Optimizer cases train on the whole batch for `epochs` steps with torch.optim.SGD /
torch.optim.Adam and MultiStepLR(milestones=drop_epochs, gamma=drop_factor) stepped
once per epoch; with a mask, weights and optimizer state are multiplied by it after
every step (what cbound does for lottery-ticket training).
"""
import json
import os
import sys

import numpy as np
import torch


def build(cfg):
    w, layers = cfg["widths"], []
    act = {"relu": lambda: torch.nn.ReLU(), "identity": lambda: torch.nn.Identity(),
           "tanh": lambda: torch.nn.Tanh(),
           "softplus": lambda: torch.nn.Softplus(beta=cfg["beta"])}[cfg["act"]]
    for l in range(len(w) - 1):
        layers.append(torch.nn.Linear(w[l], w[l + 1], bias=bool(cfg["bias"])))
        if l < len(w) - 2:
            layers.append(act())
    return torch.nn.Sequential(*layers)


def linears(model):
    return [m for m in model if isinstance(m, torch.nn.Linear)]


def set_flat(model, flat):
    off = 0
    with torch.no_grad():
        for lin in linears(model):
            for p in [lin.weight] + ([lin.bias] if lin.bias is not None else []):
                k = p.numel()
                p.copy_(torch.from_numpy(flat[off:off + k].reshape(p.shape)))
                off += k
    assert off == flat.size, (off, flat.size)


def get_flat(model, grad=False):
    parts = []
    for lin in linears(model):
        for p in [lin.weight] + ([lin.bias] if lin.bias is not None else []):
            parts.append((p.grad if grad else p).detach().reshape(-1).numpy())
    return np.concatenate(parts).astype(np.float32)


def params_in_order(model):
    out = []
    for lin in linears(model):
        out.append(lin.weight)
        if lin.bias is not None:
            out.append(lin.bias)
    return out


def run_training(d, cfg):
    r, w = cfg["run"], cfg["widths"]
    ld = lambda name, dt: np.fromfile(os.path.join(d, name), dtype=dt)
    xtr = torch.from_numpy(ld("xtr.f32", np.float32).reshape(r["n_train"], w[0]))
    ytr = torch.from_numpy(ld("ytr.i32", np.int32).astype(np.int64))
    xte = torch.from_numpy(ld("xte.f32", np.float32).reshape(r["n_test"], w[0]))
    yte = torch.from_numpy(ld("yte.i32", np.int32).astype(np.int64))
    perm = torch.from_numpy(ld("perm.i64", np.int64).reshape(r["epochs"], r["n_train"]))
    model = build(cfg)
    set_flat(model, ld("params.f32", np.float32))
    opt = torch.optim.SGD(model.parameters(), lr=r["lr"], momentum=r["momentum"],
                          weight_decay=r["weight_decay"])
    lossf = torch.nn.CrossEntropyLoss()
    for e in range(r["epochs"]):
        for i in range(0, r["n_train"], r["batch"]):
            idx = perm[e, i:i + r["batch"]]
            opt.zero_grad()
            lossf(model(xtr[idx]), ytr[idx]).backward()
            opt.step()
    out = {}
    with torch.no_grad():
        for name, x, y in (("train", xtr, ytr), ("test", xte, yte)):
            z = model(x)
            out[name + "_loss"] = lossf(z, y).item()
            out[name + "_acc"] = (z.argmax(1) == y).double().mean().item()
    get_flat(model).tofile(os.path.join(d, "final.f32"))
    json.dump(out, open(os.path.join(d, "run.json"), "w"))


def run_case(d):
    cfg = json.load(open(os.path.join(d, "case.json")))
    if cfg.get("run"):
        return run_training(d, cfg)
    w, n = cfg["widths"], cfg["n"]
    x = torch.from_numpy(np.fromfile(os.path.join(d, "x.f32"), dtype=np.float32).reshape(n, w[0]))
    if cfg["loss"] == "ce":
        target = torch.from_numpy(np.fromfile(os.path.join(d, "y.i32"), dtype=np.int32).astype(np.int64))
        lossf = torch.nn.CrossEntropyLoss()
    else:
        target = torch.from_numpy(np.fromfile(os.path.join(d, "t.f32"), dtype=np.float32).reshape(n, w[-1]))
        lossf = torch.nn.MSELoss()
    flat = np.fromfile(os.path.join(d, "params.f32"), dtype=np.float32)
    model = build(cfg)
    set_flat(model, flat)

    out = model(x)
    loss = lossf(out, target)
    loss.backward()
    out.detach().numpy().astype(np.float32).tofile(os.path.join(d, "logits.f32"))
    np.array([loss.item()], dtype=np.float64).tofile(os.path.join(d, "loss.f64"))
    get_flat(model, grad=True).tofile(os.path.join(d, "grad.f32"))

    o = cfg.get("opt")
    if not o:
        return
    model.zero_grad()
    params = params_in_order(model)
    mask = None
    if o.get("mask"):
        mflat = np.fromfile(os.path.join(d, "mask.u8"), dtype=np.uint8).astype(np.float32)
        mask, off = [], 0
        for p in params:
            mask.append(torch.from_numpy(mflat[off:off + p.numel()].reshape(p.shape)))
            off += p.numel()
        with torch.no_grad():
            for p, mk in zip(params, mask):
                p.mul_(mk)
    if o["kind"] == "sgd":
        opt = torch.optim.SGD(params, lr=o["lr"], momentum=o["momentum"], weight_decay=o["weight_decay"])
    else:
        opt = torch.optim.Adam(params, lr=o["lr"], betas=(o["beta1"], o["beta2"]), eps=o["eps"],
                               weight_decay=o["weight_decay"])
    sched = torch.optim.lr_scheduler.MultiStepLR(opt, milestones=o["drop_epochs"], gamma=o["drop_factor"])
    for step in range(1, o["epochs"] + 1):
        opt.zero_grad()
        lossf(model(x), target).backward()
        opt.step()
        if mask is not None:
            with torch.no_grad():
                for p, mk in zip(params, mask):
                    p.mul_(mk)
                    for v in opt.state[p].values():
                        if torch.is_tensor(v) and v.shape == p.shape:
                            v.mul_(mk)
        sched.step()
        if step == o["snapshot_step"]:
            get_flat(model).tofile(os.path.join(d, "snap.f32"))
    get_flat(model).tofile(os.path.join(d, "final.f32"))


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    torch.set_num_threads(1)
    root = sys.argv[1]
    for name in sorted(os.listdir(root)):
        d = os.path.join(root, name)
        if os.path.isfile(os.path.join(d, "case.json")):
            run_case(d)
    print("torch_ref: torch %s, wrote references in %s" % (torch.__version__, root))


if __name__ == "__main__":
    main()
