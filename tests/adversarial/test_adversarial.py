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

class S:
    """The run's shared state, set by setup(): the random moments' generator (fixed seed), the
    case counts per class, the scratch directory and the environments."""
    rng = counts = d = env = env_mpirun = ref = None


def setup():
    S.rng = random.Random(20261204)
    S.counts = collections.Counter()
    S.d = estest.tmpdir()
    S.env = dict(os.environ, **estest.MPI_ENV, TMPDIR=S.d)
    mpi_tmp = os.path.join(S.d, "mpi")
    os.mkdir(mpi_tmp)
    S.env_mpirun = dict(S.env, OMPI_MCA_orte_tmpdir_base=mpi_tmp,
                        OMPI_MCA_btl_vader_backing_directory=mpi_tmp)
    S.ref = {}


def good():
    return {
        "run": {"name": "adv", "seed": 7},
        "network": {"activation": "tanh"},
        "grid": {"sigma_w2": "1, 2", "sigma_b2": "0", "depth": "1, 3", "width": "8"},
        "ensemble": {"networks": 4},
    }


def job(name, sections=None, text=None):
    path = os.path.join(S.d, name)
    if text is not None:
        with open(path, "w") as f:
            f.write(text)
        return path
    return estest.write_job(path, sections or good())


def cmd(args, ranks=1):
    c = [estest.binary()] + list(args)
    return ["mpirun", "-n", str(ranks)] + c if ranks > 1 else c


def run(args, ranks=1, timeout=120, cwd=None):
    return subprocess.run(cmd(args, ranks), capture_output=True, text=True, cwd=cwd,
                          env=S.env_mpirun if ranks > 1 else S.env, timeout=timeout)


def listing(d):
    return sorted(os.listdir(d))


def case(cls, name, p, code, needles=(), where=None, before=None):
    """Count one case of CLS; check the exit code, that every needle is in stderr, and (when
    WHERE and BEFORE are given) that the directory WHERE holds what it held before."""
    S.counts[cls] += 1
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
    od = os.path.join(S.d, "paths")
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
    od = os.path.join(S.d, "input")
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


# ---------------------------------------------------------------- signals and kills
def sig_job():
    """The job of the signal, disk and kill cases: ~0.5 s alone."""
    return {
        "run": {"name": "sig", "seed": 11},
        "grid": {"sigma_w2": "linspace(0.5, 3, 6)", "sigma_b2": "0, 0.1",
                 "depth": "range(1, 25, 4)", "width": "32, 96"},
        "ensemble": {"networks": 350},
    }


def reference():
    """The uninterrupted run every interrupted one must reproduce, and its duration."""
    if not S.ref:
        j = job("sig.ini", sig_job())
        out = os.path.join(S.d, "sigref.h5")
        t0 = time.time()
        p = run(["run", j, "-o", out, "--quiet"])
        assert p.returncode == 0, p.stderr
        S.ref.update(job=j, out=out, t=time.time() - t0)
        print(f"reference run: {S.ref['t']:.2f} s")
    return S.ref


LAUNCH = os.path.join(os.path.dirname(__file__), "..", "..", "scripts", "launch.sh")


def resume_and_compare(cls, name, out):
    """Resume OUT to the end (alone) and compare it bitwise with the reference."""
    ref = reference()
    p = run(["run", ref["job"], "-o", out, "--resume", "--quiet"])
    ok = estest.check(p.returncode == 0, f"[{cls}] {name}: resume exited {p.returncode}\n{p.stderr}")
    ok = ok and estest.check(os.path.exists(out) and not os.path.exists(out + ".partial"),
                             f"[{cls}] {name}: resume left {listing(os.path.dirname(out))}")
    ok = ok and estest.check(same_numbers(out, ref["out"]),
                             f"[{cls}] {name}: resumed file differs from the uninterrupted run")
    return ok


