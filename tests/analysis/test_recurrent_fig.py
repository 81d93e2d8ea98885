#!/usr/bin/python3
"""The recurrent-vs-feedforward figure (analysis/edgesweep_analysis/recurrent.py) from two
small real files: exit 0 and a real, non-trivial PNG; a pair whose architectures do not match
exits 2 with a message and writes nothing. Ranks: 1."""
import os
import subprocess
import sys


def main():
    HERE = os.path.dirname(os.path.abspath(__file__))
    sys.path.insert(0, os.path.join(HERE, "..", "lib"))
    import estest  # noqa: E402

    d = estest.tmpdir()
    files = {}
    for arch in ("recurrent", "feedforward"):
        job = estest.write_job(os.path.join(d, arch + ".ini"), {
            "run": {"name": arch, "seed": 4},
            "network": {"activation": "tanh", "architecture": arch, "leak": 0.5},
            "grid": {"sigma_w2": "linspace(1, 3, 4)", "sigma_b2": "0.05", "depth": "range(1, 13)",
                     "width": "16, 32"},
            "ensemble": {"networks": 8},
        })
        files[arch] = os.path.join(d, arch + ".h5")
        estest.run(["run", job, "-o", files[arch], "--quiet"])

    env = dict(os.environ, PYTHONPATH=os.path.join(HERE, "..", "..", "analysis"))
    fig = os.path.join(d, "rf.png")
    cmd = [sys.executable, "-m", "edgesweep_analysis.recurrent"]
    p = subprocess.run(cmd + ["--pair", "leak 0.5", files["recurrent"], files["feedforward"],
                              "--out", fig], env=env, capture_output=True, text=True)
    estest.check(p.returncode == 0, f"figure: exit {p.returncode}: {p.stderr}")
    ok = os.path.exists(fig)
    estest.check(ok and open(fig, "rb").read(8) == b"\x89PNG\r\n\x1a\n" and
                 os.path.getsize(fig) > 20000, f"{fig}: not a real PNG")

    bad = os.path.join(d, "bad.png")
    p = subprocess.run(cmd + ["--pair", "swapped", files["feedforward"], files["recurrent"],
                              "--out", bad], env=env, capture_output=True, text=True)
    estest.check(p.returncode == 2 and "recurrent" in p.stderr and not os.path.exists(bad),
                 f"swapped pair: exit {p.returncode}, stderr {p.stderr!r}")
    estest.finish()


if __name__ == "__main__":
    main()
