#!/usr/bin/python3
"""Bad input (doc/jobfile.md, README.md): exit code 2, a message naming the file, the line and the key,
and nothing written or overwritten."""
import hashlib
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import estest  # noqa: E402


def main():
    GOOD = """[run]
name = bad
seed = 1
[network]
activation = tanh
[grid]
sigma_w2 = 1, 2
sigma_b2 = 0
depth = 1, 3
width = 8
[ensemble]
networks = 4
"""

    def variant(old, new):
        assert old in GOOD, old
        return GOOD.replace(old, new)

    # (name, job text, extra args, substrings the message must contain)
    CASES = [
        ("unknown key", variant("seed = 1", "seed = 1\nsed = 2"), [], ["job.ini:4", "sed", "unknown key"]),
        ("unknown section", GOOD + "[gird]\nx = 1\n", [], ["job.ini:14", "[gird] x", "unknown section"]),
        ("duplicate key", variant("seed = 1", "seed = 1\nseed = 2"), [], ["job.ini:4", "seed", "duplicate"]),
        ("bad syntax", variant("seed = 1", "seed 1"), [], ["job.ini:3"]),
        ("bad number", variant("networks = 4", "networks = four"), [], ["job.ini:12", "networks"]),
        ("M < 2", variant("networks = 4", "networks = 1"), [], ["job.ini:12", "networks"]),
        ("negative sigma_b2", variant("sigma_b2 = 0", "sigma_b2 = -0.1"), [], ["job.ini:8", "sigma_b2"]),
        ("zero sigma_w2", variant("sigma_w2 = 1, 2", "sigma_w2 = 0, 1"), [], ["job.ini:7", "sigma_w2"]),
        ("depth 0", variant("depth = 1, 3", "depth = 0, 3"), [], ["job.ini:9", "depth"]),
        ("width 0", variant("width = 8", "width = 0"), [], ["job.ini:10", "width"]),
        ("non-integer width", variant("width = 8", "width = 8.5"), [], ["job.ini:10", "width", "integer"]),
        ("empty grid", variant("sigma_w2 = 1, 2", "sigma_w2 = range(2, 1)"), [], ["job.ini:7", "sigma_w2", "empty"]),
        ("empty value", variant("sigma_w2 = 1, 2", "sigma_w2 ="), [], ["job.ini:7", "sigma_w2"]),
        ("repeated value", variant("width = 8", "width = 8, 16, 8"), [], ["job.ini:10", "width", "twice"]),
        ("nan", variant("sigma_w2 = 1, 2", "sigma_w2 = nan"), [], ["job.ini:7", "sigma_w2"]),
        ("inf leak", variant("activation = tanh", "activation = tanh\nleak = inf"), [], ["job.ini:6", "leak"]),
        ("leak > 1", variant("activation = tanh", "activation = tanh\nleak = 1.5"), [], ["job.ini:6", "leak"]),
        ("unknown activation", variant("activation = tanh", "activation = tan"), [], ["job.ini:5", "activation"]),
        ("bad linspace", variant("sigma_w2 = 1, 2", "sigma_w2 = linspace(1, 2)"), [], ["job.ini:7", "linspace"]),
        ("unknown function", variant("sigma_w2 = 1, 2", "sigma_w2 = geomspace(1, 2, 3)"), [], ["job.ini:7", "sigma_w2"]),
        ("c0 > 1", variant("activation = tanh", "activation = tanh\nc0 = 1.2"), [], ["job.ini:6", "c0"]),
        ("negative seed", variant("seed = 1", "seed = -1"), [], ["job.ini:3", "seed"]),
        ("missing width", variant("width = 8\n", ""), [], ["width", "required"]),
        ("recurrent + gram", variant("networks = 4", "networks = 4\nmethod = gram").replace(
            "activation = tanh", "activation = tanh\narchitecture = recurrent"), [], ["job.ini:14", "method", "recurrent"]),
        ("lag reaching before layer 1", variant("networks = 4", "networks = 4\nlags = 1, 3"), [],
         ["job.ini:13", "lags", "lag 3", "layer 1"]),
        ("negative lag", variant("networks = 4", "networks = 4\nlags = -1"), [], ["job.ini:13", "lags"]),
        ("non-integer lag", variant("networks = 4", "networks = 4\nlags = 1.5"), [],
         ["job.ini:13", "lags", "integer"]),
        ("bad --set", GOOD, ["--set", "grid.width=-3"], ["--set grid.width=-3", "width"]),
        ("--set unknown key", GOOD, ["--set", "grid.height=3"], ["grid.height", "unknown key"]),
        ("--set no dot", GOOD, ["--set", "width=3"], ["--set width=3"]),
        ("missing job file", None, [], ["nonexistent.ini", "cannot open"]),
        ("binary job file", "\0\1\2garbage", [], ["job.ini", "NUL"]),
        ("unknown option", GOOD, ["--frobnicate"], ["--frobnicate"]),
        ("empty job file", "", [], ["job.ini", "sigma_w2", "required"]),
        ("key before any section", "seed = 1\n" + GOOD, [], ["job.ini:1", "unknown section"]),
        ("q0 zero", variant("activation = tanh", "activation = tanh\nq0 = 0"), [], ["job.ini:6", "q0"]),
        ("negative noise", variant("activation = tanh", "activation = tanh\nnoise = -0.5"), [], ["job.ini:6", "noise"]),
        ("c0 < -1", variant("activation = tanh", "activation = tanh\nc0 = -1.5"), [], ["job.ini:6", "c0"]),
        ("empty activation", variant("activation = tanh", "activation ="), [], ["job.ini:5", "activation"]),
        ("unknown architecture", variant("activation = tanh", "activation = tanh\narchitecture = cnn"), [], ["job.ini:6", "architecture"]),
        ("unknown method", variant("networks = 4", "networks = 4\nmethod = fast"), [], ["job.ini:13", "method"]),
        ("non-integer depth", variant("depth = 1, 3", "depth = linspace(1, 2, 3)"), [], ["job.ini:9", "depth", "integer"]),
        ("depth too large", variant("depth = 1, 3", "depth = 2000000"), [], ["job.ini:9", "depth"]),
        ("width too large", variant("width = 8", "width = 100000000"), [], ["job.ini:10", "width"]),
        ("too many values", variant("sigma_w2 = 1, 2", "sigma_w2 = linspace(1, 2, 10000000)"), [], ["job.ini:7", "limit"]),
        ("logspace overflow", variant("sigma_w2 = 1, 2", "sigma_w2 = logspace(1, 400, 3)"), [], ["job.ini:7", "sigma_w2"]),
        ("trailing comma", variant("sigma_w2 = 1, 2", "sigma_w2 = 1, 2,"), [], ["job.ini:7", "sigma_w2"]),
        ("hex number", variant("sigma_w2 = 1, 2", "sigma_w2 = 0x1p1"), [], ["job.ini:7", "sigma_w2"]),
        ("networks too large", variant("networks = 4", "networks = 99999999999"), [], ["job.ini:12", "networks"]),
        ("name with slash", variant("name = bad", "name = a/b"), [], ["job.ini:2", "name"]),
        ("seed too large", variant("seed = 1", "seed = 18446744073709551616"), [], ["job.ini:3", "seed"]),
        ("line too long", variant("sigma_w2 = 1, 2", "sigma_w2 = " + ", ".join(["1"] * 120)), [], ["job.ini:7", "longer than"]),
        ("--set empty value", GOOD, ["--set", "grid.width="], ["--set grid.width=", "width"]),
        ("--set unknown section", GOOD, ["--set", "model.width=3"], ["model.width", "unknown section"]),
        ("memory would not fit", GOOD, ["--set", "ensemble.networks=900000000", "--set", "grid.depth=range(1, 200)"], ["GiB", "networks"]),
        ("disk would not fit", GOOD, ["--set", "grid.sigma_w2=linspace(1, 2, 1000)", "--set", "grid.sigma_b2=linspace(0, 1, 1000)", "--set", "grid.depth=range(1, 5000)"], ["free", "grid"]),
        ("job is a directory", ".", [], ["cannot"]),
        ("two job files", GOOD, ["other.ini"], ["unexpected argument"]),
        ("corrupt partial resume", GOOD, ["--resume"], ["out.h5.partial", "--force"]),
        ("negative leak", variant("activation = tanh", "activation = tanh\nleak = -0.1"), [], ["job.ini:6", "leak"]),
        ("nan noise", variant("activation = tanh", "activation = tanh\nnoise = nan"), [], ["job.ini:6", "noise"]),
        ("dense, noise < 0", variant("networks = 4", "networks = 4\nmethod = dense"),
         ["--set", "network.noise=-1"], ["--set network.noise=-1", "noise"]),
        ("dense, leak > 1", variant("networks = 4", "networks = 4\nmethod = dense").replace(
            "activation = tanh", "activation = tanh\nleak = 1.5"), [], ["job.ini:6", "leak"]),
    ]

    d = estest.tmpdir()
    for name, text, extra, needles in CASES:
        sub = os.path.join(d, name.replace(" ", "_").replace("/", "_"))
        os.mkdir(sub)
        path = os.path.join(sub, "job.ini")
        if name == "job is a directory":
            os.mkdir(path)
            text = None
        elif name == "corrupt partial resume":
            with open(os.path.join(sub, "out.h5.partial"), "wb") as f:
                f.write(b"\x89HDF\r\n\x1a\n" + b"garbage" * 100)
        if text is not None:
            with open(path, "w") as f:
                f.write(text)
        elif name != "job is a directory":
            path = os.path.join(sub, "nonexistent.ini")
        before = sorted(os.listdir(sub))
        p = estest.run(["run", path, "-o", os.path.join(sub, "out.h5")] + extra, check=False, cwd=sub)
        after = sorted(os.listdir(sub))
        msg = p.stderr.strip().splitlines()[-1] if p.stderr.strip() else ""
        ok = estest.check(p.returncode == 2, f"{name}: exit {p.returncode}, expected 2 ({msg})")
        ok &= estest.check(before == after, f"{name}: files changed: {before} -> {after}")
        for n in needles:
            ok &= estest.check(n in p.stderr, f"{name}: message lacks '{n}': {msg}")
        print(f"{'ok  ' if ok else 'FAIL'} {name}: {msg}")

    # An existing result is never overwritten, and a bad job never touches it.
    sub = os.path.join(d, "exists")
    os.mkdir(sub)
    job = os.path.join(sub, "job.ini")
    with open(job, "w") as f:
        f.write(GOOD)
    out = os.path.join(sub, "out.h5")
    with open(out, "wb") as f:
        f.write(b"precious")
    digest = hashlib.sha256(open(out, "rb").read()).hexdigest()
    p = estest.run(["run", job, "-o", out], check=False)
    estest.check(p.returncode == 2 and "--force" in p.stderr, f"existing output: exit {p.returncode}: {p.stderr}")
    estest.check(hashlib.sha256(open(out, "rb").read()).hexdigest() == digest, "existing output was modified")
    estest.check(not os.path.exists(out + ".partial"), "a .partial was left next to the existing output")
    p = estest.run(["run", job, "-o", os.path.join(sub, "nodir", "out.h5")], check=False)
    estest.check(p.returncode == 2 and "does not exist" in p.stderr, f"missing directory: exit {p.returncode}")
    # --force does replace it, and the same job under 2 ranks fails the same way.
    p = estest.run(["run", job, "-o", out, "--force", "--quiet"], check=False)
    estest.check(p.returncode == 0, f"--force: exit {p.returncode}: {p.stderr}")
    estest.check(open(out, "rb").read(4) == b"\x89HDF", "--force did not write an HDF5 file")
    bad = os.path.join(sub, "bad.ini")
    with open(bad, "w") as f:
        f.write(variant("networks = 4", "networks = 1"))
    p = estest.run(["run", bad, "-o", os.path.join(sub, "mpi.h5")], ranks=2, check=False)
    estest.check(p.returncode == 2 and "bad.ini:12" in p.stderr, f"2 ranks: exit {p.returncode}: {p.stderr}")
    estest.check(p.stderr.count("bad.ini:12") == 1, "2 ranks: the message should be printed once")
    estest.check(not os.path.exists(os.path.join(sub, "mpi.h5.partial")), "2 ranks left a file")
    print(f"{len(CASES)} bad-input cases")
    estest.finish()


if __name__ == "__main__":
    main()
