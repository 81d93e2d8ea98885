#!/usr/bin/python3
"""Integrity (README "Integrity"): `verify` passes good files written on 1 and 3 ranks (under 1
and 3 ranks), fails a file with one changed value and names the point, and `--recompute`
catches a value changed together with its checksum. Damaged partial files (changed value,
changed status, a pending point marked done, changed or missing checksum) resume into the
bits of an undamaged run; a reshaped dataset (10^12 elements), or a /run/state of the layout
before it was packed (partial, or grown), refuses the resume (exit 2) and leaves the file as it
was. Ranks: 1 and 3 (mpirun)."""
import os
import shutil
import sys

import h5py
import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import estest  # noqa: E402
from estest import check  # noqa: E402

def main():
    d = estest.tmpdir()
    job = estest.write_job(os.path.join(d, "job.ini"), {
        "run": {"name": "integrity", "seed": 5},
        "grid": {"sigma_w2": "0.5, 1.5, 3", "sigma_b2": "0, 0.2", "depth": "1, 3, 6",
                 "width": "8, 16"},
        "ensemble": {"networks": 8},
    })
    one, three = os.path.join(d, "one.h5"), os.path.join(d, "three.h5")
    estest.run(["run", job, "-o", one, "--quiet"])
    estest.run(["run", job, "-o", three, "--quiet"], ranks=3)
    ref = estest.numeric_datasets(one)
    with h5py.File(one, "r") as f, h5py.File(three, "r") as g:
        check(np.array_equal(f["run/checksum"][()], g["run/checksum"][()]),
              "checksums differ between 1 and 3 ranks")
        check(np.array_equal(f["run/pair_checksum"][()], g["run/pair_checksum"][()]),
              "pair checksums differ between 1 and 3 ranks")
        # The checksum is what README says: recomputed here from the stored values alone.
        for iw, ib, i_n in [(0, 0, 0), (2, 1, 1), (1, 0, 1)]:
            check(int(f["run/checksum"][iw, ib, i_n]) == estest.point_checksum(f, iw, ib, i_n),
                  f"README's checksum of point {(iw, ib, i_n)} is not the file's")
        for g_ in ("ensemble", "mft", "theory", "phase", "run"):
            a = f[g_].attrs
            check(a.get("format") == "edgesweep/1" and a.get("job_sha256") == f.attrs["job_sha256"]
                  and a.get("git_commit") == f.attrs["git_commit"], f"/{g_} lacks the run's identity")
        check(" run " in f.attrs["history"] and ", git " in f.attrs["history"], "no history line")

    for path in (one, three):
        for ranks in (None, 3):
            p = estest.run(["verify", path, "--recompute", "4", "--seed", "1"], ranks=ranks,
                           check=False)
            check(p.returncode == 0 and "result        OK" in p.stdout,
                  f"verify of a good file ({path}, {ranks or 1} ranks): {p.returncode}\n{p.stdout}{p.stderr}")


    def point_name(f, iw, ib, i_n):
        return (f"sigma_w2 {f['sigma_w2'][iw]:.17g}, sigma_b2 {f['sigma_b2'][ib]:.17g}, "
                f"width {f['width'][i_n]:g}")


    # One changed value: verify fails (exit 2) naming the point.
    bad = os.path.join(d, "bad.h5")
    shutil.copy(one, bad)
    with h5py.File(bad, "r+") as f:
        f["ensemble/c_mean"][1, 1, 2, 0] += 1e-13
        name = point_name(f, 1, 1, 0)
    p = estest.run(["verify", bad], check=False)
    check(p.returncode == 2 and name in p.stdout and name in p.stderr,
          f"verify of a changed value: exit {p.returncode}, point not named\n{p.stdout}{p.stderr}")
    p = estest.run(["verify", bad], ranks=3, check=False)
    check(p.returncode == 2 and name in p.stderr, f"verify -n 3 of a changed value: {p.returncode}")

    # A changed /mft value fails its pair's checksum.
    shutil.copy(one, bad)
    with h5py.File(bad, "r+") as f:
        f["mft/chi1"][2, 0] *= 1.0000001
    p = estest.run(["verify", bad], check=False)
    check(p.returncode == 2 and "pair (sigma_w2 3, sigma_b2 0)" in p.stdout,
          f"verify of a changed /mft value: {p.returncode}\n{p.stdout}")

    # A value changed together with its checksum: the checksums hold, re-simulation does not.
    shutil.copy(one, bad)
    with h5py.File(bad, "r+") as f:
        f["ensemble/q_mean"][2, 0, 1, 1] *= 1.001
        f["run/checksum"][2, 0, 1] = estest.point_checksum(f, 2, 0, 1)
        name = point_name(f, 2, 0, 1)
        flat = (2 * 2 + 0) * 2 + 1
    p = estest.run(["verify", bad], check=False)
    check(p.returncode == 0, f"value and checksum changed together: checksums should hold\n{p.stdout}")
    p = estest.run(["verify", bad, "--recompute", "12"], ranks=3, check=False)
    check(p.returncode == 2 and name in p.stdout and "ensemble/q_mean" in p.stdout,
          f"--recompute did not catch the value changed with its checksum\n{p.stdout}{p.stderr}")
    p = estest.run(["verify", bad, "--point", str(flat)], check=False)
    check(p.returncode == 2 and name in p.stdout, f"--point {flat} did not catch it\n{p.stdout}")


    # Damaged partial files: each resumes into the undamaged run's bits (or is refused).
    def partial_of(tag, pending=((0, 1, 0), (2, 1, 1))):
        out = os.path.join(d, tag + ".h5")
        part = out + ".partial"
        shutil.copy(one, part)
        with h5py.File(part, "r+") as f:
            f.attrs["completed"] = ""
            for iw, ib, i_n in pending:  # as a kill leaves them
                f["run/status"][iw, ib, i_n] = 0
                f["ensemble/q_mean"][iw, ib, :, i_n] = np.nan
        return out, part


    def resume_ok(tag, damage, named=None):
        out, part = partial_of(tag)
        with h5py.File(part, "r+") as f:
            name = damage(f)
        p = estest.run(["run", job, "-o", out, "--resume", "--quiet"], check=False)
        ok = check(p.returncode == 0, f"{tag}: resume exited {p.returncode}\n{p.stderr}")
        if named:
            check(name in p.stderr, f"{tag}: the damaged point is not named:\n{p.stderr}")
        if ok:
            got = estest.numeric_datasets(out)
            diff = [k for k in ref if estest.bits(ref[k]) != estest.bits(got[k])]
            check(not diff, f"{tag}: the resumed file differs from the undamaged run in {diff}")
            with h5py.File(out, "r") as f:
                h = f.attrs["history"].splitlines()
                check(len(h) == 2 and "--resume" not in h[0] and "--resume" in h[1]
                      and all(", git " in x for x in h),
                      f"{tag}: history is not one line per command: {h}")
            p = estest.run(["verify", out], check=False)
            check(p.returncode == 0, f"{tag}: verify of the resumed file: {p.stdout}")


    def changed_value(f):
        f["ensemble/lyapunov"][1, 0, 2, 1] += 0.5
        return point_name(f, 1, 0, 1)


    def changed_state(f):
        f["run/state"][0, 0, 1, 0, 3] *= 2
        return point_name(f, 0, 0, 0)


    def changed_status(f):
        f["run/status"][2, 0, 0] = 2
        return point_name(f, 2, 0, 0)


    def pending_marked_done(f):
        f["run/status"][0, 1, 0] = 1
        return point_name(f, 0, 1, 0)


    def pending_marked_done_no_sum(f):
        f["run/status"][0, 1, 0] = 1
        f["run/checksum"][0, 1, 0] = 0
        return point_name(f, 0, 1, 0)


    def changed_checksum(f):
        f["run/checksum"][1, 1, 1] ^= np.uint64(1)
        return point_name(f, 1, 1, 1)


    def missing_checksum(f):
        f["run/checksum"][1, 1, 0] = 0
        return point_name(f, 1, 1, 0)


    for tag, dmg in [("value", changed_value), ("state", changed_state), ("status", changed_status),
                     ("pending_done", pending_marked_done),
                     ("pending_done_nosum", pending_marked_done_no_sum),
                     ("checksum", changed_checksum), ("nochecksum", missing_checksum)]:
        resume_ok(tag, dmg, named=True)

    # An undamaged partial file (pending points, no completion time) passes verify on 1 and 3 ranks.
    out, part = partial_of("sound")
    for ranks in (None, 3):
        p = estest.run(["verify", part, "--recompute", "5"], ranks=ranks, check=False)
        check(p.returncode == 0 and "(partial)" in p.stdout,
              f"verify of a sound partial file ({ranks or 1} ranks): {p.returncode}\n{p.stdout}")

    # Reshaped datasets: refused, exit 2, the file untouched.
    for tag, path, shape in [("huge", "ensemble/q_var", (10**6, 10**6)),
                             ("short", "run/networks_done", (3, 2)),
                             ("status", "run/status", (3, 2, 2, 1))]:
        out, part = partial_of("reshape_" + tag)
        with h5py.File(part, "r+") as f:
            dt = f[path].dtype
            del f[path]
            f.create_dataset(path, shape=shape, dtype=dt, chunks=True if len(shape) > 1 else None)
        before = open(part, "rb").read()
        p = estest.run(["run", job, "-o", out, "--resume", "--quiet"], check=False)
        check(p.returncode == 2 and path in p.stderr,
              f"reshaped {path}: resume exit {p.returncode}\n{p.stderr}")
        check(open(part, "rb").read() == before and not os.path.exists(out),
              f"reshaped {path}: the refused resume changed the files")
        for cmd in (["verify", part], ["info", part]):
            p = estest.run(cmd, check=False)
            check(p.returncode == 2 and path in p.stderr, f"{cmd[0]} of reshaped {path}: "
                  f"{p.returncode}\n{p.stderr}")

    # A file from before /run/state was packed (the full 18 doubles per depth there): a resume
    # of it, partial or grown by more networks, is refused (exit 2) saying so, and touches
    # nothing; verify refuses it too.
    def old_layout(path):
        with h5py.File(path, "r+") as f:
            shape = f["run/state"].shape
            del f["run/state"]
            f.create_dataset("run/state", shape=shape[:4] + (shape[4] + 7,), dtype="<f8")

    out, part = partial_of("old_layout")
    grown = os.path.join(d, "old_grown.h5")
    shutil.copy(one, grown)
    for path, extra in ((part, []), (grown, ["--set", "ensemble.networks=10"])):
        old_layout(path)
        before = open(path, "rb").read()
        target = out if path == part else grown
        p = estest.run(["run", job, "-o", target, "--resume", "--quiet"] + extra, check=False)
        check(p.returncode == 2 and "/run/state holds the full streaming state" in p.stderr
              and "older edgesweep" in p.stderr and "refusing to resume" in p.stderr,
              f"older layout {path}: resume exit {p.returncode}\n{p.stderr}")
        check(open(path, "rb").read() == before and not os.path.exists(target + ".partial" if
                                                                         path == grown else out),
              f"older layout {path}: the refused resume changed the files")
        p = estest.run(["verify", path], check=False)
        check(p.returncode == 2 and "older edgesweep" in p.stderr,
              f"verify of an older layout: {p.returncode}\n{p.stderr}")

    # Two-time overlaps (recurrent, [ensemble] lags): /ensemble/qts_* join the point checksum
    # and /mft/cts_* the pair checksum (rank counts: test_rank_invariance); a changed one fails
    # verify.
    lag_job = estest.write_job(os.path.join(d, "lags.ini"), {
        "run": {"name": "lags", "seed": 6},
        "network": {"architecture": "recurrent", "leak": 0.5, "noise": 0.1},
        "grid": {"sigma_w2": "0.5, 2", "sigma_b2": "0.1", "depth": "1, 3, 6", "width": "8, 12"},
        "ensemble": {"networks": 6, "lags": "0, 2"},
    })
    l1 = os.path.join(d, "lags1.h5")
    estest.run(["run", lag_job, "-o", l1, "--quiet"])
    with h5py.File(l1, "r") as f:
        check("ensemble/qts_ab_var" in f["run/checksum"].attrs["checksum_order"],
              "lags: the qts fields are not in checksum_order")
        check(np.isfinite(f["ensemble/qts_aa_mean"][:, :, 1:, :, :]).all()
              and np.isnan(f["ensemble/qts_aa_mean"][:, :, 0, :, 1]).all(),
              "lags: qts finite from t - L >= 1 on, NaN before")
        for iw, ib, i_n in [(0, 0, 0), (1, 0, 1)]:
            check(int(f["run/checksum"][iw, ib, i_n]) == estest.point_checksum(f, iw, ib, i_n),
                  f"lags: README's checksum of point {(iw, ib, i_n)} is not the file's")
    p = estest.run(["verify", l1, "--recompute", "4", "--seed", "1"], check=False)
    check(p.returncode == 0 and "result        OK" in p.stdout, f"lags: verify\n{p.stdout}")
    shutil.copy(l1, bad)
    with h5py.File(bad, "r+") as f:
        f["ensemble/qts_ab_mean"][1, 0, 2, 1, 1] += 1e-13
        name = point_name(f, 1, 0, 1)
    p = estest.run(["verify", bad], check=False)
    check(p.returncode == 2 and name in p.stdout, f"lags: a changed qts value passes\n{p.stdout}")
    shutil.copy(l1, bad)
    with h5py.File(bad, "r+") as f:
        f["mft/cts_aa"][1, 0, 2, 1] *= 1.0000001
    p = estest.run(["verify", bad], check=False)
    check(p.returncode == 2 and "pair (sigma_w2 2, sigma_b2 0.1" in p.stdout,
          f"lags: a changed /mft/cts value passes\n{p.stdout}")

    estest.finish()


if __name__ == "__main__":
    main()
