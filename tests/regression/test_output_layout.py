#!/usr/bin/python3
"""The output file (doc/output.md): dimension scales on every axis (xarray names the coordinates),
units and long_name on every dataset, provenance attributes, the job's canonical SHA-256,
NaN with a reason where a value does not exist, and .partial renamed on success."""
import hashlib
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import estest  # noqa: E402
import h5py  # noqa: E402
import numpy as np  # noqa: E402
import xarray as xr  # noqa: E402


def main():
    d = estest.tmpdir()
    sections = {
        "run": {"name": "lay", "seed": 5},
        "network": {"activation": "erf", "c0": 0.1},
        "grid": {"sigma_w2": "logspace(-0.2, 0.4, 3)", "sigma_b2": "0.1, 0", "depth": "range(1, 9, 2)",
                 "width": "16, 8"},
        "ensemble": {"networks": 5},
    }
    job = estest.write_job(os.path.join(d, "lay.ini"), sections)
    out = os.path.join(d, "lay.h5")
    p = estest.run(["run", job, "-o", out])
    estest.check("points" in p.stderr and "wrote" in p.stderr, f"no progress lines: {p.stderr}")
    estest.check(os.path.exists(out) and not os.path.exists(out + ".partial"), ".partial not renamed")

    with h5py.File(out, "r") as f:
        for a in ("format", "version", "git_commit", "job", "job_sha256", "seed", "command_line",
                  "ranks", "created", "completed", "libraries", "host"):
            estest.check(a in f.attrs, f"root attribute {a} missing")
        estest.check(f.attrs["format"] == "edgesweep/1", f"format {f.attrs['format']}")
        estest.check(f.attrs["job"] == open(job).read(), "job text differs from the file")
        canon = f.attrs["job_canonical"]
        estest.check(hashlib.sha256(canon.encode()).hexdigest() == f.attrs["job_sha256"],
                     "job_sha256 is not the SHA-256 of the canonical form")
        estest.check(f.attrs["completed"] != "", "completed is empty after a finished run")
        libs = f.attrs["libraries"]
        estest.check("Open MPI" in libs and "HDF5" in libs and "path" in libs, f"libraries: {libs}")
        # Axes are sorted ascending whatever order the job gave.
        np.testing.assert_allclose(f["sigma_w2"][()], 10 ** np.linspace(-0.2, 0.4, 3), rtol=1e-15)
        estest.check(list(f["sigma_b2"][()]) == [0, 0.1], f"sigma_b2 {f['sigma_b2'][()]}")
        estest.check(list(f["width"][()]) == [8, 16], f"width {f['width'][()]}")
        estest.check(list(f["depth"][()]) == [1, 3, 5, 7], f"depth {f['depth'][()]}")
        for g in ("ensemble", "mft", "run", "phase"):
            for k, ds in f[g].items():
                estest.check("units" in ds.attrs and "long_name" in ds.attrs, f"{g}/{k}: no units")
        lyap = f["ensemble/lyapunov"][()]
        estest.check(np.isnan(lyap[:, :, 0, :]).all(), "lyapunov at depth 1 should be NaN")
        estest.check(np.isfinite(lyap[:, :, 1:, :]).all(), "lyapunov beyond depth 1 should exist")
        estest.check("NaN at t = 1" in f["ensemble/lyapunov"].attrs["long_name"], "no NaN reason")
        estest.check((f["ensemble/networks"][()] == 5).all(), "networks count")

    for g, dims in (("ensemble", ("sigma_w2", "sigma_b2", "depth", "width")),
                    ("mft", ("sigma_w2", "sigma_b2")), ("run", ("sigma_w2", "sigma_b2", "width")),
                    ("phase", ("sigma_w2", "sigma_b2", "width"))):
        ds = xr.open_dataset(out, group=g, engine="h5netcdf")
        name = {"ensemble": "c_mean", "mft": "chi1", "run": "status", "phase": "lyapunov"}[g]
        estest.check(ds[name].dims == dims, f"xarray {g}/{name} dims {ds[name].dims}")
        with h5py.File(out, "r") as f:
            for c in dims:
                estest.check(c in ds.coords and np.array_equal(ds[c].values, f[c][()]),
                             f"xarray {g}: coordinate {c} missing or wrong")
        print(f"xarray opens /{g}: {name}{ds[name].dims}")
        ds.close()

    # Identity is the parsed job, not its text: comments and spelling do not change it,
    # a different value does.
    text = open(job).read().replace("seed = 5", "seed   =   5   ; same value").replace("0.1, 0", "0, 1e-1")
    with open(os.path.join(d, "same.ini"), "w") as f:
        f.write("# a comment\n" + text)
    estest.run(["run", os.path.join(d, "same.ini"), "-o", os.path.join(d, "same.h5"), "--quiet"])
    estest.run(["run", job, "-o", os.path.join(d, "other.h5"), "--quiet", "--set", "run.seed=6"])
    with h5py.File(out) as a, h5py.File(os.path.join(d, "same.h5")) as b, \
            h5py.File(os.path.join(d, "other.h5")) as c:
        estest.check(a.attrs["job_sha256"] == b.attrs["job_sha256"], "same job, different hash")
        estest.check(a.attrs["job_sha256"] != c.attrs["job_sha256"], "--set seed kept the hash")
        estest.check(c.attrs["seed"] == 6, "--set run.seed=6 not applied")
        estest.check(estest.bits(a["ensemble/q_mean"][()]) == estest.bits(b["ensemble/q_mean"][()]),
                     "the same job gave different numbers")
    estest.finish()


if __name__ == "__main__":
    main()
