#!/usr/bin/python3
"""PyTorch <-> cbound model files (HDF5 schema "cbound-model" v1, include/cbound/model.h).

  export IN.pt OUT.h5 [--act A] [--beta B] [--init INIT.pt] [--dataset TEXT] [--force]
      IN.pt is a torch.save'd nn.Module whose forward is a chain of Linear layers and
      one kind of activation (ReLU / Tanh / Softplus / Identity, as modules or as
      torch.relu / F.relu / torch.tanh / F.softplus), with Flatten / view / reshape
      before the first Linear and Dropout anywhere (ignored: inference); the module is
      traced with torch.fx, so named submodules (fc1, fc2, ...) and custom classes work
      (the class must be importable: IN.pt's directory and the current directory are on
      the import path). Or a state_dict of an nn.Sequential ("0.weight", "0.bias", ...;
      then --act names the activation).
      From Python: sys.path.insert(0, "<cbound>/scripts"); import torch_interop;
      torch_interop.export_module(model, "OUT.h5", init=None, dataset="...").
      --init gives the initial weights in the same form; without it W_init = W and the
      file says init_known = 0 (distances from init are then unknown, not zero).
  import IN.h5 OUT.pt [--module MODULE.pt] [--init-out INIT.pt]
      validates IN.h5 (schema, version, shapes, finiteness, content hash) and saves the
      nn.Sequential's state_dict (and, with --module, the whole module).
  hash FILE.h5      print the content hash computed here (cbound computes the same)
  rehash FILE.h5    recompute content_hash / init_hash in place after editing weights

The content hash (cb_rng_hash64 in src/core/rng.c, chained per chunk): FNV-1a over the
bytes, then the splitmix64 finalizer; chunks in order: (depth + 3) little-endian
uint64 (depth, widths[0..depth], bias), then per layer W (float32 LE, row-major) and b.
Files are written atomically (OUT.tmp.<pid>, then rename). Exit status 1 on errors.
"""
import argparse
import os
import sys
import time

import h5py
import numpy as np

SCHEMA, VERSION = "cbound-model", 1
M64 = (1 << 64) - 1


class InteropError(Exception):
    pass


# ------------------------------------------------------------------ hash

def _hash64(data, h):
    """cb_rng_hash64: FNV-1a over bytes, then splitmix64's finalizer."""
    for byte in data:
        h = ((h ^ byte) * 0x100000001B3) & M64
    h ^= h >> 30
    h = (h * 0xBF58476D1CE4E5B9) & M64
    h ^= h >> 27
    h = (h * 0x94D049BB133111EB) & M64
    return h ^ (h >> 31)


def content_hash(Ws, bs):
    """Hex hash of shapes + float32 parameters, exactly as cb_model_hash."""
    depth = len(Ws)
    widths = [Ws[0].shape[1]] + [W.shape[0] for W in Ws]
    bias = 1 if bs is not None else 0
    head = np.array([depth] + widths + [bias], dtype="<u8").tobytes()
    h = _hash64(head, 0xCBF29CE484222325)
    for l in range(depth):
        h = _hash64(np.ascontiguousarray(Ws[l], dtype="<f4").tobytes(), h)
        if bias:
            h = _hash64(np.ascontiguousarray(bs[l], dtype="<f4").tobytes(), h)
    return "%016x" % h


# ------------------------------------------------------------------ torch side

ACTS = ("relu", "identity", "tanh", "softplus")


def _torch():
    import torch
    return torch


def _act_of(mod):
    nn = _torch().nn
    if isinstance(mod, nn.ReLU):
        return "relu", 1.0
    if isinstance(mod, nn.Tanh):
        return "tanh", 1.0
    if isinstance(mod, nn.Softplus):
        return "softplus", float(mod.beta)
    if isinstance(mod, nn.Identity):
        return "identity", 1.0
    return None


