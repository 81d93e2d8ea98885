#!/usr/bin/python3
"""doc/output.md, Guarantees: one bad point (here relu deep in the chaotic phase, where the pre-activations
overflow) is flagged in /run/status with a reason, its values are NaN, never garbage, and the
sweep goes on: the other points are done and the run exits 0."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import estest  # noqa: E402
import h5py  # noqa: E402
import numpy as np  # noqa: E402


def main():
    d = estest.tmpdir()
    job = estest.write_job(os.path.join(d, "bad.ini"), {
        "run": {"name": "bad", "seed": 4},
        "network": {"activation": "relu"},
        "grid": {"sigma_w2": "1.5, 2, 9", "sigma_b2": "0.1", "depth": "1, 10, 1200", "width": "32"},
        "ensemble": {"networks": 6},
    })
    out = os.path.join(d, "bad.h5")
    p = estest.run(["run", job, "-o", out], ranks=2)
    estest.check("1 flagged" in p.stderr, f"summary line: {p.stderr}")
    with h5py.File(out, "r") as f:
        status = f["run/status"][:, 0, 0]
        reason = f["run/reason"][:, 0, 0]
        done, flagged = (estest.code(f["run/status"], m) for m in ("done", "flagged"))
        estest.check(list(status) == [done, done, flagged], f"status {status}")
        estest.check(b"overflow" in reason[2], f"reason {reason[2]!r}")
        estest.check(reason[0] == b"" and reason[1] == b"", f"reasons of good points {reason[:2]}")
        q = f["ensemble/q_mean"][:, 0, :, 0]
        estest.check(np.isnan(q[2]).all(), f"flagged point has values {q[2]}")
        estest.check(np.isfinite(q[:2]).all(), "good points lost values")
        estest.check((f["ensemble/networks"][2] == 0).all(), "flagged point counts networks")
    info = estest.run(["info", out]).stdout
    estest.check("1 flagged" in info and "overflow" in info, f"info: {info}")
    estest.finish()


if __name__ == "__main__":
    main()
