#!/usr/bin/python3
"""doc/output.md, Guarantees: the numeric datasets are bitwise identical for 1, 2, 3 and 4 ranks (the random
streams are keyed by point and network, never by rank or order), and every point is done."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import estest  # noqa: E402
import h5py  # noqa: E402
import numpy as np  # noqa: E402


def grown(job, out, m, ref, what):
    """Run JOB with M networks on 2 ranks, resume it to the job's on 3, compare with REF."""
    estest.run(["run", job, "-o", out, "--quiet", "--set", f"ensemble.networks={m}"], ranks=2)
    estest.run(["run", job, "-o", out, "--quiet", "--resume"], ranks=3)
    data = estest.numeric_datasets(out)
    for k in ref:
        estest.check(estest.bits(data[k]) == estest.bits(ref[k]), f"{k}: {what} differs")
    return out


def stats(stderr):
    """{rank or 'all': {column: value}} of the EDGESWEEP_STATS lines (doc/running.md)."""
    lines = [ln.split(":", 2)[2].split() for ln in stderr.splitlines()
             if ln.startswith("edgesweep: stats:")]
    head = lines[0][1:]
    return {v[0]: dict(zip(head, map(float, v[1:]))) for v in lines[1:]}


def main():
    d = estest.tmpdir()
    job = estest.write_job(os.path.join(d, "inv.ini"), {
        "run": {"name": "inv", "seed": 123456789},
        "network": {"activation": "tanh", "c0": 0.2},
        "grid": {"sigma_w2": "linspace(0.5, 3, 6)", "sigma_b2": "0, 0.1", "depth": "1, 2, 7, 15",
                 "width": "8, 33, 64"},
        "ensemble": {"networks": 12},
    })
    ref = None
    for ranks in (1, 2, 3, 4):
        out = os.path.join(d, f"inv{ranks}.h5")
        estest.run(["run", job, "-o", out, "--quiet"], ranks=ranks if ranks > 1 else None)
        with h5py.File(out, "r") as f:
            estest.check(f.attrs["ranks"] == ranks, f"ranks attribute {f.attrs['ranks']} != {ranks}")
            done = estest.code(f["run/status"], "done")
            estest.check((f["run/status"][()] == done).all(), f"{ranks} ranks: not every point done")
            # Which ranks computed is asserted below on a job with work to share: this one is
            # milliseconds, and rank 0 (which computes too) may finish it before a rank starts.
        data = estest.numeric_datasets(out)
        if ref is None:
            ref = data
            estest.check(len(ref) > 20, f"only {len(ref)} numeric datasets found")
            continue
        estest.check(set(data) == set(ref), f"{ranks} ranks: different dataset names")
        for k in ref:
            estest.check(estest.bits(data[k]) == estest.bits(ref[k]),
                         f"{k}: {ranks} ranks differ from 1 rank")
        print(f"{ranks} ranks: {len(ref)} datasets bitwise identical to 1 rank")

    # Blocks of networks_per_task = 5, folded where they ran and combined in order by their
    # point's owner: the same bits on 1, 3 and 4 ranks; against the one-by-one fold, the same
    # statistics to rounding (the block combination is another order of the same sums).
    blocks = None
    for ranks in (1, 3, 4):
        out = os.path.join(d, f"split{ranks}.h5")
        estest.run(["run", job, "-o", out, "--quiet", "--set", "ensemble.networks_per_task=5"],
                   ranks=ranks if ranks > 1 else None)
        data = estest.numeric_datasets(out)
        with h5py.File(out, "r") as f:
            begins = set(f["run/task_networks_begin"][()].tolist())
        estest.check(begins == {0, 5, 10}, f"task blocks {sorted(begins)}")
        if blocks is None:
            blocks = data
            for k in ref:
                a, b = np.asarray(data[k]), np.asarray(ref[k])
                if a.dtype.kind != "f" or k.startswith("run/"):
                    continue
                both = np.isfinite(a) & np.isfinite(b)
                estest.check((np.isfinite(a) == np.isfinite(b)).all(), f"{k}: blocks: NaN differ")
                err = np.abs(a[both] - b[both]) / (1 + np.abs(b[both]))
                worst = err.max() if err.size else 0.0
                estest.check(worst < 1e-9, f"{k}: blocks of 5 against one by one: {worst:.3g}")
            continue
        for k in blocks:
            estest.check(estest.bits(data[k]) == estest.bits(blocks[k]),
                         f"{k}: blocks of 5 on {ranks} ranks differ from 1 rank")
    print(f"blocks of 5 networks on 1, 3, 4 ranks: {len(blocks)} datasets bitwise identical")
    # A resume that raises the networks continues after whole blocks (10 -> 12) and computes
    # a point that stopped inside a block again (7 -> 12): both are the fresh run's bits.
    for m in (10, 7):
        out = os.path.join(d, f"blocks_grow{m}.h5")
        estest.run(["run", job, "-o", out, "--quiet", "--set", f"ensemble.networks={m}",
                    "--set", "ensemble.networks_per_task=5"], ranks=2)
        estest.run(["run", job, "-o", out, "--quiet", "--resume", "--set",
                    "ensemble.networks_per_task=5"], ranks=3)
        data = estest.numeric_datasets(out)
        for k in blocks:
            estest.check(estest.bits(data[k]) == estest.bits(blocks[k]),
                         f"{k}: blocks, {m} -> 12 networks differs")
        with h5py.File(out, "r") as f:
            begins = sorted(set(f["run/task_networks_begin"][()].tolist()))
        print(f"blocks: {m} -> 12 networks by --resume: bitwise identical (task begins {begins})")
    p = estest.run(["run", job, "-o", os.path.join(d, "blocks_grow10.h5"), "--resume", "--set",
                    "ensemble.networks_per_task=4"], check=False)
    estest.check(p.returncode == 2, f"a resume with other blocks: exit {p.returncode}")

    # Every rank, rank 0 included, computes: with ~0.2 s of work in 1440 tasks on 4 ranks.
    # EDGESWEEP_STATS: rank 0 answers runs of tasks (fewer requests than tasks), every rank
    # owns and writes points, and the stats add up to the plan.
    busy = os.path.join(d, "busy.h5")
    os.environ["EDGESWEEP_STATS"] = "1"
    p = estest.run(["run", job, "-o", busy, "--quiet", "--set", "ensemble.networks=400", "--set",
                    "ensemble.networks_per_task=10"], ranks=4)
    del os.environ["EDGESWEEP_STATS"]
    with h5py.File(busy, "r") as f:
        used = f["run/task_rank"][()].tolist()
    counts = [used.count(r) for r in range(4)]
    estest.check(min(counts) > 0, f"tasks per rank on 4 ranks: {counts}")
    print(f"tasks per rank on 4 ranks: {counts}")
    st = stats(p.stderr)
    estest.check(sorted(st) == ["0", "1", "2", "3", "all"], f"stats lines: {sorted(st)}")
    estest.check([st[str(r)]["tasks"] for r in range(4)] == counts,
                 f"stats tasks {[st[str(r)]['tasks'] for r in range(4)]} != ledger {counts}")
    estest.check(st["all"]["points"] == 36 and min(st[str(r)]["points"] for r in range(4)) > 0,
                 f"points written per rank: {[st[str(r)]['points'] for r in range(4)]}")
    estest.check(st["all"]["pairs"] == 12, f"pairs {st['all']['pairs']}")
    estest.check(0 < st["0"]["requests"] < len(used) / 4,
                 f"rank 0 answered {st['0']['requests']} requests for {len(used)} tasks")
    print(f"stats: {st['0']['requests']:.0f} requests for {len(used)} tasks, points written "
          f"per rank {[st[str(r)]['points'] for r in range(4)]}")

    # Recording 24 depths (a pair's slab is rewritten whole, so a pair's points share an
    # owner), on 5 and 8 ranks (9 points: cut into tasks of 5 and 3 networks, whose
    # measurements the owner folds one by one), more ranks than pairs: still the same bits.
    deep = estest.write_job(os.path.join(d, "deep.ini"), {
        "run": {"name": "deep", "seed": 5},
        "grid": {"sigma_w2": "0.5, 1.5, 2.5", "sigma_b2": "0.1", "depth": "range(1, 25)",
                 "width": "8, 16, 33"},
        "ensemble": {"networks": 9},
    })
    dref = None
    for ranks, extra in ((1, []), (5, []), (8, [])):
        out = os.path.join(d, f"deep{ranks}.h5")
        estest.run(["run", deep, "-o", out, "--quiet"] + extra, ranks=ranks if ranks > 1 else None)
        data = estest.numeric_datasets(out)
        if dref is None:
            dref = data
            continue
        for k in dref:
            estest.check(estest.bits(data[k]) == estest.bits(dref[k]),
                         f"24 depths: {k}: {ranks} ranks differ from 1 rank")
    print("24 depths, split points on 5 and 8 ranks for 3 pairs: bitwise identical")

    # Raising networks from 7 to 12 and resuming computes only the new networks and gives the
    # bits of a fresh run with 12 (doc/output.md, Guarantees).
    grow = grown(job, os.path.join(d, "grow.h5"), 7, ref, "7 -> 12 networks")
    with h5py.File(grow, "r") as f:
        estest.check(f.attrs["networks"] == 12, f"networks attribute {f.attrs['networks']}")
        estest.check((f["run/networks_done"][()] == 12).all(), "networks_done")
        estest.check("resumes" in f.attrs, "the resume is not recorded")
    p = estest.run(["run", job, "-o", grow, "--resume", "--set", "ensemble.networks=5"], check=False)
    estest.check(p.returncode == 2 and "not remove" in p.stderr, f"lowering networks: {p.stderr}")
    print("7 -> 12 networks by --resume: bitwise identical to a fresh run with 12")

    # Two-time overlaps of recurrent nets ([ensemble] lags: a ring of past layers, a longer
    # state per depth): the same bits on 1, 2 and 4 ranks, split into tasks on 4 ranks, and after
    # growing by --resume.
    lag_job = estest.write_job(os.path.join(d, "lags.ini"), {
        "run": {"name": "lags", "seed": 31},
        "network": {"architecture": "recurrent", "leak": 0.5, "noise": 0.1, "c0": 0.3},
        "grid": {"sigma_w2": "0.8, 2.5", "sigma_b2": "0.1", "depth": "1, 4, 9", "width": "8, 21"},
        "ensemble": {"networks": 10, "lags": "1, 3, 8"},
    })
    lref = None
    for ranks, extra in ((1, []), (2, []), (4, [])):
        out = os.path.join(d, f"lags{ranks}.h5")
        estest.run(["run", lag_job, "-o", out, "--quiet"] + extra,
                   ranks=ranks if ranks > 1 else None)
        data = estest.numeric_datasets(out)
        if lref is None:
            lref = data
            estest.check("ensemble/qts_ab_mean" in lref and "mft/cts_ab" in lref,
                         "lags: no two-time datasets")
            continue
        for k in lref:
            estest.check(estest.bits(data[k]) == estest.bits(lref[k]),
                         f"lags: {k}: {ranks} ranks differ from 1 rank")
    grown(lag_job, os.path.join(d, "lags_grow.h5"), 3, lref, "lags: 3 -> 10 networks")
    print(f"lags: {len(lref)} datasets bitwise identical on 1, 2, 4 ranks and after a resume")
    estest.finish()


if __name__ == "__main__":
    main()
