#!/usr/bin/python3
"""Write the edgesweep(1) man page from the binary's own command list and key table.

usage: scripts/gen-man.py EDGESWEEP OUT.1

The command list is `edgesweep --help`, the job-file section is `edgesweep keys` (the one key
table of src/config/config.c), so the page cannot drift from the program it describes.
"""
import re
import subprocess
import sys


def esc(text):
    """Escape a line of text for roff: backslashes, and a leading dot or quote."""
    text = text.replace("\\", "\\e").replace("-", "\\-")
    return "\\&" + text if text[:1] in (".", "'") else text


def keys_section(keys_text):
    """The JOB FILE section from the `keys` template: one .TP entry a key."""
    out, notes = [], []
    for line in keys_text.splitlines():
        line = line.rstrip()
        if not line:
            continue
        m = re.fullmatch(r"\[(\w+)\]", line)
        if m:
            out += [".SS [" + m.group(1) + "]"]
            continue
        if line.startswith("#"):
            notes.append(line.lstrip("# ").strip())
            continue
        key, _, default = (s.strip() for s in line.partition("="))
        required = any(n.startswith("required") for n in notes)
        head = f"\\fB{esc(key)}\\fR = " + ("(required)" if required else f"\\fI{esc(default) or '(empty)'}\\fR")
        body = [esc(n) for n in notes if not n.startswith("required")]
        out += [".TP", head] + [(".br\n" if i else "") + b for i, b in enumerate(body)]
        notes = []
    return "\n".join(out)


def main(argv):
    if len(argv) != 3:
        sys.exit(__doc__.strip())
    exe, path = argv[1], argv[2]
    run = lambda *a: subprocess.run([exe, *a], check=True, capture_output=True, text=True).stdout
    usage, keys, version = run("--help"), run("keys"), run("--version").splitlines()[0]
    # Each command of the list in --help, with its own --help text.
    names = re.findall(r"^  ([a-z]+)  +\S", usage.split("commands:", 1)[-1], re.M)
    commands, synopsis = [], []
    for name in names:
        text = run("help", name).rstrip().splitlines()
        syn = "\n".join(text).split("\n\n", 1)[0].removeprefix("usage: ")
        synopsis += [esc(l) for l in syn.splitlines()]
        commands += [".SS " + name, ".nf"] + [esc(l) for l in text[len(syn.splitlines()) + 1:]]
        commands += [".fi"]
    synopsis.append("edgesweep \\-\\-help | \\-\\-version")
    ver = version.split()[1] if len(version.split()) > 1 else "?"
    page = f""".TH EDGESWEEP 1 "" "edgesweep {esc(ver)}" "User Commands"
.SH NAME
edgesweep \\- finite\\-width phase diagrams of random deep networks, under MPI
.SH SYNOPSIS
.nf
{chr(10).join(synopsis)}
.fi
.SH DESCRIPTION
For every point of a grid over (sigma_w2, sigma_b2, depth, width), \\fBedgesweep run\\fR
simulates an ensemble of randomly initialised networks (feedforward, recurrent, or with leak
and noise), measures their correlators layer by layer and writes them, beside mean\\-field
theory and its 1/N corrections, into one HDF5 file.
Launch it alone, with \\fBmpirun \\-n P\\fR, or with \\fBsrun\\fR; rank 0 hands the points to
the other ranks, and the numbers do not depend on how many ranks ran them.
.PP
While a sweep runs its output is \\fIOUT.h5.partial\\fR; it is renamed to \\fIOUT.h5\\fR at the
end.  A stopped or killed run continues with \\fB\\-\\-resume\\fR and gives the bits of an
uninterrupted one.
.SH COMMANDS
{chr(10).join(commands)}
.SH JOB FILE
An INI file.  Grid axes take lists (1, 2, 4) or linspace(a, b, n), logspace(a, b, n),
range(a, b, step) with numpy's meaning; a value goes on over indented lines.
Every key below can be set on the command line with \\fB\\-\\-set section.key=value\\fR.
\\fBedgesweep keys > job.ini\\fR writes this list as a job file to fill in.
{keys_section(keys)}
.SH EXIT STATUS
.TP
0
done
.TP
1
runtime failure (the message names it)
.TP
2
bad input: the message names the file, line and key; nothing is written and no existing file
is touched
.TP
3
stopped by SIGTERM, SIGUSR1 or SIGINT; the partial file is kept, continue with \\-\\-resume
.SH ENVIRONMENT
.TP
.B EDGESWEEP_MPI_DEFAULTS
0 leaves Open MPI's start\\-up settings alone (by default a run alone is an isolated singleton
and a one\\-node run asks for the ob1 layer).
.TP
.B EDGESWEEP_SIMD
force a kernel path (scalar, avx2, avx512); every path gives the same bits.
.TP
.B EDGESWEEP_STATS
set: at the end of the sweep, rank 0 prints what every rank spent (requests answered, tasks,
pairs, results sent and taken, writes, waits) on stderr.
.SH FILES
.TP
.I share/edgesweep/jobs/
example jobs: demo.ini (seconds on two cores), reference.ini (every key, commented), studies.
.TP
.I share/doc/edgesweep/
the documentation: job file, output format, physics notes, cluster guide, architecture.
.SH SEE ALSO
\\fBedgesweep\\-plot\\fR(1) draws the figures of an output file; \\fBmpirun\\fR(1), \\fBsrun\\fR(1),
\\fBh5dump\\fR(1), \\fBncdump\\fR(1).
"""
    with open(path, "w") as f:
        f.write(page)


if __name__ == "__main__":
    main(sys.argv)
