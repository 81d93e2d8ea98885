#!/usr/bin/python3
"""analysis/plot on a small real output file: exit 0; phase_diagram.png and trajectories.png
exist; every PNG printed is a real image (signature, > 10 kB, loads with matplotlib,
> 200x200, not one uniform colour); stdout lists exactly the files written. A non-HDF5 file,
an HDF5 file without the `format` attribute and a missing file give exit 2, a message naming
the file, and no figures. Ranks: 2."""
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import estest  # noqa: E402
import h5py  # noqa: E402
import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.image as mpimg  # noqa: E402
import numpy as np  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
PLOT = os.path.join(ROOT, "analysis", "plot")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
REQUIRED = ("phase_diagram.png", "trajectories.png")


def plot(path, out):
    """Run analysis/plot on PATH into OUT; return the CompletedProcess."""
    return subprocess.run([PLOT, path, "--out", out], capture_output=True, text=True,
                          timeout=300)


def check_png(path):
    """PATH is a real, non-trivial PNG image."""
    with open(path, "rb") as f:
        head = f.read(8)
    if not estest.check(head == PNG_SIGNATURE, f"{path}: not a PNG (starts with {head!r})"):
        return
    size = os.path.getsize(path)
    estest.check(size > 10_000, f"{path}: only {size} bytes")
    img = mpimg.imread(path)
    estest.check(img.ndim == 3 and img.shape[0] > 200 and img.shape[1] > 200,
                 f"{path}: image shape {img.shape}")
    flat = img.reshape(-1, img.shape[2])
    estest.check(np.ptp(flat, axis=0).max() > 0, f"{path}: a single uniform colour")


def check_figures(h5path, out):
    """analysis/plot on an edgesweep file: exit 0, the required figures, valid PNGs."""
    t0 = time.monotonic()
    p = plot(h5path, out)
    took = time.monotonic() - t0
    if not estest.check(p.returncode == 0, f"analysis/plot exit {p.returncode}\nstdout:\n"
                                           f"{p.stdout}\nstderr:\n{p.stderr}"):
        return
    listed = [line for line in p.stdout.splitlines() if line.strip()]
    for name in REQUIRED:
        estest.check(os.path.join(out, name) in listed,
                     f"{name} not written; stdout:\n{p.stdout}\nstderr:\n{p.stderr}")
    estest.check(sorted(os.listdir(out)) == sorted(os.path.basename(x) for x in listed),
                 f"stdout {listed} does not match the files in {out}: {os.listdir(out)}")
    for path in listed:
        check_png(path)
    print(f"{len(listed)} figures in {took:.1f} s: {', '.join(map(os.path.basename, listed))}")
    if p.stderr.strip():
        print(p.stderr.strip())


def check_refusals(tmp):
    """Non-HDF5 file, HDF5 without `format`, a missing file: exit 2, stderr names the file."""
    text = os.path.join(tmp, "not_hdf5.h5")
    with open(text, "w") as f:
        f.write("this is not an HDF5 file\n")
    bare = os.path.join(tmp, "no_format.h5")
    with h5py.File(bare, "w") as f:
        f.create_dataset("sigma_w2", data=np.arange(3.0))
    refused = os.path.join(tmp, "refused")
    for path in (text, bare, os.path.join(tmp, "missing.h5")):
        p = plot(path, refused)
        estest.check(p.returncode == 2, f"{path}: exit {p.returncode}, expected 2; "
                                        f"stderr: {p.stderr}")
        estest.check(path in p.stderr and "not an edgesweep file" in p.stderr,
                     f"{path}: stderr does not name the file: {p.stderr!r}")
        estest.check(not os.path.exists(refused) or not os.listdir(refused),
                     f"{path}: figures written")


def main():
    d = estest.tmpdir()
    job = estest.write_job(os.path.join(d, "plot.ini"), {
        "run": {"name": "plot", "seed": 8},
        "network": {"activation": "tanh"},
        "grid": {"sigma_w2": "linspace(0.5, 3.5, 8)", "sigma_b2": "0, 0.1, 0.3",
                 "depth": "range(1, 25, 2)", "width": "16, 64"},
        "ensemble": {"networks": 16},
    })
    out = os.path.join(d, "plot.h5")
    estest.run(["run", job, "-o", out, "--quiet"], ranks=2)
    check_figures(out, os.path.join(d, "figures"))
    check_refusals(d)
    estest.finish()


if __name__ == "__main__":
    main()
