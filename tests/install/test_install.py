#!/usr/bin/python3
"""`meson install` puts everything a user needs where they look for it, and it works from
there: the binary, a man page that documents every job key and command, example jobs, bash
completion that completes commands and job keys, the analysis package with its
`edgesweep-plot` command (also installable with pip from the tree), LICENSE and CITATION.cff.
`edgesweep keys` prints a job that is valid once its required values are filled in.
Ranks: 1 (no mpirun). Arguments: EDGESWEEP BUILD_DIR."""
import glob
import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import estest  # noqa: E402


def main():
    root = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
    build = os.path.abspath(sys.argv[2])
    dest = estest.tmpdir()
    env = dict(os.environ, DESTDIR=dest)
    p = subprocess.run(["meson", "install", "-C", build, "--no-rebuild", "--quiet"],
                       capture_output=True, text=True, env=env)
    estest.check(p.returncode == 0, f"meson install exited {p.returncode}: {p.stderr[-2000:]}")
    prefix = subprocess.run(["meson", "introspect", build, "--buildoptions"], capture_output=True,
                            text=True).stdout
    m = re.search(r'"name": "prefix", "value": "([^"]+)"', prefix)
    pre = dest + (m.group(1) if m else "/usr/local")

    def installed(rel):
        path = os.path.join(pre, rel)
        estest.check(os.path.isfile(path), f"not installed: {rel}")
        return path

    exe = installed("bin/edgesweep")
    plot = installed("bin/edgesweep-plot")
    man = installed("share/man/man1/edgesweep.1")
    comp = installed("share/bash-completion/completions/edgesweep")
    for rel in ("share/edgesweep/jobs/demo.ini", "share/edgesweep/jobs/reference.ini",
                "share/doc/edgesweep/LICENSE", "share/doc/edgesweep/CITATION.cff",
                "share/doc/edgesweep/README.md"):
        installed(rel)
    for doc in glob.glob(os.path.join(root, "doc", "*.md")):
        installed("share/doc/edgesweep/" + os.path.basename(doc))
    estest.check(glob.glob(os.path.join(pre, "share/edgesweep/jobs/studies/*/*.ini")),
                 "no study jobs installed")

    # The installed binary runs, and its job template is a valid job once filled in.
    run = lambda *a, **k: subprocess.run([exe, *a], capture_output=True, text=True, **k)
    v = run("--version")
    estest.check(v.returncode == 0 and v.stdout.startswith("edgesweep "), f"--version: {v.stdout}")
    keys = run("keys").stdout
    d = estest.tmpdir()
    filled, need, nreq = [], False, 0
    fill = {"sigma_w2": "1, 2", "depth": "2", "width": "4"}
    for line in keys.splitlines():
        if line.startswith("# required"):
            need = True
        elif need:
            k = line.split("=")[0].strip()
            estest.check(k in fill, f"unexpected required key {k}")
            line, need, nreq = f"{k} = {fill.get(k, '1')}", False, nreq + 1
        filled.append(line)
    estest.check(nreq == len(fill), f"{nreq} required keys marked, expected {len(fill)}")
    job = os.path.join(d, "job.ini")
    open(job, "w").write("\n".join(filled) + "\n")
    c = run("check", job, env=dict(os.environ, **estest.MPI_ENV))
    estest.check(c.returncode == 0, f"keys template filled in is not a valid job: {c.stderr}")
    raw = os.path.join(d, "raw.ini")
    open(raw, "w").write(keys)
    c = run("check", raw, env=dict(os.environ, **estest.MPI_ENV))
    estest.check(c.returncode == 2 and "sigma_w2" in c.stderr,
                 f"unfilled template: exit {c.returncode}, {c.stderr}")

    # The man page renders without warnings and documents every key and command.
    g = subprocess.run(["groff", "-man", "-Tutf8", "-ww", "-z", man], capture_output=True, text=True)
    estest.check(g.returncode == 0 and not g.stderr.strip(), f"groff warnings: {g.stderr[:500]}")
    text = subprocess.run(["groff", "-man", "-Tascii", man], capture_output=True, text=True).stdout
    text = re.sub(r".\x08", "", text)
    for key in re.findall(r"^(\w+) =", keys, re.M):
        estest.check(re.search(rf"\b{key}\b", text), f"man page lacks key {key}")
    for cmd in ("run", "check", "mft", "critical", "info", "keys"):
        estest.check(re.search(rf"edgesweep {cmd}\b", text), f"man page lacks command {cmd}")

    # Bash completion: commands, then job keys after --set.
    def complete(line):
        words = line.split(" ")
        script = (f"source {comp}; COMP_WORDS=({' '.join(repr(w) for w in words)}); "
                  f"COMP_CWORD={len(words) - 1}; _edgesweep; printf '%s\\n' \"${{COMPREPLY[@]}}\"")
        r = subprocess.run(["bash", "-c", script], capture_output=True, text=True,
                           env=dict(os.environ, PATH=os.path.dirname(exe) + ":" + os.environ["PATH"]))
        return r.stdout.split()

    estest.check(complete("edgesweep ru") == ["run"], f"completion of 'ru': {complete('edgesweep ru')}")
    keyc = complete("edgesweep run job.ini --set grid.w")
    estest.check(keyc == ["grid.width="], f"completion of --set grid.w: {keyc}")
    estest.check("--resume" in complete("edgesweep run --re"), "completion of run options")

    # The analysis package: installed by meson, and by pip from the tree.
    site = glob.glob(os.path.join(pre, "lib", "python3*", "*-packages"))
    estest.check(len(site) == 1, f"python package dir: {site}")
    penv = dict(os.environ, PYTHONPATH=site[0] if site else "")
    h = subprocess.run([plot, "--help"], capture_output=True, text=True, env=penv)
    estest.check(h.returncode == 0 and "--out" in h.stdout, f"edgesweep-plot --help: {h.stderr}")
    src = os.path.join(estest.tmpdir(), "analysis")
    shutil.copytree(os.path.join(root, "analysis"), src,
                    ignore=shutil.ignore_patterns("__pycache__", "build", "*.egg-info"))
    target = estest.tmpdir()
    pip = subprocess.run(["/usr/bin/python3", "-m", "pip", "install", "-q", "--no-deps",
                          "--no-build-isolation", "--target", target, src],
                         capture_output=True, text=True)
    estest.check(pip.returncode == 0, f"pip install of analysis/: {pip.stderr[-1500:]}")
    ep = os.path.join(target, "bin", "edgesweep-plot")
    h = subprocess.run(["/usr/bin/python3", ep, "/nonexistent.h5", "--out", target],
                       capture_output=True, text=True, env=dict(os.environ, PYTHONPATH=target))
    estest.check(h.returncode == 2 and "not an edgesweep file" in h.stderr,
                 f"pip-installed edgesweep-plot: exit {h.returncode}, {h.stderr}")
    estest.finish()


if __name__ == "__main__":
    main()