def _trace_ops(module):
    """torch.fx trace of module -> [(kind, payload, name)] along its single data path:
    ("linear", nn.Linear, name), ("act", (act, beta), name), ("flatten", None, name),
    ("dropout", None, name). Raises InteropError naming the first unsupported operation."""
    torch = _torch()
    nn, F = torch.nn, torch.nn.functional
    try:
        import torch.fx as fx
        gm = fx.symbolic_trace(module)
    except Exception as e:  # data-dependent control flow etc.
        raise InteropError("cannot trace %s with torch.fx (%s: %s); cbound imports modules whose forward is "
                           "a fixed chain of layers" % (type(module).__name__, type(e).__name__, e))
    mods = dict(gm.named_modules())
    fn_act = {torch.relu: ("relu", 1.0), F.relu: ("relu", 1.0), torch.tanh: ("tanh", 1.0), F.tanh: ("tanh", 1.0)}
    ops, prev = [], None
    for node in gm.graph.nodes:
        if node.op == "placeholder":
            if prev is not None:
                raise InteropError("the module takes more than one input (%s)" % node.name)
            prev = node
            continue
        if node.op == "output":
            if node.args[0] is not prev:
                raise InteropError("the output is not the end of the layer chain")
            break
        if node.op == "get_attr":
            raise InteropError("operation %s reads a parameter directly (%s); cbound imports Linear layers"
                               % (node.name, node.target))
        args = [a for a in node.args if isinstance(a, fx.Node)]
        if len(args) != 1 or args[0] is not prev or any(isinstance(v, fx.Node) for v in node.kwargs.values()):
            raise InteropError("operation %s (%s) is not a step of a single chain (branches, residuals and "
                               "multi-input operations are not MLP layers)" % (node.name, node.target))
        name = str(node.target)
        if node.op == "call_module":
            m = mods[node.target]
            if isinstance(m, nn.Linear):
                ops.append(("linear", m, name))
            elif isinstance(m, nn.Dropout):
                ops.append(("dropout", None, name))
            elif isinstance(m, nn.Flatten):
                ops.append(("flatten", None, name))
            elif _act_of(m) is not None:
                ops.append(("act", _act_of(m), name))
            else:
                raise InteropError("layer '%s' is %s; cbound models hold Linear layers, one activation (ReLU, Tanh, "
                                   "Softplus, Identity), Flatten and Dropout" % (name, type(m).__name__))
        elif node.op == "call_function":
            if node.target in fn_act:
                ops.append(("act", fn_act[node.target], node.name))
            elif node.target is F.softplus:
                beta = node.kwargs.get("beta", node.args[1] if len(node.args) > 1 else 1.0)
                ops.append(("act", ("softplus", float(beta)), node.name))
            elif node.target is F.dropout:
                ops.append(("dropout", None, node.name))
            elif node.target is torch.flatten:
                ops.append(("flatten", None, node.name))
            else:
                raise InteropError("function %s (%s) is not supported in a cbound MLP"
                                   % (node.name, getattr(node.target, "__name__", node.target)))
        elif node.op == "call_method":
            if node.target in ("view", "reshape", "flatten"):
                ops.append(("flatten", None, node.name))
            elif node.target in ("relu", "tanh"):
                ops.append(("act", (node.target, 1.0), node.name))
            else:
                raise InteropError("method .%s() (%s) is not supported in a cbound MLP" % (node.target, node.name))
        prev = node
    return ops


def layers_from_module(module, quiet=False):
    """nn.Module (traced with torch.fx) -> (Ws, bs or None, act, beta)."""
    Ws, bs, acts, notes = [], [], [], []
    pending_act = None
    for kind, payload, name in _trace_ops(module):
        if kind == "dropout":
            notes.append(name)
        elif kind == "flatten":
            if Ws:
                raise InteropError("'%s' reshapes between Linear layers; only a leading Flatten is an MLP" % name)
        elif kind == "linear":
            if Ws and pending_act is None:
                raise InteropError("'%s': two Linear layers without an activation between them" % name)
            if pending_act is not None:
                acts.append(pending_act)
            pending_act = None
            Ws.append(payload.weight.detach().cpu().numpy().astype("<f4"))
            bs.append(None if payload.bias is None else payload.bias.detach().cpu().numpy().astype("<f4"))
        else:
            if not Ws or pending_act is not None:
                raise InteropError("activation '%s' must follow a Linear layer" % name)
            pending_act = payload
    if not Ws:
        raise InteropError("the module has no Linear layer")
    if pending_act is not None and pending_act[0] != "identity":
        raise InteropError("the last operation is an activation (%s); cbound networks end with a Linear "
                           "layer (logits)" % pending_act[0])
    if len(set(acts)) > 1:
        raise InteropError("hidden activations differ (%s); cbound uses one activation for all hidden layers"
                           % sorted(set(acts)))
    if len({b is None for b in bs}) > 1:
        raise InteropError("some Linear layers have a bias and some do not; cbound needs all or none")
    for a, b in zip(Ws, Ws[1:]):
        if b.shape[1] != a.shape[0]:
            raise InteropError("Linear layers do not chain: %d outputs feed %d inputs" % (a.shape[0], b.shape[1]))
    if notes and not quiet:
        print("note: %s ignored (dropout is the identity at inference)" % ", ".join(notes), file=sys.stderr)
    act, beta = acts[0] if acts else ("identity", 1.0)
    return Ws, (None if bs[0] is None else bs), act, beta


