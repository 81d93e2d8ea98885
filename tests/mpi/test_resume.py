#!/usr/bin/python3
"""Resumability (doc/output.md, Guarantees): kill -9 (of a launch's every process, once of mpirun alone) in
start-up and in the sweep, then
--resume with 1, 2, 3 or 4 ranks, until the run completes: the numeric datasets are bitwise
identical to an uninterrupted run. SIGTERM exits 3 with a resume hint; a second run on an output
being written is refused (exit 2); a resume with another
job is refused (exit 2, saying what differs) and leaves the partial file untouched.
Ranks: 1-4 (mpirun)."""
import hashlib
import os
import random
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import estest  # noqa: E402
import h5py  # noqa: E402
import numpy as np  # noqa: E402


def main():
    d = estest.tmpdir()
    sections = {
        "run": {"name": "kill", "seed": 99},
        "grid": {"sigma_w2": "linspace(0.5, 3, 12)", "sigma_b2": "0, 0.1", "depth": "range(1, 60, 3)",
                 "width": "64, 200"},
        # Lags: the two-time overlaps' longer state must resume to the same bits too.
        "ensemble": {"networks": 400, "lags": "1, 3"},
    }
    job = estest.write_job(os.path.join(d, "kill.ini"), sections)
    ref = os.path.join(d, "ref.h5")
    t0 = time.time()
    estest.run(["run", job, "-o", ref, "--quiet"])
    t_ref = time.time() - t0
    print(f"uninterrupted run: {t_ref:.2f} s")

    out = os.path.join(d, "killed.h5")
    # What Open MPI leaves behind when killed (session directories, shared-memory segments) goes
    # under d, and so away with it, not into /tmp and /dev/shm for good. A lone edgesweep puts
    # its session files in a directory of its own under TMPDIR (src/main.c).
    mpi_tmp = os.path.join(d, "mpi")
    os.mkdir(mpi_tmp)
    env = dict(os.environ, **estest.MPI_ENV, TMPDIR=d)
    env_mpirun = dict(env, OMPI_MCA_orte_tmpdir_base=mpi_tmp,
                      OMPI_MCA_btl_vader_backing_directory=mpi_tmp)

    def launch(ranks, path):
        cmd = [estest.binary(), "run", job, "-o", path, "--resume", "--quiet"]
        return ["mpirun", "-n", str(ranks)] + cmd if ranks > 1 else cmd

    # The kill schedule follows the run's own progress, not fixed seconds, which a loaded or a
    # faster machine would shift: one kill in four during start-up, the others a random moment
    # (up to 2/30 of the uninterrupted sweep) after the launch first writes to the file. So every
    # kill lands mid-run, most of them in the sweep.
    slice_s = t_ref / 30

    def wait_for_write(p, path, since_ns):
        """True once PATH was modified after SINCE_NS while P still runs."""
        while p.poll() is None:
            try:
                if os.stat(path).st_mtime_ns > since_ns:
                    return True
            except FileNotFoundError:
                pass
            time.sleep(0.005)
        return False

    print(f"sweep slice {slice_s:.3f} s")

    def gone(path):
        """Wait until no process mentions PATH (mpirun's ranks outlive a kill -9 briefly)."""
        for _ in range(100):
            r = subprocess.run(["pgrep", "-f", path], capture_output=True)
            if r.returncode != 0:
                return True
            time.sleep(0.1)
        return False

    rnd = random.Random(2026)
    kills, attempts, rc = 0, 0, None
    while rc != 0 and attempts < 40:
        ranks = 1 + attempts % 4
        # A session of its own, so that a kill can take every process of the launch at once.
        since = time.time_ns()
        p = subprocess.Popen(launch(ranks, out), env=env_mpirun if ranks > 1 else env,
                             stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, start_new_session=True)
        attempts += 1
        if kills < 12:
            try:
                if attempts % 4 == 1:
                    at = rnd.uniform(0.05, 0.3)
                else:
                    at = rnd.uniform(0, 2 * slice_s)
                    if not wait_for_write(p, out + ".partial", since):
                        at = 0
                rc = p.wait(timeout=at)
            except subprocess.TimeoutExpired:
                # mpirun and its ranks together (a node lost, or Slurm ending the step), but once
                # mpirun alone: its orphaned ranks go on computing and writing for about a second
                # before Open MPI notices (once only: that second is half of this job's sweep).
                if kills == 11:
                    p.send_signal(signal.SIGKILL)
                else:
                    subprocess.run(["pkill", "-KILL", "-s", str(p.pid)])
                p.wait()
                kills += 1
                rc = None
                estest.check(gone(out), "processes survived the kill")
                continue
        else:
            rc = p.wait()
        err = p.stderr.read().decode()
        estest.check(rc == 0, f"attempt {attempts} ({ranks} ranks) exited {rc}: {err}")
    print(f"{kills} kill -9, {attempts} launches")
    estest.check(not os.path.exists(out + ".lock") and not os.path.exists(ref + ".lock"),
                 "a finished run left its .lock file")
    estest.check(kills >= 10, f"only {kills} kills landed mid-run")
    a, b = estest.numeric_datasets(ref), estest.numeric_datasets(out)
    for k in a:
        estest.check(estest.bits(a[k]) == estest.bits(b[k]), f"{k} differs after kills and resumes")
    print(f"{len(a)} datasets bitwise identical after resume")

    # SIGTERM: exit 3, a .partial, a resume hint; then a foreign job is refused.
    out2 = os.path.join(d, "term.h5")
    p = subprocess.Popen([estest.binary(), "run", job, "-o", out2], env=env,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    # The handlers are in place before the .partial appears; a signal before that would find
    # MPI still starting (the default action, not a clean stop).
    for _ in range(600):
        if os.path.exists(out2 + ".partial") or p.poll() is not None:
            break
        time.sleep(0.01)
    # While it runs, a second edgesweep on the same output is refused (rank 0's lock on
    # OUT.lock; parallel HDF5 has none) and touches nothing.
    q = estest.run(["run", job, "-o", out2, "--resume", "--quiet"], check=False)
    estest.check(q.returncode == 2 and "being written by another edgesweep" in q.stderr,
                 f"a second run on a running output: exit {q.returncode}: {q.stderr}")
    p.send_signal(signal.SIGTERM)
    rc = p.wait()
    err = p.stderr.read().decode()
    estest.check(rc == 3, f"SIGTERM: exit {rc}, expected 3: {err}")
    estest.check("--resume" in err, f"SIGTERM: no resume hint: {err}")
    estest.check(os.path.exists(out2 + ".partial") and not os.path.exists(out2), "SIGTERM: files")
    estest.check(not os.path.exists(out2 + ".lock"), "SIGTERM: a .lock file left behind")
    p = estest.run(["info", out2 + ".partial"])
    estest.check("pending" in p.stdout and "(not yet)" in p.stdout, f"info on a partial: {p.stdout}")
    # doc/output.md: a point not done yet reads NaN (its counts 0, no checksum), whatever the
    # layout's fill leaves out (/run/state, read only where a point is done).
    with h5py.File(out2 + ".partial", "r") as f:
        pend = f["run/status"][()] == estest.code(f["run/status"], "pending")
        estest.check(pend.any(), "SIGTERM: no pending point to look at")
        iw, ib, i_n = np.nonzero(pend)
        for name, ds in f["ensemble"].items():
            if ds.ndim < 4:  # the group's copies of the coordinates
                continue
            v = ds[()][iw, ib, :, i_n]  # (points, depths[, lags])
            ok = (v == 0).all() if ds.dtype.kind in "iu" else np.isnan(v).all()
            estest.check(ok, f"SIGTERM: ensemble/{name} of a pending point is not NaN / 0")
        for name in ("run/networks_done", "run/checksum"):
            estest.check((f[name][()][pend] == 0).all(), f"SIGTERM: {name} of a pending point != 0")
    p = estest.run(["info", job], check=False)
    estest.check(p.returncode == 2 and "not an HDF5 file" in p.stderr, f"info on a job: {p.stderr}")
    digest = hashlib.sha256(open(out2 + ".partial", "rb").read()).hexdigest()
    other = dict(sections, network={"activation": "erf"})
    job2 = estest.write_job(os.path.join(d, "other.ini"), other)
    p = estest.run(["run", job2, "-o", out2, "--resume"], check=False)
    estest.check(p.returncode == 2, f"foreign resume: exit {p.returncode}")
    estest.check("different job" in p.stderr and "activation = erf" in p.stderr,
                 f"foreign resume message: {p.stderr}")
    estest.check(hashlib.sha256(open(out2 + ".partial", "rb").read()).hexdigest() == digest,
                 "a refused resume modified the partial file")
    p = estest.run(["run", job, "-o", out2], check=False)
    estest.check(p.returncode == 2 and "--resume" in p.stderr, "run over a partial without --resume")
    estest.run(["run", job, "-o", out2, "--resume", "--quiet"], ranks=2)
    c = estest.numeric_datasets(out2)
    p = estest.run(["info", out2])
    estest.check("2 ranks" in p.stdout and "0 pending" in p.stdout, f"info after resume: {p.stdout}")
    estest.check(all(estest.bits(a[k]) == estest.bits(c[k]) for k in a), "SIGTERM + resume differs")
    p = estest.run(["run", job, "-o", out2, "--resume"])
    estest.check("nothing to resume" in p.stderr, "resume of a complete file")

    # Blocks of networks_per_task on 6 ranks stopped by SIGUSR1 through mpirun (blocks in
    # flight to their owners, the closing exchange after the stop), resumed on 2 ranks: the
    # bits of one uninterrupted rank.
    blk = ["--set", "ensemble.networks_per_task=50"]
    ref3 = os.path.join(d, "blocks_ref.h5")
    estest.run(["run", job, "-o", ref3, "--quiet"] + blk)
    out3 = os.path.join(d, "blocks_usr1.h5")
    p = subprocess.Popen(["mpirun", "-n", "6", estest.binary(), "run", job, "-o", out3, "--quiet"]
                         + blk, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    for _ in range(3000):
        if os.path.exists(out3 + ".partial") or p.poll() is not None:
            break
        time.sleep(0.01)
    time.sleep(0.5)
    p.send_signal(signal.SIGUSR1)
    rc = p.wait()
    err = p.stderr.read().decode()
    stopped = rc == 3 and os.path.exists(out3 + ".partial")
    estest.check(stopped or rc == 0, f"SIGUSR1 on 6 ranks: exit {rc}: {err}")
    if stopped:
        estest.run(["run", job, "-o", out3, "--resume", "--quiet"] + blk, ranks=2)
    c = estest.numeric_datasets(out3)
    r = estest.numeric_datasets(ref3)
    for k in r:
        estest.check(estest.bits(r[k]) == estest.bits(c[k]), f"{k}: blocks, USR1 + resume differs")
    print(f"blocks of 50 on 6 ranks, SIGUSR1 ({'stopped' if stopped else 'finished first'}), "
          f"resumed on 2: {len(r)} datasets bitwise identical")
    estest.finish()


if __name__ == "__main__":
    main()
