"""Shared helpers for edgesweep's Python tests: run the binary, write jobs, read outputs."""
import os
import shutil
import subprocess
import sys
import tempfile

import h5py
import numpy as np

MPI_ENV = {
    "OMPI_ALLOW_RUN_AS_ROOT": "1",
    "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1",
    "OMPI_MCA_rmaps_base_oversubscribe": "1",
    "OPENBLAS_NUM_THREADS": "1",
}

FAILURES = []


def binary():
    """The edgesweep binary: argv[1] of every test, or $EDGESWEEP."""
    if len(sys.argv) > 1:
        return os.path.abspath(sys.argv[1])
    return os.environ["EDGESWEEP"]


TMPDIRS = []


def tmpdir():
    """A fresh directory, removed by finish() when every check passed (kept to look at when
    one failed)."""
    d = tempfile.mkdtemp(prefix="estest-")
    TMPDIRS.append(d)
    return d


def write_job(path, sections):
    """Write an INI job from {section: {key: value}}."""
    with open(path, "w") as f:
        for sec, kv in sections.items():
            f.write(f"[{sec}]\n")
            for k, v in kv.items():
                f.write(f"{k} = {v}\n")
    return path


def run(args, ranks=None, check=True, cwd=None, timeout=600):
    """Run edgesweep ARGS (alone, or under mpirun -n RANKS); return CompletedProcess."""
    env = dict(os.environ, **MPI_ENV)
    cmd = [binary()] + list(args)
    if ranks:
        cmd = ["mpirun", "-n", str(ranks)] + cmd
    p = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=cwd, timeout=timeout)
    if check and p.returncode != 0:
        raise SystemExit(f"FAIL: {' '.join(cmd)} exited {p.returncode}\n{p.stderr}")
    return p


def check(cond, msg):
    """Record a failed assertion with its message (the test goes on, then fails)."""
    if not cond:
        FAILURES.append(msg)
        print("FAIL:", msg)
    return cond


def check_z(name, est, expected, se, bound=4.0):
    z = (est - expected) / se
    ok = abs(z) <= bound
    print(f"{'ok  ' if ok else 'FAIL'} {name}: measured {est:.6g} theory {expected:.6g} "
          f"se {se:.3g} z {z:+.2f}")
    if not ok:
        FAILURES.append(f"{name}: z = {z:.2f} beyond {bound}")
    return z


def finish():
    if FAILURES:
        kept = f"; files kept in {', '.join(TMPDIRS)}" if TMPDIRS else ""
        print(f"{len(FAILURES)} check(s) failed{kept}")
        sys.exit(1)
    for d in TMPDIRS:
        shutil.rmtree(d, ignore_errors=True)
    print("ok")
    sys.exit(0)


def numeric_datasets(path, groups=("ensemble", "mft", "theory", "phase")):
    """{group/name: array} of the numeric datasets (the ones promised bitwise: doc/output.md, Guarantees)."""
    out = {}
    with h5py.File(path, "r") as f:
        for g in groups:
            if g not in f:
                continue
            for k, d in f[g].items():
                if d.dtype.kind in "fiu":
                    out[f"{g}/{k}"] = d[()]
        for k in ("sigma_w2", "sigma_b2", "depth", "width"):
            out[k] = f[k][()]
        out["run/status"] = f["run/status"][()]
    return out


def code(ds, meaning):
    """The value of MEANING ("done", "flagged", ...) in code dataset DS (h5py), from its CF
    flag attributes: the tests take the codes from the file, as readers should."""
    meanings = ds.attrs["flag_meanings"]
    meanings = (meanings.decode() if isinstance(meanings, bytes) else meanings).split()
    return int(ds.attrs["flag_values"][meanings.index(meaning)])


def bits(a):
    a = np.ascontiguousarray(a)
    return a.tobytes()


# ---------- the checksums of README "Integrity", recomputed independently of the C code ----------
M64 = (1 << 64) - 1


def _mix64(x):
    x = (x + 0x9E3779B97F4A7C15) & M64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & M64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & M64
    return x ^ (x >> 31)


class _Sum:
    def __init__(self):
        self.h, self.n = 0x6564676573756D31, 0

    def words(self, ws):
        for w in ws:
            self.h = _mix64(self.h ^ _mix64((int(w) + self.n) & M64))
            self.n += 1

    def f64(self, a):
        self.words(np.ascontiguousarray(a, dtype="<f8").view("<u8").ravel())

    def i64(self, a):
        self.words(np.ascontiguousarray(a, dtype="<i8").view("<u8").ravel())

    def final(self):
        h = _mix64(self.h ^ self.n)
        return h or 1


def _text(v):
    v = v.encode() if isinstance(v, str) else bytes(v)
    return v.split(b"\0")[0]


def point_checksum(f, iw, ib, i_n):
    """/run/checksum of point (iw, ib, in) from the values stored in h5py file F."""
    order = _text(f["run/checksum"].attrs["checksum_order"]).decode().split()
    s = _Sum()
    for k in order:
        if k.startswith("ensemble/") and k != "ensemble/networks":
            s.f64(f[k][iw, ib, :, i_n])
    s.i64(f["ensemble/networks"][iw, ib, :, i_n])
    status = int(f["run/status"][iw, ib, i_n])
    if status == 1:
        s.f64(f["run/state"][iw, ib, :, i_n, :])
        s.i64([f["run/networks_done"][iw, ib, i_n]])
    s.i64([status])
    return s.final()