def stopped_state(cls, name, p, out):
    """After exit 3: nothing at all, or a resumable OUT.partial (or, stopped after the end, a
    complete OUT); never a lock or a layout file."""
    d = os.path.dirname(out)
    base = os.path.basename(out)
    left = [f for f in listing(d) if f.startswith(base)]
    ok = estest.check(base + ".lock" not in left and base + ".partial.init" not in left,
                      f"[{cls}] {name}: left {left}")
    if not left:
        # A signal that reaches a rank before main() (the loader mapping MPI and HDF5) kills it
        # by the default action: only launch.sh can tell, and it says so (documented limit).
        ok &= estest.check("nothing was written" in p.stderr or
                           "while it started or finished the ranks" in p.stderr,
                           f"[{cls}] {name}: no file but the message says\n{p.stderr[-600:]}")
    elif base + ".partial" in left:
        ok &= estest.check("--resume" in p.stderr, f"[{cls}] {name}: no resume hint\n{p.stderr[-600:]}")
    else:
        ok &= estest.check(base in left and "nothing left to do" in p.stderr,
                           f"[{cls}] {name}: left {left}, message\n{p.stderr[-600:]}")
    return ok, left


def catches(pid, sigs=(signal.SIGTERM, signal.SIGINT, signal.SIGUSR1)):
    """PID has its own handlers for SIGS (/proc SigCgt)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("SigCgt:"):
                    mask = int(line.split()[1], 16)
                    return all(mask >> (int(s) - 1) & 1 for s in sigs)
    except OSError:
        pass
    return False


def wait_handlers(p):
    """Until P handles the signals: before its main runs (the loader mapping MPI and HDF5, a
    few ms), any process dies of them, which no program can change."""
    for _ in range(5000):
        if p.poll() is not None or catches(p.pid):
            return
        time.sleep(0.002)


def signal_case(cls, name, launcher, sig, delay, expect=3, target="launcher"):
    ref = reference()
    sub = os.path.join(S.d, f"{cls}-{S.counts[cls]}")
    os.mkdir(sub)
    out = os.path.join(sub, "o.h5")
    c = launcher + [estest.binary(), "run", ref["job"], "-o", out, "--quiet"]
    env = S.env_mpirun if "mpirun" in launcher else S.env
    p = subprocess.Popen(c, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    if target == "launcher":
        wait_handlers(p)
    time.sleep(delay)
    if p.poll() is not None:  # ended before the signal: it must be complete and right
        S.counts[cls] += 1
        estest.check(p.returncode == 0 and same_numbers(out, ref["out"]),
                     f"[{cls}] {name}: ended with {p.returncode} before the signal")
        print(f"ok   [{cls}] {name} (ended before the signal)")
        p.communicate()
        return
    exiting = False
    if target == "ranks":
        kids = []
        for _ in range(5000):  # both ranks started and past their loader (see wait_handlers)
            kids = subprocess.run(["pgrep", "-P", str(p.pid)], capture_output=True,
                                  text=True).stdout.split()
            if p.poll() is not None or len(kids) == 2 and all(catches(k) for k in kids):
                break
            time.sleep(0.002)
        for k in kids:
            try:
                os.kill(int(k), sig)
            except ProcessLookupError:
                pass
    else:
        # A process whose output is already renamed into place is exiting: the kernel may be
        # tearing it down, where no program can act on a signal any more (exit 0 stays right).
        exiting = os.path.exists(out)
        p.send_signal(sig)
    try:
        _, err = p.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        p.kill()
        _, err = p.communicate()
        S.counts[cls] += 1
        estest.check(False, f"[{cls}] {name}: hung for 60 s after the signal")
        return
    r = subprocess.CompletedProcess(c, p.returncode, "", err)
    finished_first = p.returncode == 0 and os.path.exists(out)
    if finished_first and (target == "ranks" or exiting):
        S.counts[cls] += 1  # the run ended before the signal: complete, nothing to check more
        estest.check(same_numbers(out, ref["out"]), f"[{cls}] {name}: finished file differs")
        print(f"ok   [{cls}] {name} (ended before the signal)")
        return
    # Under launch.sh a rank may be hit while mpirun spawns it (mpirun then ends with 138, and
    # launch.sh says so); otherwise edgesweep speaks.
    said = "launch.sh:" if "launch.sh:" in err else "edgesweep"
    if case(cls, f"{name} at {delay:.2f} s", r, expect, [said]):
        ok, left = stopped_state(cls, name, r, out)
        if ok and left:
            resume_and_compare(cls, name, out)


def signals():
    ref = reference()
    T = ref["t"]
    alone, two, launch2 = [], ["mpirun", "-n", "2"], [LAUNCH, "mpirun", "-n", "2"]
    sigs = [signal.SIGTERM, signal.SIGUSR1, signal.SIGINT]
    # Alone: any moment from exec to exit, the three signals.
    for i in range(12):
        sig = sigs[i % 3]
        signal_case("signal-alone", f"{sig.name} alone", alone, sig, S.rng.uniform(0.02, 1.1 * T))
    # The very start (MPI_Init) and the very end (closing, MPI_Finalize), alone.
    for i in range(6):
        sig = sigs[i % 3]
        signal_case("signal-alone", f"{sig.name} alone, start-up", alone, sig, S.rng.uniform(0, 0.06))
    for i in range(4):
        sig = sigs[i % 3]
        signal_case("signal-alone", f"{sig.name} alone, closing", alone, sig,
                    S.rng.uniform(0.9 * T, 1.05 * T))
    # mpirun: the ranks signalled (as Slurm and a Ctrl-C on the terminal do), both at once.
    for i in range(8):
        sig = sigs[i % 3]
        signal_case("signal-mpirun", f"{sig.name} to both ranks", two, sig,
                    S.rng.uniform(0.05, 1.3 * T + 0.5), target="ranks")
    # mpirun itself given SIGUSR1 (forwarded): 3.
    for i in range(4):
        signal_case("signal-mpirun", "SIGUSR1 to mpirun", two, signal.SIGUSR1,
                    S.rng.uniform(0.3, 1.2 * T + 0.3))
    # scripts/launch.sh around mpirun: TERM, INT, USR1 at any moment give 3.
    for i in range(6):
        sig = sigs[i % 3]
        signal_case("signal-launch", f"{sig.name} to launch.sh mpirun", launch2, sig,
                    S.rng.uniform(0.02, 1.2 * T + 0.5))


# ---------------------------------------------------------------- disk full, I/O limits
class Tmpfs:
    """A small tmpfs of its own (root), unmounted at the end."""

    def __init__(self, size):
        self.dir = os.path.join(S.d, f"tmpfs{S.rng.randrange(10**9)}")
        os.mkdir(self.dir)
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", self.dir],
                           capture_output=True, text=True)
        if r.returncode != 0:
            raise SystemExit(f"FAIL: cannot mount a tmpfs (the disk cases need root): {r.stderr}")

    def fill(self):
        """Take every free byte."""
        try:
            f = open(os.path.join(self.dir, "filler"), "wb", buffering=0)
        except OSError:
            return  # full already
        with f:
            try:
                while True:
                    f.write(b"\0" * 65536)
                    f.flush()
            except OSError:
                pass
            try:
                while True:
                    f.write(b"\0" * 512)
                    f.flush()
            except OSError:
                pass

    def free(self):
        try:
            os.remove(os.path.join(self.dir, "filler"))
        except FileNotFoundError:
            pass

    def close(self):
        subprocess.run(["umount", "-l", self.dir], capture_output=True)


def no_crash(cls, name, p):
    return estest.check(p.returncode in (0, 1, 2, 3) and "Segmentation" not in p.stderr
                        and "Signal:" not in p.stderr,
                        f"[{cls}] {name}: crashed (exit {p.returncode})\n{p.stderr[-1500:]}")


def disk():
    ref = reference()
    # Too small from the start: refused up front, nothing written (also under mpirun).
    for size, ranks in (("16k", 1), ("64k", 1), ("128k", 2), ("160k", 1), ("200k", 2)):
        t = Tmpfs(size)
        try:
            out = os.path.join(t.dir, "o.h5")
            p = run(["run", ref["job"], "-o", out, "--quiet"], ranks=ranks)
            case("disk", f"{size} disk, {ranks} rank(s)", p, 2, ["free there"], t.dir, [])
            p = run(["check", ref["job"], "--set", f"run.output={out}"])
            case("disk", f"{size} disk, check", p, 2, ["free there"], t.dir, [])
        finally:
            t.close()
    # A file size limit (as a quota would) below the layout: exit 1, nothing left behind.
    for lim in (4096, 65536, 150000):
        sub = os.path.join(S.d, f"fsize{lim}")
        os.mkdir(sub)
        out = os.path.join(sub, "o.h5")

        def limit(lim=lim):
            import resource
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            resource.setrlimit(resource.RLIMIT_FSIZE, (lim, lim))
        p = subprocess.run(cmd(["run", ref["job"], "-o", out, "--quiet"]), capture_output=True,
                           text=True, env=S.env, preexec_fn=limit, timeout=120)
        S.counts["disk"] += 1
        ok = estest.check(p.returncode == 1 and "no room" in p.stderr,
                          f"[disk] file size limit {lim}: exit {p.returncode}\n{p.stderr[-800:]}")
        ok &= estest.check(listing(sub) == [], f"[disk] file size limit {lim}: left {listing(sub)}")
        if ok:
            print(f"ok   [disk] file size limit {lim}")
    # The disk fills up at a random moment of the run (layout, sweep, closing): exit 0 or 1,
    # never a crash, no layout file left; once space is freed, --resume completes the same bits.
    for i in range(8):
        ranks = 1 + i % 2
        t = Tmpfs("3m")
        try:
            out = os.path.join(t.dir, "o.h5")
            c = cmd(["run", ref["job"], "-o", out, "--quiet"], ranks)
            p = subprocess.Popen(c, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                 env=S.env_mpirun if ranks > 1 else S.env)
            delay = S.rng.uniform(0.0, 1.2 * ref["t"])
            time.sleep(delay)
            t.fill()
            try:
                _, err = p.communicate(timeout=90)
            except subprocess.TimeoutExpired:
                p.kill()
                _, err = p.communicate()
            r = subprocess.CompletedProcess(c, p.returncode, "", err)
            name = f"disk fills at {delay:.2f} s, {ranks} rank(s)"
            S.counts["disk"] += 1
            ok = no_crash("disk", name, r)
            ok &= estest.check(r.returncode == 0 or "edgesweep:" in err,
                               f"[disk] {name}: exit {r.returncode} without a message")
            left = listing(t.dir)
            ok &= estest.check(not any(f.endswith(".partial.init") for f in left),
                               f"[disk] {name}: left {left}")
            t.free()
            if ok and (os.path.exists(out) or os.path.exists(out + ".partial")):
                ok &= resume_and_compare("disk", name, out)
            elif ok:  # nothing was written: a fresh run now works
                q = run(["run", ref["job"], "-o", out, "--quiet"])
                ok &= estest.check(q.returncode == 0 and same_numbers(out, ref["out"]),
                                   f"[disk] {name}: the fresh run after it failed")
            if ok:
                print(f"ok   [disk] {name} (exit {r.returncode})")
        finally:
            t.close()
    # Killed, then resumed on a full disk (the file's room is already taken): it completes, or
    # fails with a message; after freeing space the resume completes with the same bits.
    for i in range(4):
        t = Tmpfs("3m")
        try:
            out = os.path.join(t.dir, "o.h5")
            p = subprocess.Popen(cmd(["run", ref["job"], "-o", out, "--quiet"]), env=S.env,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(S.rng.uniform(0.3, 0.8) * ref["t"])
            p.kill()
            p.wait()
            t.fill()
            r = run(["run", ref["job"], "-o", out, "--quiet", "--resume"])
            name = f"resume on a full disk #{i}"
            S.counts["disk"] += 1
            ok = no_crash("disk", name, r)
            t.free()
            if ok and (os.path.exists(out) or os.path.exists(out + ".partial")):
                ok &= resume_and_compare("disk", name, out)
            if ok:
                print(f"ok   [disk] {name} (exit {r.returncode})")
        finally:
            t.close()


# ---------------------------------------------------------------- estimates
def estimates():
    od = os.path.join(S.d, "estimates")
    os.mkdir(od)
    base = {"run": {"name": "est", "seed": 1}, "grid": {"sigma_w2": "1", "sigma_b2": "0",
                                                         "depth": "3", "width": "8"},
            "ensemble": {"networks": 2}}
    rec = {**base, "network": {"architecture": "recurrent"}}
    dm = {**base, "network": {"architecture": "recurrent", "leak": "0.5"}}
    cases = [
        ("recurrent N=2^24", rec, ["--set", "grid.width=16777216"], ["recurrent W"]),
        ("recurrent N=2^20", rec, ["--set", "grid.width=1048576"], ["recurrent W"]),
        ("recurrent N=2^24 with small widths", rec, ["--set", "grid.width=8, 16777216"], ["recurrent W"]),
        ("DMFT depth 10^6", dm, ["--set", "grid.depth=1000000"], ["two-time DMFT"]),
        ("DMFT depth 10^5", dm, ["--set", "grid.depth=1, 100000"], ["two-time DMFT"]),
        ("networks x depths", base, ["--set", "ensemble.networks=900000000",
                                     "--set", "grid.depth=range(1, 2000)"], ["networks"]),
        ("networks x depths, per task", base, ["--set", "ensemble.networks=900000000",
                                               "--set", "ensemble.networks_per_task=800000000",
                                               "--set", "grid.depth=range(1, 2000)"], ["networks"]),
        ("a billion points", base, ["--set", "grid.sigma_w2=linspace(1, 2, 100000)",
                                    "--set", "grid.sigma_b2=linspace(0, 1, 10000)"], ["GiB"]),
        ("output of petabytes", base, ["--set", "grid.sigma_w2=linspace(1, 2, 1000)",
                                       "--set", "grid.sigma_b2=linspace(0, 1, 1000)",
                                       "--set", "grid.depth=range(1, 100000)"], ["GiB"]),
    ]
    for name, sec, extra, needles in cases:
        j = job(f"est{S.counts['estimates']}.ini", sec)
        before = listing(od)
        p = run(["check", j] + extra, cwd=od)
        case("estimates", name + " (check)", p, 2, needles + ["GiB"], od, before)
        p = run(["run", j, "--quiet"] + extra, cwd=od)
        case("estimates", name + " (run)", p, 2, needles + ["GiB"], od, before)
        p = run(["run", j, "--quiet"] + extra, ranks=2, cwd=od)
        case("estimates", name + " (run, 2 ranks)", p, 2, needles + ["GiB"], od, before)
    # What fits is not refused: the check says so and the numbers are finite.
    for name, sec, extra in (("recurrent N=512", rec, ["--set", "grid.width=512"]),
                             ("DMFT depth 200", dm, ["--set", "grid.depth=200"])):
        j = job(f"est{S.counts['estimates']}.ini", sec)
        p = run(["check", j] + extra, cwd=od)
        case("estimates", name + " fits", p, 0)
        estest.check("inf" not in p.stdout and "nan" not in p.stdout, f"{name}: {p.stdout}")


# ---------------------------------------------------------------- kills
def resume_through_lock(out):
    """Resume OUT; a killed mpirun's ranks may still hold the lock for a moment (exit 2)."""
    ref = reference()
    for _ in range(40):
        p = run(["run", ref["job"], "-o", out, "--resume", "--quiet"])
        if not (p.returncode == 2 and "being written" in p.stderr):
            return p
        time.sleep(0.25)
    return p


