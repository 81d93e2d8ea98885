"""Shared by the W-ref peers: the workload (read from bench/wref.ini), the subset options,
the per-network observables of doc/physics.md §10, the ensemble statistics, and the timing report with
its linear extrapolation to the full W-ref."""
import argparse
import configparser
import json
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
WREF_INI = os.path.join(HERE, "..", "wref.ini")

# Per-network observables, in the order of edgesweep's ES_NOBS (without lyapunov).
OBS = ("q", "qb", "qab", "c", "logjac", "logq", "h4")


def _axis(text, integer=False):
    """A grid axis with the job file's meaning (list, linspace, logspace, range)."""
    t = text.strip()
    for fn in ("linspace", "logspace", "range"):
        if t.startswith(fn + "("):
            args = [float(a) for a in t[len(fn) + 1:-1].split(",")]
            if fn == "linspace":
                v = np.linspace(args[0], args[1], int(args[2]))
            elif fn == "logspace":
                v = np.logspace(args[0], args[1], int(args[2]))
            else:
                v = np.arange(args[0], args[1], args[2] if len(args) > 2 else 1)
            break
    else:
        v = np.array([float(a) for a in t.split(",")])
    v = np.sort(v)
    return v.astype(np.int64) if integer else v


def wref():
    """The full W-ref workload as a dict (the job file is the one source of truth)."""
    cp = configparser.ConfigParser(inline_comment_prefixes=(" ;",))
    cp.read(WREF_INI)
    return {
        "seed": cp.getint("run", "seed"),
        "activation": cp.get("network", "activation"),
        "q0": cp.getfloat("network", "q0"),
        "c0": cp.getfloat("network", "c0"),
        "sigma_w2": _axis(cp.get("grid", "sigma_w2")),
        "sigma_b2": _axis(cp.get("grid", "sigma_b2")),
        "depth": _axis(cp.get("grid", "depth"), integer=True),
        "width": _axis(cp.get("grid", "width"), integer=True),
        "networks": cp.getint("ensemble", "networks"),
    }


def work(p, explicit):
    """Sum over points of N^2 T M (explicit weights) or N T M (gram)."""
    T = int(np.max(p["depth"]))
    per = sum(float(n) ** (2 if explicit else 1) for n in p["width"])
    return len(p["sigma_w2"]) * len(p["sigma_b2"]) * per * T * p["networks"]


def parser(desc):
    ap = argparse.ArgumentParser(description=desc)
    ap.add_argument("--sw2", help="sigma_w2 values (comma list); default: all of W-ref")
    ap.add_argument("--sb2", help="sigma_b2 values (comma list); default: all of W-ref")
    ap.add_argument("--widths", help="widths (comma list); default: all of W-ref")
    ap.add_argument("--networks", type=int, help="networks per point; default: W-ref's")
    ap.add_argument("--depth", type=int, help="deepest depth T (records 1..T); default W-ref's")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=None,
                    help="BLAS / torch threads (default: the library's own choice)")
    ap.add_argument("--out", help="write the statistics to this .npz")
    ap.add_argument("--json", action="store_true", help="one JSON line for bench/run.sh")
    return ap


def params_from(args):
    p = wref()
    if args.sw2:
        p["sigma_w2"] = np.array([float(x) for x in args.sw2.split(",")])
    if args.sb2:
        p["sigma_b2"] = np.array([float(x) for x in args.sb2.split(",")])
    if args.widths:
        p["width"] = np.array([int(x) for x in args.widths.split(",")], dtype=np.int64)
    if args.networks:
        p["networks"] = args.networks
    if args.depth:
        p["depth"] = np.arange(1, args.depth + 1, dtype=np.int64)
    if p["activation"] != "tanh":
        raise SystemExit("the peers implement tanh only (W-ref's activation)")
    return p


def measure(ha, hb, logjac):
    """Per-network observables of doc/physics.md §10 from pre-activations (..., N) and logjac (...)."""
    n = ha.shape[-1]
    qa = np.einsum("...i,...i->...", ha, ha) / n
    qb = np.einsum("...i,...i->...", hb, hb) / n
    qab = np.einsum("...i,...i->...", ha, hb) / n
    h2 = ha * ha
    return np.stack([qa, qb, qab, qab / np.sqrt(qa * qb), logjac, np.log(qa),
                     np.einsum("...i,...i->...", h2, h2) / n], axis=-1)


def stats(rec):
    """Ensemble statistics from rec (M, T, len(OBS)): means, unbiased variances, pooled
    excess kurtosis m4/m2^2 - 3 (as edgesweep's observables.c)."""
    out = {}
    for j, name in enumerate(OBS):
        out[name + "_mean"] = rec[:, :, j].mean(axis=0)
        out[name + "_var"] = rec[:, :, j].var(axis=0, ddof=1)
    m2, m4 = out["q_mean"], out["h4_mean"]
    out["kurtosis"] = m4 / (m2 * m2) - 3.0
    return out


def run_grid(p, point_fn):
    """Run point_fn(sw2, sb2, N, M, T, seed) -> rec (M, T, len(OBS)) over the grid; return
    {stat: array (sigma_w2, sigma_b2, depth, width)}, the wall time of the simulation and
    its CPU seconds (all threads of this process: less sensitive to a shared machine)."""
    T = int(np.max(p["depth"]))
    shape = (len(p["sigma_w2"]), len(p["sigma_b2"]), T, len(p["width"]))
    res = {}
    t0, c0 = time.perf_counter(), time.process_time()
    for iw, sw2 in enumerate(p["sigma_w2"]):
        for ib, sb2 in enumerate(p["sigma_b2"]):
            for inn, n in enumerate(p["width"]):
                seed = hash((p["seed"], float(sw2), float(sb2), int(n))) & 0xFFFFFFFF
                rec = point_fn(float(sw2), float(sb2), int(n), p["networks"], T, seed)
                for k, v in stats(rec).items():
                    res.setdefault(k, np.full(shape, np.nan))[iw, ib, :, inn] = v
    return res, time.perf_counter() - t0, time.process_time() - c0


def report(name, p, res, seconds, cpu, explicit, args, extra=None):
    full = work(wref(), explicit)
    sub = work(p, explicit)
    factor = full / sub
    unit = "N^2*T*M" if explicit else "N*T*M"
    info = {"peer": name, "seconds": seconds, "work": sub, "work_full": full,
            "cpu_seconds": cpu, "factor": factor, "extrapolated_seconds": seconds * factor,
            "extrapolated_cpu_seconds": cpu * factor,
            "extrapolated": factor != 1.0, "threads": args.threads}
    if extra:
        info.update(extra)
    if args.out:
        np.savez(args.out, sigma_w2=p["sigma_w2"], sigma_b2=p["sigma_b2"],
                 depth=np.arange(1, int(np.max(p["depth"])) + 1), width=p["width"], **res)
    if args.json:
        print(json.dumps(info))
    else:
        lab = "EXTRAPOLATED" if factor != 1.0 else "measured, full W-ref"
        print(f"{name}: subset {sub:.4g} {unit} in {seconds:.3f} s; full W-ref is "
              f"{factor:.4g}x the work -> {seconds * factor:.1f} s ({lab}, linear in {unit}); "
              f"CPU {cpu:.3f} s -> {cpu * factor:.1f} s")
    sys.stdout.flush()
    return info