def export_module(module, path, init=None, dataset="imported from PyTorch", force=False):
    """Write a cbound model file from an nn.Module (and optionally its initial-weights twin)."""
    Ws, bs, act, beta = layers_from_module(module)
    init_l = None
    if init is not None:
        W0s, b0s, _, _ = layers_from_module(init, quiet=True)
        init_l = (W0s, b0s)
    write_model(path, Ws, bs, act, beta, init_l, dataset, "", force)
    return content_hash(Ws, bs)


def layers_from_state_dict(sd, act, beta):
    """state_dict -> (Ws, bs or None, act, beta). The Linear layers are the '<prefix>.weight'
    entries in the dict's order (a module's registration order: '0', '2', ... of a Sequential,
    or 'fc1', 'fc2', ... of a custom module); their shapes must chain. A state_dict cannot say
    what runs between the layers, hence --act; export the module itself to have it traced."""
    if act is None:
        raise InteropError("a state_dict does not say which activation the network uses: pass --act "
                           "(or export the module, whose forward is traced)")
    names = [k[:-len(".weight")] for k in sd if k.endswith(".weight")]
    if not names:
        raise InteropError("the state_dict has no '<layer>.weight' entries")
    extra = [k for k in sd if not (k.endswith(".weight") or k.endswith(".bias"))]
    if extra:
        raise InteropError("unexpected state_dict entries %s (only Linear weights and biases)" % extra[:3])
    Ws = [sd[n + ".weight"].detach().cpu().numpy().astype("<f4") for n in names]
    if any(W.ndim != 2 for W in Ws):
        bad = [n for n, W in zip(names, Ws) if W.ndim != 2]
        raise InteropError("layer '%s' has a %d-dimensional weight; cbound imports Linear layers"
                           % (bad[0], sd[bad[0] + ".weight"].ndim))
    for (n0, a), (n1, b) in zip(zip(names, Ws), zip(names[1:], Ws[1:])):
        if b.shape[1] != a.shape[0]:
            raise InteropError("layers '%s' (%d outputs) and '%s' (%d inputs) do not chain in the state_dict's "
                               "order" % (n0, a.shape[0], n1, b.shape[1]))
    has_b = [n + ".bias" in sd for n in names]
    if len(set(has_b)) > 1:
        raise InteropError("some layers have a bias and some do not; cbound needs all or none")
    bs = [sd[n + ".bias"].detach().cpu().numpy().astype("<f4") for n in names] if has_b[0] else None
    return Ws, bs, act, beta


def load_torch(path, act, beta):
    torch = _torch()
    for d in (os.path.dirname(os.path.abspath(path)), os.getcwd()):  # where a custom class is defined
        if d not in sys.path:
            sys.path.insert(0, d)
    obj = torch.load(path, map_location="cpu")
    if isinstance(obj, torch.nn.Module):
        return layers_from_module(obj)
    if isinstance(obj, dict):
        return layers_from_state_dict(obj, act, beta)
    raise InteropError("%s holds a %s; expected an nn.Module or an nn.Sequential's state_dict" % (path, type(obj).__name__))


def build_sequential(Ws, bs, act, beta):
    torch = _torch()
    nn = torch.nn
    mods = []
    for l, W in enumerate(Ws):
        lin = nn.Linear(W.shape[1], W.shape[0], bias=bs is not None)
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(np.ascontiguousarray(W)))
            if bs is not None:
                lin.bias.copy_(torch.from_numpy(np.ascontiguousarray(bs[l])))
        mods.append(lin)
        if l < len(Ws) - 1:
            # nn.Softplus returns x itself where beta*x > threshold (20); cbound's softplus
            # differs from that by < 2.1e-9/beta there (src/model/mlp.c).
            mods.append({"relu": nn.ReLU, "tanh": nn.Tanh, "identity": nn.Identity}[act]()
                        if act != "softplus" else nn.Softplus(beta=beta))
    return nn.Sequential(*mods)


# ------------------------------------------------------------------ HDF5 side