def kill_case(cls, name, launcher, delay, target):
    ref = reference()
    sub = os.path.join(S.d, f"{cls}-{S.counts[cls]}")
    os.mkdir(sub)
    out = os.path.join(sub, "o.h5")
    c = launcher + [estest.binary(), "run", ref["job"], "-o", out, "--quiet"]
    p = subprocess.Popen(c, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                         env=S.env_mpirun if launcher else S.env)
    time.sleep(delay)
    S.counts[cls] += 1
    if target == "all":
        p.kill()
    else:
        kids = subprocess.run(["pgrep", "-P", str(p.pid)], capture_output=True, text=True).stdout.split()
        if target == "rank0" and kids:
            kids = kids[:1]
        elif target == "rank1" and kids:
            kids = kids[1:]
        for k in kids:
            try:
                os.kill(int(k), signal.SIGKILL)
            except ProcessLookupError:
                pass
    try:
        _, err = p.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        p.kill()
        p.communicate()
        estest.check(False, f"[{cls}] {name}: hung after the kill")
        return
    ok = estest.check(p.returncode != 0 or os.path.exists(out),
                      f"[{cls}] {name}: exit 0 without the output")
    r = resume_through_lock(out)
    ok &= estest.check(r.returncode == 0, f"[{cls}] {name}: resume exited {r.returncode}\n{r.stderr[-800:]}")
    ok &= estest.check(os.path.exists(out) and same_numbers(out, ref["out"]),
                       f"[{cls}] {name}: resumed file differs")
    ok &= estest.check(listing(sub) == ["o.h5"], f"[{cls}] {name}: left {listing(sub)}")
    if ok:
        print(f"ok   [{cls}] {name} at {delay:.2f} s (exit {p.returncode})")


