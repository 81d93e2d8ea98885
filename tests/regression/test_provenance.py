#!/usr/bin/python3
"""Provenance follows the build (README "Provenance"): in a temporary clone, a commit made after
meson configured shows in `--version` and in a new file's attributes after a plain `ninja`,
which recompiles only the generated build-info file; an edit to a tracked file shows as
"-dirty". Every group names the run (format, job_sha256, git_commit). Ranks: 1."""
import os
import re
import subprocess
import sys

import h5py

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import estest  # noqa: E402
from estest import check  # noqa: E402

def main():
    src = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
    d = estest.tmpdir()
    clone = os.path.join(d, "src")
    git = ["git", "-c", "user.name=test", "-c", "user.email=test@example.org", "-C", clone]


    def sh(cmd, **kw):
        p = subprocess.run(cmd, capture_output=True, text=True, **kw)
        if p.returncode != 0:
            raise SystemExit(f"FAIL: {' '.join(cmd)}: {p.returncode}\n{p.stdout}{p.stderr}")
        return p.stdout


    sh(["git", "clone", "-q", "--shared", src, clone])
    build = os.path.join(clone, "b")
    # buildtype plain: no optimisation, the quickest full build; the provenance is the same.
    sh(["meson", "setup", build, "--buildtype=plain"], cwd=clone)
    sh(["ninja", "-C", build, "-j2", "edgesweep"])
    exe = os.path.join(build, "edgesweep")


    def version():
        return sh([exe, "--version"])


    def head():
        return sh(git + ["rev-parse", "--short=12", "HEAD"]).strip()


    v = version()
    check(f"(git {head()})" in v, f"--version does not name HEAD {head()}:\n{v}")
    for key in ("compiler", "flags", "libraries", "host"):
        check(re.search(rf"^{key}\s+\S", v, re.M), f"--version lacks {key}:\n{v}")
    check("HDF5 1." in v and "Open MPI" in v and "Random123" in v and "path" in v,
          f"--version lacks library versions or the SIMD path:\n{v}")

    # A commit after configuring: a plain ninja picks it up and recompiles one file.
    sh(git + ["commit", "-q", "--allow-empty", "-m", "a commit made after meson setup"])
    log = sh(["ninja", "-C", build, "-j2", "edgesweep"])
    compiled = re.findall(r"Compiling C object (\S+)", log)
    check(len(compiled) == 1 and "buildinfo" in compiled[0],
          f"the rebuild after a commit compiled {compiled}, not only the build info")
    v = version()
    check(f"(git {head()})" in v, f"after the commit --version still says:\n{v}")
    log = sh(["ninja", "-C", build, "-j2", "edgesweep"])
    check(not re.findall(r"Compiling C object", log), f"a no-change rebuild compiled:\n{log}")

    job = estest.write_job(os.path.join(d, "job.ini"), {
        "run": {"name": "prov", "seed": 1},
        "grid": {"sigma_w2": "1, 2", "sigma_b2": "0", "depth": "1, 2", "width": "4"},
        "ensemble": {"networks": 2},
    })
    out = os.path.join(d, "out.h5")
    sh([exe, "run", job, "-o", out, "--quiet"], env=dict(os.environ, **estest.MPI_ENV))
    with h5py.File(out, "r") as f:
        a = f.attrs
        check(a["git_commit"] == head(), f"the file's git_commit {a['git_commit']} is not {head()}")
        for key in ("compiler", "compile_flags", "libraries", "host", "created", "completed",
                    "history", "git_dirty", "ranks"):
            check(key in a and str(a[key]) != "", f"root attribute {key} missing or empty")
        check(" run " in a["history"] and f", git {head()}," in a["history"],
              f"history: {a['history']}")
        for g in ("ensemble", "mft", "theory", "phase", "run"):
            ga = f[g].attrs
            check(ga.get("git_commit") == head() and ga.get("job_sha256") == a["job_sha256"]
                  and ga.get("format") == "edgesweep/1", f"/{g} does not name the run")

    # An uncommitted edit to a tracked file: "-dirty".
    with open(os.path.join(clone, "README.md"), "a") as f:
        f.write("\nan uncommitted edit\n")
    sh(["ninja", "-C", build, "-j2", "edgesweep"])
    check(f"(git {head()}-dirty)" in version(), f"a dirty tree is not flagged:\n{version()}")
    estest.finish()


if __name__ == "__main__":
    main()