def _check_shapes(Ws, bs, what):
    for l, W in enumerate(Ws):
        if W.ndim != 2:
            raise InteropError("%s: layer %d weight has rank %d, expected 2" % (what, l, W.ndim))
        if l and W.shape[1] != Ws[l - 1].shape[0]:
            raise InteropError("%s: layer %d weight is %s but layer %d has d_out = %d" %
                               (what, l, W.shape, l - 1, Ws[l - 1].shape[0]))
        if bs is not None and bs[l].shape != (W.shape[0],):
            raise InteropError("%s: layer %d bias has shape %s, expected (%d,)" % (what, l, bs[l].shape, W.shape[0]))
        for name, a in (("W", W), ("b", None if bs is None else bs[l])):
            if a is not None and not np.all(np.isfinite(a)):
                i = np.argwhere(~np.isfinite(a))[0]
                raise InteropError("%s: layer %d: %s%s is %s" % (what, l, name, list(i), a[tuple(i)]))


def _s(x):
    return np.bytes_(x.encode("utf-8"))


def write_model(path, Ws, bs, act, beta, init, dataset, train_config, force):
    if os.path.exists(path) and not force:
        raise InteropError("%s exists; refusing to overwrite it (pass --force)" % path)
    _check_shapes(Ws, bs, "weights")
    W0s, b0s = init if init is not None else (Ws, bs)
    _check_shapes(W0s, b0s, "initial weights")
    if [W.shape for W in W0s] != [W.shape for W in Ws] or (b0s is None) != (bs is None):
        raise InteropError("initial weights have another shape than the weights")
    widths = [Ws[0].shape[1]] + [W.shape[0] for W in Ws]
    tmp = "%s.tmp.%d" % (path, os.getpid())
    try:
        with h5py.File(tmp, "w") as f:
            a = f.attrs
            a.create("schema", _s(SCHEMA))
            a.create("schema_version", np.int64(VERSION), dtype="<i8")
            a.create("cbound_version", _s("torch_interop.py (PyTorch %s)" % _torch().__version__))
            a.create("depth", np.int64(len(Ws)), dtype="<i8")
            a.create("widths", np.array(widths, dtype="<u8"))
            a.create("activation", _s(act))
            a.create("beta", np.float64(beta), dtype="<f8")
            a.create("bias", np.int64(bs is not None), dtype="<i8")
            a.create("content_hash", _s(content_hash(Ws, bs)))
            a.create("init_hash", _s(content_hash(W0s, b0s)))
            a.create("init_known", np.int64(init is not None), dtype="<i8")
            if init is None:
                a.create("init_note", _s("initial weights unknown: W_init = W (exported from PyTorch)"))
            a.create("dataset", _s(dataset))
            a.create("train_config", _s(train_config))
            a.create("created", _s(time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())))
            for l, W in enumerate(Ws):
                g = f.create_group("layers/%d" % l)
                g.create_dataset("W", data=W, dtype="<f4")
                g.create_dataset("W_init", data=W0s[l], dtype="<f4")
                if bs is not None:
                    g.create_dataset("b", data=bs[l], dtype="<f4")
                    g.create_dataset("b_init", data=b0s[l], dtype="<f4")
            m = f.create_group("metrics").attrs
            for k in ("train_loss", "train_acc", "test_loss", "test_acc", "seconds", "samples_per_s"):
                m.create(k, np.float64("nan"), dtype="<f8")
            m.create("epochs", np.int64(-1), dtype="<i8")
            m.create("steps", np.int64(-1), dtype="<i8")
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _attr_str(v):
    return v.decode("utf-8") if isinstance(v, (bytes, np.bytes_)) else str(v)


def read_model(path):
    """Validated read -> dict(Ws, bs, W0s, b0s, act, beta, init_known, attrs)."""
    if not os.path.exists(path):
        raise InteropError("%s: no such file" % path)
    if not h5py.is_hdf5(path):
        raise InteropError("%s: not an HDF5 file" % path)
    with h5py.File(path, "r") as f:
        a = f.attrs
        if _attr_str(a.get("schema", b"")) != SCHEMA:
            raise InteropError("%s: not a cbound model file (schema '%s')" % (path, _attr_str(a.get("schema", b""))))
        if int(a["schema_version"]) != VERSION:
            raise InteropError("%s: model schema version %d, this script reads version %d" %
                               (path, int(a["schema_version"]), VERSION))
        depth, bias = int(a["depth"]), int(a["bias"])
        Ws, bs, W0s, b0s = [], [] if bias else None, [], [] if bias else None
        for l in range(depth):
            for name in ("W", "W_init") + (("b", "b_init") if bias else ()):
                key = "layers/%d/%s" % (l, name)
                if key not in f:
                    raise InteropError("%s: dataset /%s is missing" % (path, key))
                d = f[key]
                if d.dtype != np.dtype("<f4"):
                    raise InteropError("%s: /%s: expected float32, found %s" % (path, key, d.dtype))
                {"W": Ws, "W_init": W0s, "b": bs, "b_init": b0s}[name].append(d[...])
        _check_shapes(Ws, bs, path)
        got = content_hash(Ws, bs)
        want = _attr_str(a["content_hash"])
        if got != want:
            raise InteropError("%s: parameters hash mismatch: the file records %s, the stored parameters hash to %s"
                               % (path, want, got))
        return dict(Ws=Ws, bs=bs, W0s=W0s, b0s=b0s, act=_attr_str(a["activation"]), beta=float(a["beta"]),
                    init_known=int(a["init_known"]), dataset=_attr_str(a["dataset"]))