def kills():
    T = reference()["t"]
    for i in range(6):
        kill_case("kill", "kill -9 alone", [], S.rng.uniform(0.02, 1.1 * T), "all")
    two = ["mpirun", "-n", "2"]
    for i in range(4):
        kill_case("kill", "kill -9 rank 1 of 2", two, S.rng.uniform(0.1, 1.1 * T + 0.3), "rank1")
    for i in range(3):
        kill_case("kill", "kill -9 rank 0 of 2", two, S.rng.uniform(0.1, 1.1 * T + 0.3), "rank0")
    for i in range(3):
        kill_case("kill", "kill -9 mpirun", two, S.rng.uniform(0.1, 1.1 * T + 0.3), "all")


# ---------------------------------------------------------------- damaged files
def damaged():
    ref = reference()
    with open(ref["out"], "rb") as f:
        whole = f.read()
    other = job("other.ini", {**sig_job(), "run": {"name": "sig", "seed": 12}})
    od = os.path.join(S.d, "damaged")
    os.mkdir(od)
    out = os.path.join(od, "o.h5")
    part = out + ".partial"
    variants = [("empty .partial", b""), ("text .partial", b"not an HDF5 file\n" * 100),
                ("random bytes", bytes(S.rng.randrange(256) for _ in range(5000)))]
    for frac in (0.001, 0.01, 0.1, 0.5, 0.9):
        variants.append((f".partial truncated to {frac:g}", whole[:int(len(whole) * frac)]))
    variants.append(("HDF5 signature only", whole[:8] + b"\0" * 4000))
    for name, data in variants:
        with open(part, "wb") as f:
            f.write(data)
        h = sha(part)
        before = listing(od)
        p = run(["run", ref["job"], "-o", out, "--resume", "--quiet"])
        case("damaged", name + " --resume", p, 2, [part, "--force"], od, before)
        estest.check(sha(part) == h, f"[damaged] {name}: the partial file was changed")
        p = run(["info", part])
        S.counts["damaged"] += 1
        no_crash("damaged", name + " info", p)
        estest.check(p.returncode in (1, 2), f"[damaged] {name} info: exit {p.returncode}")
        os.remove(part)
    def refused_untouched(name, extra, needles, path):
        h, before = sha(path), listing(od)
        p = run(["run", ref["job"], "-o", out, "--quiet"] + extra)
        case("damaged", name, p, 2, needles, od, before)
        estest.check(sha(path) == h, f"[damaged] {name}: {path} changed")

    # Another job's files: refused with the difference named, untouched.
    p = run(["run", other, "-o", out, "--quiet"])
    assert p.returncode == 0, p.stderr
    refused_untouched("another job's complete file --resume", ["--resume"], ["different job"], out)
    refused_untouched("existing output without --force", [], ["exists", "--force"], out)
    p = run(["run", ref["job"], "-o", out, "--quiet", "--force"])
    case("damaged", "existing output with --force", p, 0)
    estest.check(same_numbers(out, ref["out"]), "[damaged] --force result differs")
    os.remove(out)
    # Another job's interrupted file.
    q = subprocess.Popen(cmd(["run", other, "-o", out, "--quiet"]), env=S.env,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.5 * ref["t"])
    q.kill()
    q.wait()
    if os.path.exists(part):
        refused_untouched("another job's partial --resume", ["--resume"], ["job"], part)
        refused_untouched("a partial without --resume", [], ["--resume", "--force"], part)
    for f in listing(od):
        os.remove(os.path.join(od, f))
    # A stale lock file (its process gone) does not block a run; a leftover layout file of a
    # killed start-up is replaced.
    for name, fname in (("stale lock", "o.h5.lock"), ("leftover .partial.init", "o.h5.partial.init")):
        with open(os.path.join(od, fname), "wb") as f:
            f.write(b"x" * 1000)
        p = run(["run", ref["job"], "-o", out, "--quiet"])
        case("damaged", name, p, 0)
        estest.check(listing(od) == ["o.h5"] and same_numbers(out, ref["out"]),
                     f"[damaged] {name}: left {listing(od)}")
        os.remove(out)


