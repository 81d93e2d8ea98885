#!/usr/bin/python3
"""Damaged and crafted output files (README "Integrity"): a real output mutated in many ways with
a fixed seed (datasets reshaped, retyped, deleted; attributes deleted, retyped, made arrays;
status values out of range; coordinates changed; file bytes truncated or overwritten). On each,
`edgesweep info`, `edgesweep verify` and the analysis reader (open_run and every dataset) end
with exit 0 or 2 and a message (or, in Python, NotEdgesweep/Skip), never a signal or another
exception. Every mutation that changes a value verify reads is caught (exit 2). The one
exception: HDF5 1.10 itself can crash inside the library when h5py reads byte-damaged metadata;
the reader runs in a child for those mutants and such a crash is reported as a NOTE.
Usage: test_fuzz_files.py EDGESWEEP [N_MUTANTS [SEED]] (default 40, seed fixed). Ranks: 1."""
import os
import random
import shutil
import subprocess
import sys

import h5py
import numpy as np

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "lib"))
sys.path.insert(0, os.path.join(here, "..", "..", "analysis"))
import estest  # noqa: E402
from estest import check  # noqa: E402
from edgesweep_analysis import NotEdgesweep, Skip, open_run  # noqa: E402

def reader(path, datasets):
    """The analysis reader on every dataset: '' when fine, else what went wrong."""
    try:
        run = open_run(path)
    except NotEdgesweep:
        return ""
    except Exception as e:  # noqa: BLE001
        return f"open_run raised {type(e).__name__}: {e}"
    with run:
        for ds in datasets:
            if ds.count("/") != 1:
                continue
            axes = {"run/status": ("sigma_w2", "sigma_b2", "width")}.get(ds)
            try:
                run.field(ds, axes or ("sigma_w2", "sigma_b2", "depth", "width"))
            except Skip:
                pass
            except Exception as e:  # noqa: BLE001
                return f"field({ds}) raised {type(e).__name__}: {e}"
        try:
            run.status_counts()
        except Exception as e:  # noqa: BLE001
            return f"status_counts raised {type(e).__name__}: {e}"
    return ""


def datasets_of(path):
    """Every dataset path of the HDF5 file PATH."""
    out = []
    with h5py.File(path, "r") as f:
        f.visititems(lambda name, o: out.append(name) if isinstance(o, h5py.Dataset) else None)
    return out


