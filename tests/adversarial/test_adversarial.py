#!/usr/bin/python3
"""Adversarial cases a cluster user meets (README's promises, in every phase of a run): bad job
input, output paths, estimates, disk full and I/O errors, signals at random moments (fixed
seed), kills, damaged files and concurrent runs. Each case asserts the exit code, the message
and that nothing was lost (a resumed file bitwise equal to an uninterrupted run) or, on a
refusal, that nothing was written. Prints a table of the classes with their case counts.
Ranks: 1-2 (mpirun). Disk cases mount a small tmpfs (root) and unmount it."""
import collections
import hashlib
import os
import random
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import estest  # noqa: E402

RNG = random.Random(20261204)
COUNTS = collections.Counter()
D = estest.tmpdir()
ENV = dict(os.environ, **estest.MPI_ENV, TMPDIR=D)
MPI_TMP = os.path.join(D, "mpi")
os.mkdir(MPI_TMP)
ENV_MPIRUN = dict(ENV, OMPI_MCA_orte_tmpdir_base=MPI_TMP,
                  OMPI_MCA_btl_vader_backing_directory=MPI_TMP)

GOOD = {
    "run": {"name": "adv", "seed": 7},
    "network": {"activation": "tanh"},
    "grid": {"sigma_w2": "1, 2", "sigma_b2": "0", "depth": "1, 3", "width": "8"},
    "ensemble": {"networks": 4},
}


def job(name, sections=None, text=None):
    path = os.path.join(D, name)
    if text is not None:
        with open(path, "w") as f:
            f.write(text)
        return path
    return estest.write_job(path, sections or GOOD)


def cmd(args, ranks=1):
    c = [estest.binary()] + list(args)
    return ["mpirun", "-n", str(ranks)] + c if ranks > 1 else c


def run(args, ranks=1, timeout=120, cwd=None):
    return subprocess.run(cmd(args, ranks), capture_output=True, text=True, cwd=cwd,
                          env=ENV_MPIRUN if ranks > 1 else ENV, timeout=timeout)


def listing(d):
    return sorted(os.listdir(d))


def case(cls, name, p, code, needles=(), where=None, before=None):
    """Count one case of CLS; check the exit code, that every needle is in stderr, and (when
    WHERE and BEFORE are given) that the directory WHERE holds what it held before."""
    COUNTS[cls] += 1
    ok = estest.check(p.returncode == code,
                      f"[{cls}] {name}: exit {p.returncode}, expected {code}\n{p.stderr[-1500:]}")
    for n in needles:
        ok &= estest.check(n in p.stderr, f"[{cls}] {name}: message lacks {n!r}:\n"
                                          f"{p.stderr[-1500:]}")
    if where is not None:
        now = listing(where)
        ok &= estest.check(now == before, f"[{cls}] {name}: {where} changed: {before} -> {now}")
    if ok:
        print(f"ok   [{cls}] {name}")
    return ok