# ---------------------------------------------------------------- concurrency
def concurrency():
    ref = reference()
    for i, (l1, l2) in enumerate([([], []), (["mpirun", "-n", "2"], []), ([], ["mpirun", "-n", "2"]),
                                  ([], [])]):
        sub = os.path.join(S.d, f"conc{i}")
        os.mkdir(sub)
        out = os.path.join(sub, "o.h5")
        a = subprocess.Popen(l1 + [estest.binary(), "run", ref["job"], "-o", out, "--quiet"]
                             + (["--resume"] if i == 3 else []),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             env=S.env_mpirun if l1 else S.env)
        time.sleep(S.rng.uniform(0.2, 0.5) * ref["t"] + (0.3 if l1 else 0))
        b = subprocess.run(l2 + [estest.binary(), "run", ref["job"], "-o", out, "--quiet", "--resume"],
                           capture_output=True, text=True, env=S.env_mpirun if l2 else S.env, timeout=120)
        _, aerr = a.communicate(timeout=120)
        name = f"two runs on one output #{i}"
        S.counts["concurrency"] += 1
        # Either the second was refused while the first ran, or the first had finished.
        ok = estest.check(a.returncode == 0, f"[concurrency] {name}: first exited {a.returncode}\n{aerr}")
        ok &= estest.check(b.returncode == 0 and "complete" in b.stderr or
                           b.returncode == 2 and "being written by another" in b.stderr,
                           f"[concurrency] {name}: second exited {b.returncode}\n{b.stderr[-800:]}")
        ok &= estest.check(same_numbers(out, ref["out"]) and listing(sub) == ["o.h5"],
                           f"[concurrency] {name}: result or leftovers {listing(sub)}")
        if ok:
            print(f"ok   [concurrency] {name} (second: exit {b.returncode})")
    # Several runs to different outputs in one directory at once, and a check beside them.
    sub = os.path.join(S.d, "conc-many")
    os.mkdir(sub)
    ps = [subprocess.Popen(cmd(["run", ref["job"], "-o", os.path.join(sub, f"o{k}.h5"), "--quiet"]),
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=S.env)
          for k in range(3)]
    c = run(["check", ref["job"]], cwd=sub)
    case("concurrency", "check beside running sweeps", c, 0)
    for k, p in enumerate(ps):
        p.communicate(timeout=120)
        S.counts["concurrency"] += 1
        estest.check(p.returncode == 0 and same_numbers(os.path.join(sub, f"o{k}.h5"), ref["out"]),
                     f"[concurrency] parallel run {k}: exit {p.returncode}")
    estest.check(listing(sub) == ["o0.h5", "o1.h5", "o2.h5"], f"[concurrency] left {listing(sub)}")


