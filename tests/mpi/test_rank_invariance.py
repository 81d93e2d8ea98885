#!/usr/bin/python3
"""SPEC §6: the numeric datasets are bitwise identical for 1, 2, 3 and 4 ranks (the random
streams are keyed by point and network, never by rank or order), and every point is done."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import estest  # noqa: E402
import h5py  # noqa: E402

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
        estest.check((f["run/status"][()] == 1).all(), f"{ranks} ranks: not every point done")
        used = set(f["run/task_rank"][()].tolist())
        estest.check(used == set(range(ranks)), f"{ranks} ranks: ranks used {sorted(used)}")
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
estest.finish()