# ------------------------------------------------------------------ commands

def cmd_export(args):
    Ws, bs, act, beta = load_torch(args.input, args.act, args.beta)
    if args.act and args.act != act:
        raise InteropError("--act %s, but the module uses %s" % (args.act, act))
    init = None
    if args.init:
        W0s, b0s, act0, _ = load_torch(args.init, act, beta)
        init = (W0s, b0s)
    write_model(args.output, Ws, bs, act, beta, init, args.dataset or "imported from PyTorch: %s" % args.input,
                "", args.force)
    print("exported %s -> %s: %s, %s%s, %d layers, hash %s" %
          (args.input, args.output, "-".join(str(w) for w in [Ws[0].shape[1]] + [W.shape[0] for W in Ws]), act,
           " (beta %g)" % beta if act == "softplus" else "", len(Ws), content_hash(Ws, bs)))


def cmd_import(args):
    torch = _torch()
    m = read_model(args.input)
    seq = build_sequential(m["Ws"], m["bs"], m["act"], m["beta"])
    torch.save(seq.state_dict(), args.output)
    if args.module:
        torch.save(seq, args.module)
    if args.init_out:
        if not m["init_known"]:
            raise InteropError("%s: initial weights unknown (init_known = 0); nothing to write to %s" %
                               (args.input, args.init_out))
        torch.save(build_sequential(m["W0s"], m["b0s"], m["act"], m["beta"]).state_dict(), args.init_out)
    print("imported %s -> %s: %s" % (args.input, args.output, seq))


def cmd_hash(args):
    Ws, bs, _, _ = read_model_raw(args.input)
    print(content_hash(Ws, bs))


def read_model_raw(path):
    with h5py.File(path, "r") as f:
        depth, bias = int(f.attrs["depth"]), int(f.attrs["bias"])
        Ws = [f["layers/%d/W" % l][...] for l in range(depth)]
        bs = [f["layers/%d/b" % l][...] for l in range(depth)] if bias else None
        W0s = [f["layers/%d/W_init" % l][...] for l in range(depth)]
        b0s = [f["layers/%d/b_init" % l][...] for l in range(depth)] if bias else None
    return Ws, bs, W0s, b0s


def cmd_rehash(args):
    Ws, bs, W0s, b0s = read_model_raw(args.input)
    _check_shapes(Ws, bs, args.input)
    with h5py.File(args.input, "r+") as f:
        for name, value in (("content_hash", content_hash(Ws, bs)), ("init_hash", content_hash(W0s, b0s))):
            del f.attrs[name]
            f.attrs.create(name, _s(value))
    print("%s: content_hash %s, init_hash %s" % (args.input, content_hash(Ws, bs), content_hash(W0s, b0s)))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    sub = p.add_subparsers(dest="cmd", required=True)
    e = sub.add_parser("export", help="PyTorch nn.Sequential / state_dict -> cbound model file")
    e.add_argument("input")
    e.add_argument("output")
    e.add_argument("--act", choices=ACTS)
    e.add_argument("--beta", type=float, default=1.0)
    e.add_argument("--init")
    e.add_argument("--dataset")
    e.add_argument("--force", action="store_true")
    i = sub.add_parser("import", help="cbound model file -> PyTorch state_dict (and module)")
    i.add_argument("input")
    i.add_argument("output")
    i.add_argument("--module")
    i.add_argument("--init-out")
    for name in ("hash", "rehash"):
        sub.add_parser(name).add_argument("input")
    args = p.parse_args(argv)
    try:
        {"export": cmd_export, "import": cmd_import, "hash": cmd_hash, "rehash": cmd_rehash}[args.cmd](args)
    except InteropError as err:
        print("torch_interop: error: %s" % err, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