def main():
    n_mutants = int(sys.argv[2]) if len(sys.argv) > 2 else 40
    d = estest.tmpdir()
    job = estest.write_job(os.path.join(d, "job.ini"), {
        "run": {"name": "fuzz", "seed": 11},
        "grid": {"sigma_w2": "0.5, 2", "sigma_b2": "0, 0.3", "depth": "1, 4", "width": "4, 8"},
        "ensemble": {"networks": 4},
    })
    good = os.path.join(d, "good.h5")
    estest.run(["run", job, "-o", good, "--quiet"])

    datasets = datasets_of(good)
    with h5py.File(good, "r") as f:
        root_attrs = list(f.attrs)
    size = os.path.getsize(good)
    rng = random.Random(int(sys.argv[3]) if len(sys.argv) > 3 else 20261204)


    def replace(f, path, shape=None, dtype=None):
        old = f[path]
        shape = old.shape if shape is None else shape
        dtype = old.dtype if dtype is None else dtype
        del f[path]
        big = int(np.prod(shape, dtype=float)) > 10**6
        f.create_dataset(path, shape=shape, dtype=dtype, chunks=True if big else None)


    def mutate(path, kind):
        """Apply mutation KIND to PATH; return a description and whether a value verify reads
        changed (so verify must fail)."""
        if kind == "truncate":
            n = rng.randrange(0, size)
            with open(path, "r+b") as fh:
                fh.truncate(n)
            return f"truncated to {n} bytes", True
        if kind == "bytes":
            with open(path, "r+b") as fh:
                for _ in range(rng.randint(1, 8)):
                    fh.seek(rng.randrange(0, size))
                    fh.write(bytes([rng.randrange(256)]))
            return "bytes overwritten", False  # may hit padding
        with h5py.File(path, "r+") as f:
            ds = rng.choice(datasets)
            if kind == "delete":
                del f[ds]
                return f"deleted {ds}", True
            if kind == "shape":
                nd = rng.randint(0, 5)
                shape = tuple(rng.choice([1, 2, 3, 5, 10**6]) for _ in range(nd))
                if shape == f[ds].shape:
                    shape = shape + (2,)
                replace(f, ds, shape=shape)
                return f"{ds} reshaped to {shape}", True
            if kind == "dtype":
                old = f[ds].dtype
                new = rng.choice([np.int8, np.int32, np.float32, np.float64, np.uint64, "S7"])
                if np.dtype(new) == old:
                    new = np.int16
                replace(f, ds, dtype=new)
                return f"{ds} retyped {old} -> {np.dtype(new)}", True
            if kind == "status":
                st = f["run/status"]
                v = st[()]
                v.flat[rng.randrange(v.size)] = rng.choice([-1, 3, 7, 127])
                st[...] = v
                return "status out of range", True
            if kind == "coord":
                c = rng.choice(["sigma_w2", "sigma_b2", "depth", "width", "mft/sigma_w2"])
                v = f[c][()]
                v[0] = v[0] + 1
                f[c][...] = v
                return f"coordinate {c} changed", True
            if kind == "value":
                cand = [x for x in datasets if f[x].dtype.kind == "f" and
                        x.split("/")[0] in ("ensemble", "mft", "theory", "run")
                        and x.count("/") and x.split("/")[1] not in
                        ("sigma_w2", "sigma_b2", "depth", "width", "task_start", "task_end",
                         "task_seconds")]
                x = rng.choice(cand)
                v = f[x][()]
                i = rng.randrange(v.size)
                v.flat[i] = 12345.678
                f[x][...] = v
                return f"a value of {x} changed", None  # caught unless the point is pending
            if kind == "attr":
                a = rng.choice(root_attrs + ["format", "job_canonical", "networks", "job_sha256"])
                how = rng.choice(["delete", "array", "int", "text"])
                if how == "delete":
                    del f.attrs[a]
                elif how == "array":
                    f.attrs[a] = np.arange(1000, dtype=np.int64)
                elif how == "int":
                    f.attrs[a] = np.int8(-3)
                else:
                    f.attrs[a] = "[grid]\nsigma_w2 = 1e300" if a == "job_canonical" else "x"
                return f"root attribute {a}: {how}", a in ("format", "job_canonical", "networks",
                                                            "job_sha256")
            if kind == "group":
                g = rng.choice(["ensemble", "mft", "theory", "phase", "run"])
                del f[g]
                return f"group {g} deleted", True
        raise AssertionError(kind)


    kinds = ["truncate", "bytes", "delete", "shape", "dtype", "status", "coord", "value", "attr",
             "group"]
    for i in range(n_mutants):
        kind = kinds[i % len(kinds)]
        path = os.path.join(d, f"m{i}.h5")
        shutil.copy(good, path)
        what, must_fail = mutate(path, kind)
        for cmd in (["info", path], ["verify", path], ["verify", path, "--recompute", "2"]):
            # Damaged attributes may print as any bytes: decode them leniently.
            p = subprocess.run([estest.binary()] + cmd, capture_output=True, text=True,
                               errors="replace", env=dict(os.environ, **estest.MPI_ENV),
                               timeout=120)
            ok = p.returncode in (0, 2) and (p.returncode == 0 or p.stderr.strip())
            check(ok, f"mutant {i} ({what}): {cmd[0]} exited {p.returncode}\n{p.stderr[-2000:]}")
            if cmd[0] == "verify" and must_fail:
                check(p.returncode == 2, f"mutant {i} ({what}): verify passed it\n{p.stdout}")
        if kind == "bytes":
            # HDF5 1.10 itself may crash (SIGSEGV inside the library) reading byte-damaged
            # metadata through h5py, which no Python code can catch: the reader runs in a
            # child here, and such a crash is reported as that, not as the reader's fault.
            p = subprocess.run([sys.executable, __file__, "--read", good, path],
                               capture_output=True, text=True, errors="replace", timeout=300)
            if p.returncode < 0:
                print(f"NOTE mutant {i} ({what}): h5py/HDF5 died of signal {-p.returncode} "
                      "reading the damaged file (a limit of HDF5, not of the reader)")
            else:
                check(p.returncode == 0, f"mutant {i} ({what}): analysis reader: {p.stdout}"
                      f"{p.stderr[-2000:]}")
        else:
            msg = reader(path, datasets)
            check(not msg, f"mutant {i} ({what}): analysis reader: {msg}")
        if not estest.FAILURES:
            os.remove(path)
    print(f"{n_mutants} mutants")
    estest.finish()


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--read":  # one reader pass, in a child
        message = reader(sys.argv[3], datasets_of(sys.argv[2]))
        print(message)
        sys.exit(1 if message else 0)
    main()
