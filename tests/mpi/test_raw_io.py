#!/usr/bin/python3
"""doc/running.md (EDGESWEEP_STATS, raw_io): the boxes an owner reads and writes with one MPI-IO
call on the file directly hold the bytes HDF5 writes for them (EDGESWEEP_IO=hdf5 sends every
call through HDF5). Every dataset of the file is compared (the task ledger's times and ranks
aside), with lags and without, with depths above and below the 8 from which a point's slab is
rewritten whole, on 1 and 3 ranks, for files grown by --resume on the other path, and for
job shapes drawn at random (fixed seed, printed): architecture, activation, leak, noise,
grid sizes, depths, widths and lags."""
import os
import random
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import estest  # noqa: E402
import h5py  # noqa: E402


def contents(path):
    """{name: bytes} of every dataset but the ledger's timing rows."""
    out = {}
    with h5py.File(path, "r") as f:
        def visit(name, obj):
            if isinstance(obj, h5py.Dataset) and not name.startswith("run/task_"):
                v = obj[()]
                out[name] = repr(v.tolist()) if obj.dtype.kind == "O" else estest.bits(v)
        f.visititems(visit)
    return out


def raw_calls(stderr):
    """The 'all' row's raw_io column of the EDGESWEEP_STATS lines."""
    lines = [ln.split(":", 2)[2].split() for ln in stderr.splitlines()
             if ln.startswith("edgesweep: stats:")]
    head = lines[0]
    row = [r for r in lines[1:] if r[0] == "all"][0]
    return float(row[head.index("raw_io")])


def run(job, out, ranks, io, extra=()):
    """Run JOB into OUT on RANKS ranks with EDGESWEEP_IO=IO (None: unset); return raw_io."""
    env = os.environ.copy()
    os.environ["EDGESWEEP_STATS"] = "1"
    if io:
        os.environ["EDGESWEEP_IO"] = io
    else:
        os.environ.pop("EDGESWEEP_IO", None)
    try:
        p = estest.run(["run", job, "-o", out, "--quiet"] + list(extra),
                       ranks=ranks if ranks > 1 else None)
    finally:
        os.environ.clear()
        os.environ.update(env)
    return raw_calls(p.stderr)


def same(a, b, what):
    ca, cb = contents(a), contents(b)
    estest.check(set(ca) == set(cb), f"{what}: datasets differ: {sorted(set(ca) ^ set(cb))}")
    bad = [k for k in ca if k in cb and ca[k] != cb[k]]
    estest.check(not bad, f"{what}: {len(bad)} datasets differ, first {bad[:3]}")
    estest.check(len(ca) > 60, f"{what}: only {len(ca)} datasets compared")


def main():
    d = estest.tmpdir()
    base = {"run": {"name": "rawio", "seed": 77},
            "network": {"activation": "tanh", "c0": 0.3},
            "grid": {"sigma_w2": "linspace(0.6, 2.5, 4)", "sigma_b2": "0, 0.2",
                     "width": "8, 17"}}
    jobs = {
        # 12 depths and lags: slabs rewritten whole, the lag datasets written.
        "slab": dict(base, grid=dict(base["grid"], depth="range(1, 13)"),
                     ensemble={"networks": 6, "lags": "1, 3"}),
        # 3 depths: a point's columns are strided, so they go through HDF5 (the status,
        # checksum and pairs still one run each).
        "strided": dict(base, grid=dict(base["grid"], depth="1, 2, 5"),
                        ensemble={"networks": 6}),
    }
    rng = random.Random(20261205)
    for i in range(3):
        depths = sorted(rng.sample(range(1, 25), rng.randint(2, 12)))
        lags = sorted(rng.sample(range(0, max(depths)), rng.randint(0, 2)))
        arch = rng.choice(["feedforward", "recurrent"])
        net = {"architecture": arch, "activation": rng.choice(["tanh", "relu", "erf", "gelu"]),
               "leak": rng.choice([1, 1, 0.5]), "noise": rng.choice([0, 0, 0.05]),
               "c0": round(rng.uniform(-0.5, 0.9), 3)}
        grid = {"sigma_w2": f"linspace(0.5, 3, {rng.randint(1, 5)})",
                "sigma_b2": ", ".join(str(round(rng.uniform(0, 0.3), 3))
                                      for _ in range(rng.randint(1, 3))),
                "depth": ", ".join(map(str, depths)),
                "width": ", ".join(map(str, sorted(rng.sample([5, 8, 16, 24, 40], rng.randint(1, 3)))))}
        ens = {"networks": rng.randint(4, 9)}  # grown from half: at least 2
        if lags:
            ens["lags"] = ", ".join(map(str, lags))
        jobs[f"random{i}"] = {"run": {"name": f"random{i}", "seed": rng.randint(1, 10**6)},
                              "network": net, "grid": grid, "ensemble": ens}
        print(f"random{i}: {jobs[f'random{i}']}")
    for tag, sections in jobs.items():
        job = estest.write_job(os.path.join(d, f"{tag}.ini"), sections)
        for ranks in (1, 3):
            a = os.path.join(d, f"{tag}{ranks}_raw.h5")
            b = os.path.join(d, f"{tag}{ranks}_hdf5.h5")
            n_raw = run(job, a, ranks, None)
            n_hdf5 = run(job, b, ranks, "hdf5")
            estest.check(n_raw > 0, f"{tag}, {ranks} ranks: no call took the MPI-IO path")
            estest.check(n_hdf5 == 0, f"{tag}, {ranks} ranks: EDGESWEEP_IO=hdf5 made {n_hdf5} "
                                      "direct calls")
            same(a, b, f"{tag}, {ranks} ranks")
        # Grown by --resume on the other path: the state read back, the slabs patched.
        ref = os.path.join(d, f"{tag}3_raw.h5")
        m = sections["ensemble"]["networks"]
        for first, then in ((None, "hdf5"), ("hdf5", None)):
            out = os.path.join(d, f"{tag}_grown_{first}_{then}.h5")
            run(job, out, 2, first, ["--set", f"ensemble.networks={m // 2}"])
            run(job, out, 3, then, ["--resume"])
            same(ref, out, f"{tag}: {m // 2} networks on {first or 'MPI-IO'}, "
                           f"grown to {m} on {then or 'MPI-IO'}")
    estest.finish()


if __name__ == "__main__":
    main()
