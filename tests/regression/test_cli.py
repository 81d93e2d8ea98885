#!/usr/bin/python3
"""The command line follows the conventions people know: every command takes --help (exit 0),
`edgesweep help [CMD]`, `--opt=value` and `--opt value` alike, "did you mean" for mistyped
commands, options, activations and job keys (exit 2), and --progress chooses how progress
shows: a live bar under mpirun when it runs in a terminal (auto), lines in a log.
Ranks: 1 and 2 (mpirun)."""
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import estest  # noqa: E402


def main():
    COMMANDS = ("run", "check", "info", "mft", "critical", "keys", "help")

    def expect(args, code, out=None, err=None):
        p = estest.run(args, check=False)
        ok = p.returncode == code
        ok &= out is None or out in p.stdout
        ok &= err is None or err in p.stderr
        estest.check(ok, f"edgesweep {' '.join(args)}: exit {p.returncode} (want {code}), "
                         f"stdout {p.stdout[:300]!r}, stderr {p.stderr[:300]!r}")
        return p

    # Help everywhere, on stdout, exit 0.
    top = expect(["--help"], 0, out="commands:")
    for cmd in COMMANDS:
        estest.check(f"  {cmd} " in top.stdout, f"--help does not list {cmd}")
        for form in ([cmd, "--help"], [cmd, "-h"], ["help", cmd]):
            expect(form, 0, out=f"usage: edgesweep {cmd}")
    expect(["help"], 0, out="commands:")
    expect(["--version"], 0, out="edgesweep ")
    expect([], 2, err="usage:")

    # --opt=value and --opt value give the same answer.
    a = expect(["mft", "--activation=tanh", "--sigma-w2=2.5", "--sigma-b2=0.05", "--json"], 0)
    b = expect(["mft", "--activation", "tanh", "--sigma-w2", "2.5", "--sigma-b2", "0.05", "--json"], 0)
    c = expect(["mft", "--json", "--sigma-b2", "0.05", "--activation=tanh", "--sigma-w2", "2.5"], 0)
    estest.check(a.stdout == b.stdout == c.stdout and '"chi1"' in a.stdout, "mft forms differ")
    expect(["critical", "--activation=tanh", "--sigma-b2=0.05"], 0, out="1.76095463")

    # Suggestions.
    expect(["rnu"], 2, err="did you mean 'run'?")
    expect(["chek"], 2, err="did you mean 'check'?")
    expect(["frobnicate"], 2, err="unknown command 'frobnicate'")
    expect(["--sigma-w2=2"], 2, err="is not a command")
    expect(["run", "job.ini", "--resmue"], 2, err="did you mean '--resume'?")
    expect(["run", "job.ini", "--outptu=x.h5"], 2, err="did you mean '--output'?")
    expect(["run", "job.ini", "--force=yes"], 2, err="takes no value")
    expect(["run", "job.ini", "--set"], 2, err="needs a value")
    expect(["run", "job.ini", "--progress=fancy"], 2, err="use auto, bar, log or none")
    expect(["mft", "--activation=tahn", "--sigma-w2=2", "--sigma-b2=0"], 2, err="did you mean tanh?")
    expect(["mft", "--activation=tanh", "--sigma-w2=2", "--sigma-b2=0", "--jsn"], 2,
           err="did you mean '--json'?")
    expect(["run"], 2, err="missing JOB.ini")
    expect(["info"], 2, err="usage: edgesweep info")

    d = estest.tmpdir()
    job = estest.write_job(os.path.join(d, "job.ini"), {
        "grid": {"sigma_w2": "1, 2", "depth": "3", "width": "8", "widht": "4"}})
    p = expect(["check", job], 2, err="did you mean width?")
    estest.check("job.ini:5" in p.stderr, f"line of the typo: {p.stderr}")
    job = estest.write_job(os.path.join(d, "job2.ini"), {
        "grid": {"sigma_w2": "1, 2", "depth": "3", "width": "8", "networks": "4"}})
    expect(["check", job], 2, err="it belongs under [ensemble] networks")
    job = estest.write_job(os.path.join(d, "job3.ini"), {
        "gird": {"sigma_w2": "1, 2"}})
    expect(["check", job], 2, err="did you mean [grid]?")
    job = estest.write_job(os.path.join(d, "ok.ini"), {
        "grid": {"sigma_w2": "1, 2", "depth": "3", "width": "8"}, "ensemble": {"networks": "4"}})
    expect(["check", job, "--set", "grid.depht=2"], 2, err="did you mean depth?")
    # Options before and after the job file, and a second job file refused.
    expect(["check", "--set=grid.width=16", job], 0)
    expect(["check", job, "other.ini"], 2, err="unexpected argument 'other.ini'")

    # Progress: the bar is '\r[###...]', a log line starts with 'progress:'.
    def progress(mode, tty, ranks=2):
        out = os.path.join(d, f"p-{mode}-{tty}.h5")
        cmd = ["mpirun", "-n", str(ranks), estest.binary(), "run", job, "-o", out, "--force"]
        if mode:
            cmd.append(f"--progress={mode}")
        env = dict(os.environ, **estest.MPI_ENV)
        if tty:  # a terminal, as a person at the keyboard has: script(1) gives mpirun a pty
            cmd = ["script", "-qec", " ".join(cmd), "/dev/null"]
        # Bytes: text mode would turn the bar's carriage returns into newlines.
        p = subprocess.run(cmd, capture_output=True, env=env, timeout=120, stdin=subprocess.DEVNULL)
        text = (p.stdout + p.stderr).decode(errors="replace")
        estest.check(p.returncode == 0, f"{cmd}: exit {p.returncode}: {text[-500:]}")
        return ("\r[" in text), ("progress:" in text)

    estest.check(progress("auto", True) == (True, False), "auto in a terminal under mpirun: no bar")
    estest.check(progress(None, True) == (True, False), "default in a terminal under mpirun: no bar")
    estest.check(progress("auto", False) == (False, True), "auto in a pipe: no log line")
    estest.check(progress("bar", False) == (True, False), "--progress=bar in a pipe: no bar")
    estest.check(progress("log", True) == (False, True), "--progress=log in a terminal: no log line")
    estest.check(progress("none", True) == (False, False), "--progress=none printed progress")
    estest.finish()


if __name__ == "__main__":
    main()