# ---------------------------------------------------------------- Slurm (ADVERSARIAL_SLURM=1)
def slurm():
    """srun and slurm/sweep.sbatch on a private one-node Slurm (scripts/slurm-local-start.sh):
    the status after a signal is 3 and the resumed file has the uninterrupted bits. Slow (the
    daemons, allocations): only with ADVERSARIAL_SLURM=1."""
    ref = reference()
    root = os.path.join(os.path.dirname(__file__), "..", "..")
    os.chmod(S.d, 0o755)  # munged (user munge) must reach its directory
    sd = os.path.join(S.d, "slurm")
    env = {k: v for k, v in S.env.items() if not k.startswith("SLURM_")}
    env["PATH"] = env.get("PATH", "") + ":/usr/sbin:/sbin"
    r = subprocess.run(["bash", os.path.join(root, "scripts", "slurm-local-start.sh"), sd],
                       capture_output=True, text=True, env=env)
    if r.returncode != 0:
        raise SystemExit(f"FAIL: cannot start the local Slurm: {r.stderr[-1500:]}")
    env["SLURM_CONF"] = os.path.join(sd, "slurm.conf")

    def idle():
        for _ in range(120):
            q = subprocess.run(["squeue", "-h"], capture_output=True, text=True, env=env)
            if not q.stdout.strip():
                return
            time.sleep(0.5)

    try:
        srun = ["srun", "--mpi=pmix", "-n", "2"]
        for i, (pre, sig) in enumerate([([], signal.SIGUSR1), ([LAUNCH], signal.SIGTERM),
                                        ([LAUNCH], signal.SIGINT), ([LAUNCH], signal.SIGUSR1),
                                        ([], signal.SIGUSR1), ([LAUNCH], signal.SIGTERM)]):
            idle()
            sub = os.path.join(S.d, f"srun{i}")
            os.mkdir(sub)
            out = os.path.join(sub, "o.h5")
            p = subprocess.Popen(pre + srun + [estest.binary(), "run", ref["job"], "-o", out, "--quiet"],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
            # after the allocation (a signal while srun allocates cancels it, exit 1)
            for _ in range(200):
                if os.path.exists(out + ".lock") or p.poll() is not None:
                    break
                time.sleep(0.02)
            delay = S.rng.uniform(0, 0.8 * ref["t"])
            time.sleep(delay)
            name = f"{'launch.sh ' if pre else ''}srun, {sig.name} {delay:.2f} s after start-up"
            if p.poll() is not None:
                S.counts["slurm"] += 1
                estest.check(p.returncode == 0, f"[slurm] {name}: exit {p.returncode} before the signal")
                continue
            p.send_signal(sig)
            _, err = p.communicate(timeout=120)
            rr = subprocess.CompletedProcess([], p.returncode, "", err)
            if case("slurm", name, rr, 3):
                ok, left = stopped_state("slurm", name, rr, out)
                if ok and left:
                    resume_and_compare("slurm", name, out)
        # The template: warned with USR1 (as --signal=B:USR1@MARGIN does), it stops the step
        # with exit 3 and requeues itself; the requeued job resumes and completes.
        idle()
        sub = os.path.join(S.d, "sbatch")
        os.mkdir(sub)
        out = os.path.join(sub, "o.h5")
        big = job("sbatch.ini", {**sig_job(), "ensemble": {"networks": 3000}})
        ref_big = os.path.join(sub, "ref.h5")
        assert run(["run", big, "-o", ref_big, "--quiet"]).returncode == 0
        jid = subprocess.run(["sbatch", "--parsable", "--ntasks=2", f"--output={sub}/log-%j.txt",
                              os.path.join(root, "slurm", "sweep.sbatch")], capture_output=True,
                             text=True, env=dict(env, JOB=big, OUTPUT=out, EDGESWEEP=estest.binary()),
                             cwd=sub).stdout.strip().split(";")[0]
        for _ in range(400):
            if os.path.exists(out + ".partial") and os.path.getsize(out + ".partial") > 0:
                break
            time.sleep(0.05)
        time.sleep(0.5)
        subprocess.run(["scancel", "--signal=USR1", "--batch", jid], env=env)
        state = ""
        for _ in range(600):
            state = subprocess.run(["scontrol", "show", "job", jid], capture_output=True, text=True,
                                   env=env).stdout
            if "JobState=COMPLETED" in state or "JobState=FAILED" in state or "JobState=CANCELLED" in state:
                break
            time.sleep(0.5)
        logs = "".join(open(os.path.join(sub, f)).read() for f in listing(sub) if f.startswith("log-"))
        S.counts["slurm"] += 1
        ok = estest.check("JobState=COMPLETED" in state and "Restarts=1" in state,
                          f"[slurm] sbatch USR1 requeue: {state[:600]}\n{logs}")
        ok &= estest.check("edgesweep exited 3" in logs and "requeueing" in logs and "resuming" in logs,
                           f"[slurm] sbatch USR1 requeue: log\n{logs}")
        ok &= estest.check(os.path.exists(out) and same_numbers(out, ref_big),
                           "[slurm] sbatch USR1 requeue: result differs")
        if ok:
            print("ok   [slurm] sweep.sbatch warned with USR1: exit 3, requeued, resumed, same bits")
    finally:
        subprocess.run(["bash", os.path.join(root, "scripts", "slurm-local-stop.sh"), sd],
                       capture_output=True, env=env)


def main():
    setup()
    sections = [output_paths, job_input, estimates, signals, disk, kills, damaged, concurrency]
    if os.environ.get("ADVERSARIAL_SLURM") == "1":
        sections.append(slurm)
    only = os.environ.get("ADVERSARIAL_ONLY")
    for fn in sections:
        if only and fn.__name__ not in only.split(","):
            continue
        t0 = time.time()
        fn()
        print(f"--- {fn.__name__}: {time.time() - t0:.1f} s")
    print("\nclass           cases")
    for k, v in sorted(S.counts.items()):
        print(f"{k:15s} {v:5d}")
    print(f"{'total':15s} {sum(S.counts.values()):5d}")
    estest.finish()


if __name__ == "__main__":
    main()
