#!/usr/bin/python3
"""analysis/plot on a small real output file: every figure it can draw is a valid PNG, and it
refuses files that are not edgesweep's (tests/analysis/test_plot.py does the checks)."""
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import estest  # noqa: E402

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
here = os.path.dirname(os.path.abspath(__file__))
rc = subprocess.run([sys.executable, os.path.join(here, "test_plot.py"), out]).returncode
sys.exit(rc)