def sha(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def same_numbers(a, b):
    x, y = estest.numeric_datasets(a), estest.numeric_datasets(b)
    if x.keys() != y.keys():
        return False
    return all(estest.bits(x[k]) == estest.bits(y[k]) for k in x)


# ---------------------------------------------------------------- output paths
def output_paths():
    j = job("paths.ini")
    od = os.path.join(D, "paths")
    os.mkdir(od)
    with open(os.path.join(od, "f"), "w") as f:
        f.write("x")
    os.mkdir(os.path.join(od, "adir"))
    os.mkdir(os.path.join(od, "ro"))
    os.chmod(os.path.join(od, "ro"), 0o555)
    long_ok = "b" * 200
    cases = [
        ("empty -o", ["-o", ""], ["output path is empty"]),
        ("empty -o --force", ["-o", "", "--force"], ["output path is empty"]),
        ("directory", ["-o", od + "/adir"], ["adir is a directory"]),
        ("directory --force", ["-o", od + "/adir", "--force"], ["adir is a directory"]),
        ("directory --resume", ["-o", od + "/adir", "--resume"], ["adir is a directory"]),
        ("trailing slash", ["-o", od + "/new/"], ["names a directory"]),
        ("dot", ["-o", od + "/."], ["names a directory"]),
        ("dotdot", ["-o", od + "/.."], ["names a directory"]),
        ("parent is a file", ["-o", od + "/f/out.h5"], ["is not a directory"]),
        ("grandparent is a file", ["-o", od + "/f/x/out.h5"], ["not a directory"]),
        ("missing directory", ["-o", od + "/nope/out.h5"], ["does not exist"]),
        ("device", ["-o", "/dev/null", "--force"], ["/dev/null is a special file"]),
        ("name 250", ["-o", od + "/" + "a" * 250], ["NAME_MAX"]),
        ("name 243 (partial.init over NAME_MAX)", ["-o", od + "/" + "a" * 243], ["NAME_MAX"]),
        ("name 256", ["-o", od + "/" + "a" * 256], ["characters"]),
        ("path over PATH_MAX", ["-o", od + "/" + ("c" * 200 + "/") * 21 + "o.h5"], ["PATH_MAX"]),
        ("path over MPI-IO limit", ["-o", od + "/" + long_ok + "/" + "d" * 30 + ".h5"],
         ["MPI-IO"]),
        ("name over MPI-IO limit", ["-o", "e" * 230], ["MPI-IO"]),
        ("partial is a directory", ["-o", od + "/adir2.h5"], ["adir2.h5.partial is a directory"]),
        ("lock is a directory", ["-o", od + "/adir3.h5"], ["adir3.h5.lock is a directory"]),
        ("init is a directory", ["-o", od + "/adir4.h5", "--force"],
         ["adir4.h5.partial.init is a directory"]),
    ]
    os.mkdir(os.path.join(od, "adir2.h5.partial"))
    os.mkdir(os.path.join(od, "adir3.h5.lock"))
    os.mkdir(os.path.join(od, "adir4.h5.partial.init"))
    os.mkdir(os.path.join(od, long_ok))
    if os.geteuid() != 0:
        cases.append(("read-only directory", ["-o", od + "/ro/out.h5"], ["not writable"]))
    for name, args, needles in cases:
        before = listing(od)
        p = run(["run", j, "--quiet"] + args, cwd=od)
        case("paths", name, p, 2, needles, od, before)
        # The same refusal under mpirun, for a few.
    for name, args, needles in cases[::5]:
        before = listing(od)
        p = run(["run", j, "--quiet"] + args, ranks=2, cwd=od)
        case("paths", name + " (2 ranks)", p, 2, needles, od, before)
    # The longest accepted names do run, and leave only OUT.h5.
    for n in (180, 200):
        sub = os.path.join(od, f"ok{n}")
        os.mkdir(sub)
        p = run(["run", j, "--quiet", "-o", "o" * n], cwd=sub)
        case("paths", f"name {n} accepted", p, 0)
        estest.check(listing(sub) == ["o" * n], f"name {n}: left {listing(sub)}")
    os.chmod(os.path.join(od, "ro"), 0o755)


# ---------------------------------------------------------------- job input and messages
def job_input():
    base = "[run]\nname = m\nseed = 1\n[grid]\nsigma_w2 = 1, 2\nsigma_b2 = 0\ndepth = 1, 3\n" \
           "width = 8\n[ensemble]\nnetworks = 4\n"
    od = os.path.join(D, "input")
    os.mkdir(od)
    texts = [
        ("unclosed [grid", base.replace("[grid]", "[grid"), ["in.ini:4:", "'[grid'", "no closing"]),
        ("unclosed [ensemble", base.replace("[ensemble]", "[ensemble"),
         ["in.ini:9:", "'[ensemble'", "no closing"]),
        ("unclosed indented header", base.replace("[grid]", "  [grid"), ["in.ini:4:", "no closing"]),
        ("unclosed [run at top", base.replace("[run]", "[run"), ["in.ini:1:", "no closing"]),
        ("unclosed header over the line limit", base.replace("[grid]", "[" + "g" * 300),
         ["in.ini:4:", "longer than"]),
        ("long unclosed header", base.replace("[grid]", "[" + "g" * 150), ["in.ini:4:", "no closing"]),
        ("key line over the limit", base.replace("width = 8", "width = " + "8," * 5000 + "8"),
         ["in.ini:8:", "longer than"]),
        ("long unknown key", base.replace("width = 8", "width = 8\n" + "k" * 150 + " = 1"),
         ["in.ini:9:", "unknown key"]),
        ("long unknown section", base + "[" + "s" * 150 + "]\nx = 1\n",
         ["in.ini:12:", "unknown section"]),
        ("NUL byte", base + "\0", ["NUL"]),
        ("CRLF unclosed", base.replace("\n", "\r\n").replace("[grid]", "[grid"),
         ["in.ini:4:", "no closing"]),
        ("duplicate width", base + "[grid]\nwidth = 16\n", ["in.ini:12:", "width", "duplicate"]),
        ("depth huge", base.replace("depth = 1, 3", "depth = 1e300"), ["in.ini:7:", "depth"]),
        ("width negative", base.replace("width = 8", "width = -8"), ["in.ini:8:", "width"]),
        ("networks huge", base.replace("networks = 4", "networks = 1e30"), ["in.ini:10:", "networks"]),
        ("sigma_w2 inf", base.replace("sigma_w2 = 1, 2", "sigma_w2 = 1, inf"), ["in.ini:5:", "sigma_w2"]),
        ("linspace n huge", base.replace("sigma_w2 = 1, 2", "sigma_w2 = linspace(1, 2, 1e300)"),
         ["in.ini:5:", "sigma_w2"]),
        ("range step 0", base.replace("depth = 1, 3", "depth = range(1, 3, 0)"), ["in.ini:7:", "depth"]),
        ("only a header", "[grid]\n", ["required"]),
        ("binary garbage", "\x7fELF\x02\x01\x01" + "\xff" * 10, ["in.ini"]),
    ]
    for name, text, needles in texts:
        path = os.path.join(od, "in.ini")
        with open(path, "w", newline="") as f:
            f.write(text)
        before = listing(od)
        p = run(["check", path], cwd=od)
        case("input", name + " (check)", p, 2, needles, od, before)
        p = run(["run", path, "--quiet"], cwd=od)
        case("input", name + " (run)", p, 2, needles, od, before)
    good = os.path.join(od, "good.ini")
    with open(good, "w") as f:
        f.write(base)
    longv = ",".join(["1"] * 4000) + ",x"
    sets = [
        ("long --set value, bad number", f"grid.width={longv}", ["--set grid.width=1,1", "characters",
                                                                 "expected a number"]),
        ("long --set value, unknown key", f"grid.wodth={longv}", ["characters", "unknown key"]),
        ("long --set without dot", "x" * 9000, ["characters", "expected section.key=value"]),
        ("long --set, long section", "s" * 5000 + ".k=1", ["characters", "expected section.key=value"]),
        ("--set value over the limit", "grid.width=" + "9" * 400, ["--set grid.width=", "width"]),
    ]
    for name, s, needles in sets:
        before = listing(od)
        for verb in ("check", "run"):
            p = run([verb, good, "--set", s] + (["--quiet"] if verb == "run" else []), cwd=od)
            case("input", f"{name} ({verb})", p, 2, needles, od, before)
            estest.check(len(p.stderr) < 2000, f"{name}: message of {len(p.stderr)} characters")


def main():
    sections = [output_paths, job_input]
    only = os.environ.get("ADVERSARIAL_ONLY")
    for fn in sections:
        if only and fn.__name__ not in only.split(","):
            continue
        t0 = time.time()
        fn()
        print(f"--- {fn.__name__}: {time.time() - t0:.1f} s")
    print("\nclass           cases")
    for k, v in sorted(COUNTS.items()):
        print(f"{k:15s} {v:5d}")
    print(f"{'total':15s} {sum(COUNTS.values()):5d}")
    estest.finish()


if __name__ == "__main__":
    main()
