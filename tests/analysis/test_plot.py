#!/usr/bin/python3
"""analysis/plot draws valid figures from an edgesweep file and refuses other files.

usage: test_plot.py OUT.h5      an edgesweep output file (e.g. from jobs/demo.ini)
       test_plot.py --fake      generate a synthetic one with analysis/tests/make_fake.py

Checks: exit 0; phase_diagram.png and trajectories.png exist; every PNG printed is a real
image (signature, > 10 kB, loads with matplotlib, > 200x200, not one uniform colour);
stdout lists exactly the files written; a non-HDF5 file and an HDF5 file without the
`format` attribute give exit 2 and a message naming the file. Prints "ok" at the end.
"""
import os
import subprocess
import sys
import tempfile
import time

import h5py
import matplotlib

matplotlib.use("Agg")
import matplotlib.image as mpimg  # noqa: E402
import numpy as np  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
PLOT = os.path.join(ROOT, "analysis", "plot")
MAKE_FAKE = os.path.join(ROOT, "analysis", "tests", "make_fake.py")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
REQUIRED = ("phase_diagram.png", "trajectories.png")


def fail(msg):
    """Report a failed check and exit non-zero."""
    print(f"FAIL: {msg}", file=sys.stderr)
    sys.exit(1)


def check(cond, msg):
    """Fail with MSG unless COND."""
    if not cond:
        fail(msg)


def plot(path, out):
    """Run analysis/plot on PATH into OUT; return the CompletedProcess."""
    return subprocess.run([PLOT, path, "--out", out], capture_output=True, text=True,
                          timeout=300)


def check_png(path):
    """PATH is a real, non-trivial PNG image."""
    with open(path, "rb") as f:
        head = f.read(8)
    check(head == PNG_SIGNATURE, f"{path}: not a PNG (starts with {head!r})")
    size = os.path.getsize(path)
    check(size > 10_000, f"{path}: only {size} bytes")
    img = mpimg.imread(path)
    check(img.ndim == 3 and img.shape[0] > 200 and img.shape[1] > 200,
          f"{path}: image shape {img.shape}")
    flat = img.reshape(-1, img.shape[2])
    check(np.ptp(flat, axis=0).max() > 0, f"{path}: a single uniform colour")


def check_figures(h5path, out):
    """analysis/plot on an edgesweep file: exit 0, the required figures, valid PNGs."""
    t0 = time.monotonic()
    p = plot(h5path, out)
    took = time.monotonic() - t0
    check(p.returncode == 0, f"analysis/plot exit {p.returncode}\nstdout:\n{p.stdout}\n"
                             f"stderr:\n{p.stderr}")
    listed = [line for line in p.stdout.splitlines() if line.strip()]
    for name in REQUIRED:
        check(os.path.join(out, name) in listed, f"{name} not written; stdout:\n{p.stdout}"
                                                 f"\nstderr:\n{p.stderr}")
    check(sorted(os.listdir(out)) == sorted(os.path.basename(x) for x in listed),
          f"stdout {listed} does not match the files in {out}: {os.listdir(out)}")
    for path in listed:
        check_png(path)
    print(f"{len(listed)} figures in {took:.1f} s: {', '.join(map(os.path.basename, listed))}")
    if p.stderr.strip():
        print(p.stderr.strip())


def check_refusals(tmp):
    """Non-HDF5 file and HDF5 without `format`: exit 2, stderr names the file."""
    text = os.path.join(tmp, "not_hdf5.h5")
    with open(text, "w") as f:
        f.write("this is not an HDF5 file\n")
    bare = os.path.join(tmp, "no_format.h5")
    with h5py.File(bare, "w") as f:
        f.create_dataset("sigma_w2", data=np.arange(3.0))
    for path in (text, bare, os.path.join(tmp, "missing.h5")):
        p = plot(path, os.path.join(tmp, "refused"))
        check(p.returncode == 2, f"{path}: exit {p.returncode}, expected 2; "
                                 f"stderr: {p.stderr}")
        check(path in p.stderr and "not an edgesweep file" in p.stderr,
              f"{path}: stderr does not name the file: {p.stderr!r}")
        check(not os.path.exists(os.path.join(tmp, "refused")) or
              not os.listdir(os.path.join(tmp, "refused")), f"{path}: figures written")


def main(argv):
    """Run all checks on argv[0] (a file, or --fake)."""
    if len(argv) != 1:
        fail(__doc__)
    with tempfile.TemporaryDirectory(prefix="test_plot-") as tmp:
        h5path = argv[0]
        if h5path == "--fake":
            h5path = os.path.join(tmp, "fake.h5")
            subprocess.run([sys.executable, MAKE_FAKE, h5path], check=True)
        check(os.path.exists(h5path), f"{h5path}: no such file")
        check_figures(h5path, os.path.join(tmp, "figures"))
        check_refusals(tmp)
    print("ok")


if __name__ == "__main__":
    main(sys.argv[1:])
