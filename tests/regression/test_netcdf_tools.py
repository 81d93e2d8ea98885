#!/usr/bin/python3
"""Every common HDF5/netCDF tool reads the output, finished (1 and 2 ranks) and .partial
(stopped by SIGTERM mid-run): `ncdump -h` and a full `ncdump` exit 0; xarray opens and loads
every group with both the h5netcdf and the netcdf4 engine (each open in its own process, so
an abort in netCDF-C is a failure here, not a crash of the runner); h5py reads every dataset
and h5dump the file. Text datasets are variable-length strings; the codes carry CF
flag_values/flag_meanings equal to the enums in the headers; the root has Conventions, title
and one history line per command that wrote the file (a resume adds one). A flagged point
whose reason is missing (a launch killed before its close wrote the texts) is computed again
on resume and gets it back. An archive copy (h5repack, shuffle + deflate) reads the same everywhere,
verifies and refuses a resume; made contiguous again it grows like the original. Ranks: 1 and 2."""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import estest  # noqa: E402
import h5py  # noqa: E402
import numpy as np  # noqa: E402


def main():
    ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
    GROUPS = [None, "ensemble", "mft", "theory", "phase", "run"]

    def header_codes(header, macro):
        """{meaning: value} of an X(ID, value, "meaning") code map in a public header."""
        text = open(os.path.join(ROOT, "include", "edgesweep", header)).read()
        body = text[text.index(f"#define {macro}(X)"):]
        body = body[:body.index("\n\n")]
        return {m: int(v) for v, m in re.findall(r'X\(\w+,\s*(\d+),\s*"(\w+)"\)', body)}

    def header_define(header, name):
        text = open(os.path.join(ROOT, "include", "edgesweep", header)).read()
        return float(re.search(rf"#define {name} (\S+)", text).group(1))

    CODES = {"run/status": header_codes("h5out.h", "ES_POINT_STATUS_MAP"),
             "mft/phase": header_codes("mft.h", "ES_PHASE_MAP"),
             "theory/regime": header_codes("critical.h", "ES_REGIME_MAP")}
    estest.check(list(CODES["run/status"]) == ["pending", "done", "flagged"],
                 f"status codes parsed from h5out.h: {CODES['run/status']}")
    estest.check(len(CODES["mft/phase"]) == 4 and len(CODES["theory/regime"]) == 4,
                 f"codes parsed from the headers: {CODES}")

    # Each engine in its own process, which opens every group in turn and prints one line per
    # group: netCDF-C aborts the process on what it cannot read, and the lines printed say where.
    XR_SCRIPT = r"""
import json, sys, xarray as xr
path, engine = sys.argv[1], sys.argv[2]
for group in sys.argv[3:]:
    group = group or None
    ds = xr.open_dataset(path, group=group, engine=engine).load()
    out = {"group": group, "vars": sorted(ds.data_vars), "attrs": sorted(ds.attrs)}
    if group == "run":
        out["reasons"] = [str(r) for r in ds["reason"].values.ravel()]
        out["status_meanings"] = str(ds["status"].attrs.get("flag_meanings"))
    print(json.dumps(out), flush=True)
"""

    def tools(path, what, flagged_reason=True):
        """Run every tool on PATH; WHAT names the file in messages."""
        for args in (["ncdump", "-h", path], ["ncdump", path], ["h5dump", path]):
            p = subprocess.run(args, capture_output=True, text=True, timeout=300)
            estest.check(p.returncode == 0, f"{what}: {' '.join(args[:-1])} exited {p.returncode}: "
                                            f"{p.stderr[-400:]}")
            if args == ["ncdump", path] and flagged_reason:
                estest.check("overflow" in p.stdout, f"{what}: ncdump shows no flagged reason")
            if args[:2] == ["ncdump", "-h"]:
                estest.check('flag_meanings = "pending done flagged"' in p.stdout,
                             f"{what}: ncdump -h lacks the status flag_meanings")
        for engine in ("h5netcdf", "netcdf4"):
            p = subprocess.run([sys.executable, "-c", XR_SCRIPT, path, engine] +
                               [g or "" for g in GROUPS], capture_output=True, text=True, timeout=300)
            lines = [json.loads(x) for x in p.stdout.splitlines() if x.startswith("{")]
            estest.check(p.returncode == 0 and len(lines) == len(GROUPS),
                         f"{what}: xarray {engine}: exit {p.returncode} after the groups "
                         f"{[x['group'] for x in lines]} of {GROUPS}: {p.stderr[-400:]}")
            for out in lines:
                g = out["group"]
                estest.check(g is None or out["vars"], f"{what}: {engine} {g}: no variables")
                if g is None:
                    estest.check({"Conventions", "title", "history"} <= set(out["attrs"]),
                                 f"{what}: {engine}: root attributes {out['attrs']}")
                if g == "run":
                    estest.check(out["status_meanings"] == "pending done flagged",
                                 f"{what}: {engine}: status meanings {out['status_meanings']}")
                    if flagged_reason:
                        estest.check(any("overflow" in r for r in out["reasons"]),
                                     f"{what}: {engine}: reasons {out['reasons']}")
        with h5py.File(path, "r") as f:
            names = []
            f.visititems(lambda n, o: names.append(n) if isinstance(o, h5py.Dataset) else None)
            for n in names:
                f[n][()]  # every dataset reads
                info = h5py.check_string_dtype(f[n].dtype)
                estest.check(info is None or info.length is None,
                             f"{what}: {n} is a fixed-length string")
            for n, want in CODES.items():
                d = f[n]
                if not estest.check({"flag_values", "flag_meanings"} <= set(d.attrs),
                                    f"{what}: {n} has no flag attributes"):
                    continue
                got = dict(zip(str(d.attrs["flag_meanings"]).split(),
                               (int(v) for v in d.attrs["flag_values"])))
                estest.check(got == want, f"{what}: {n} flags {got}, the header says {want}")
                estest.check(d.attrs["flag_values"].dtype == d.dtype,
                             f"{what}: {n} flag_values type {d.attrs['flag_values'].dtype}")
                estest.check(set(np.unique(d[()])) <= set(want.values()),
                             f"{what}: {n} holds codes {np.unique(d[()])} outside {want}")
            bounds = {"eps_K_bounds": ("ES_REGIME_GAUSSIAN_EPS_K", "ES_REGIME_PERTURBATIVE_EPS_K"),
                      "eps_J_bounds": ("ES_REGIME_GAUSSIAN_EPS_J", "ES_REGIME_PERTURBATIVE_EPS_J")}
            for a, names in bounds.items():
                got = list(f["theory/regime"].attrs[a])
                want = [header_define("critical.h", x) for x in names]
                estest.check(got == want, f"{what}: theory/regime {a} {got}, headers {want}")
            estest.check(f.attrs["Conventions"].startswith("CF-"), f"{what}: Conventions")

    def history(path):
        with h5py.File(path, "r") as f:
            h = f.attrs["history"]
        return (h.decode() if isinstance(h, bytes) else h).splitlines()

    d = estest.tmpdir()
    # relu at sigma_w2 = 9: no MFT fixed point (an /mft reason) and overflow (a flagged point).
    job = estest.write_job(os.path.join(d, "tools.ini"), {
        "run": {"name": "tools", "seed": 4},
        "network": {"activation": "relu"},
        "grid": {"sigma_w2": "1.5, 2, 9", "sigma_b2": "0.1, 0.2", "depth": "1, 10, 1200",
                 "width": "16, 32"},
        # Lags: the lag axis and the /ensemble and /mft datasets over it open everywhere.
        "ensemble": {"networks": 6, "lags": "0, 3"},
    })
    for ranks in (1, 2):
        out = os.path.join(d, f"tools{ranks}.h5")
        estest.run(["run", job, "-o", out], ranks=ranks)
        tools(out, f"{ranks} rank(s)")
        h = history(out)
        estest.check(len(h) == 1 and "run" in h[0] and out in h[0], f"history {h}")

    # A resume that adds networks appends a history line.
    out = os.path.join(d, "tools1.h5")
    estest.run(["run", job, "-o", out, "--resume", "--set", "ensemble.networks=8"], ranks=2)
    h = history(out)
    estest.check(len(h) == 2 and "--resume" in h[1], f"history after a resume: {h}")

    # A flagged point whose reason never reached the file is computed again on resume.
    out2 = os.path.join(d, "tools2.h5")
    with h5py.File(out2, "r") as f:
        status = f["run/status"][()]
        want = f["run/reason"][()]
    flagged = np.argwhere(status == CODES["run/status"]["flagged"])
    estest.check(len(flagged) > 0, "the job flags no point")
    partial = os.path.join(d, "lost.h5.partial")
    shutil.copy(out2, partial)
    with h5py.File(partial, "r+") as f:
        for idx in flagged:
            f["run/reason"][tuple(idx)] = ""
    estest.run(["run", job, "-o", os.path.join(d, "lost.h5"), "--resume"], ranks=2)
    with h5py.File(os.path.join(d, "lost.h5"), "r") as f:
        got = f["run/reason"][()]
        estest.check((f["run/status"][()] == status).all(), "statuses changed by the resume")
    lost = status == CODES["run/status"]["flagged"]
    estest.check((got == want).all(), f"reasons after the resume {got[lost]} vs {want[lost]}")

    # An archive copy (doc/output.md, Size and archive copies): shuffle + deflate by h5repack.
    # Every tool reads it, every dataset holds the same bits, verify accepts it; a resume
    # refuses it (exit 2, the file untouched), and a copy made contiguous again by h5repack
    # grows into the bits of the original grown.
    arch = os.path.join(d, "archive.h5")
    subprocess.run(["h5repack", "-m", "1024", "-f", "SHUF", "-f", "GZIP=4", out2, arch], check=True)
    tools(arch, "archive copy")
    with h5py.File(out2, "r") as f, h5py.File(arch, "r") as g:
        names = []
        f.visititems(lambda n, o: names.append(n) if isinstance(o, h5py.Dataset) else None)
        for n in names:
            a, b = f[n][()], g[n][()]
            same = (a.dtype == b.dtype and a.shape == b.shape and
                    (estest.bits(a) == estest.bits(b) if a.dtype.kind in "fiu" else
                     a.tolist() == b.tolist()))
            estest.check(same, f"archive copy: {n} differs from the original")
        estest.check(g["run/state"].compression == "gzip" and g["run/state"].shuffle,
                     "archive copy: run/state is not shuffled and deflated")
    p = estest.run(["verify", arch, "--recompute", "3"], check=False)
    estest.check(p.returncode == 0 and "an archive copy" in p.stdout,
                 f"verify of the archive copy: {p.returncode}\n{p.stdout}{p.stderr}")
    before = open(arch, "rb").read()
    p = estest.run(["run", job, "-o", arch, "--resume", "--set", "ensemble.networks=8"],
                   check=False)
    estest.check(p.returncode == 2 and "an archive copy" in p.stderr
                 and "h5repack -l CONTI" in p.stderr, f"resume of the archive copy: {p.stderr}")
    estest.check(open(arch, "rb").read() == before and not os.path.exists(arch + ".partial"),
                 "a refused resume changed the archive copy")
    writable = os.path.join(d, "writable.h5")
    subprocess.run(["h5repack", "-l", "CONTI", arch, writable], check=True)
    estest.run(["run", job, "-o", writable, "--resume", "--quiet", "--set",
                "ensemble.networks=8"], ranks=2)
    grown, again = (estest.numeric_datasets(x) for x in (os.path.join(d, "tools1.h5"), writable))
    estest.check(all(estest.bits(grown[k]) == estest.bits(again[k]) for k in grown),
                 "the writable copy grown differs from the original grown")

    # A .partial: a longer job (one rank) stopped by SIGTERM once it has started.
    big = estest.write_job(os.path.join(d, "big.ini"), {
        "run": {"name": "big", "seed": 5},
        "network": {"activation": "tanh"},
        "grid": {"sigma_w2": "linspace(0.5, 3, 8)", "sigma_b2": "0.1", "depth": "range(1, 101)",
                 "width": "256"},
        "ensemble": {"networks": 400},
    })
    bigout = os.path.join(d, "big.h5")
    env = dict(os.environ, **estest.MPI_ENV)
    proc = subprocess.Popen([estest.binary(), "run", big, "-o", bigout],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)
    t0 = time.time()
    while not os.path.exists(bigout + ".partial") and time.time() - t0 < 60:
        time.sleep(0.05)
    time.sleep(0.5)
    proc.send_signal(signal.SIGTERM)
    err = proc.communicate(timeout=120)[1]
    if estest.check(proc.returncode == 3 and os.path.exists(bigout + ".partial"),
                    f"stopping the big job: exit {proc.returncode} {err[-300:]}"):
        tools(bigout + ".partial", "partial", flagged_reason=False)
    estest.finish()


if __name__ == "__main__":
    main()
