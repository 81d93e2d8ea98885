"""The `edgesweep-plot` command (also `analysis/plot` in the source tree): draw every figure
an edgesweep output file allows.

usage: edgesweep-plot OUT.h5 --out DIR [--format png] [--only NAME,...]

Prints the path of each figure written (one a line); a figure whose data is absent is
skipped with "skipped NAME: reason" on stderr. Exit 0 on success, 2 when OUT.h5 is not an
edgesweep file or the arguments are bad, 1 when writing a figure fails.
"""
import argparse
import os
import sys

# Read a file that a running sweep still holds open (OUT.h5.partial) without a lock error.
os.environ.setdefault("HDF5_USE_FILE_LOCKING", "FALSE")

from . import FIGURES, NotEdgesweep, Skip, open_run  # noqa: E402
from .figures import render, save  # noqa: E402

PROG = "edgesweep-plot"


def parse_args(argv):
    """Command-line arguments; --only is validated against the figure names."""
    p = argparse.ArgumentParser(prog=PROG, description="draw every figure an edgesweep output file allows",
                                epilog="figures: " + ", ".join(FIGURES))
    p.add_argument("file", metavar="OUT.h5", help="edgesweep output file")
    p.add_argument("--out", required=True, metavar="DIR", help="directory for the figures")
    p.add_argument("--format", default="png", choices=("png", "pdf", "svg"),
                   help="image format (default png)")
    p.add_argument("--only", metavar="NAME,...", help="comma-separated subset of figures")
    args = p.parse_args(argv)
    names = list(FIGURES)
    if args.only:
        names = [n.strip().removesuffix("." + args.format) for n in args.only.split(",")
                 if n.strip()]
        unknown = [n for n in names if n not in FIGURES]
        if unknown:
            p.error(f"unknown figure(s) {', '.join(unknown)}; known: {', '.join(FIGURES)}")
    args.names = names
    return args


def main(argv=None, prog=None):
    """Open the file, render the requested figures, return the exit code. PROG names the
    command in messages (analysis/plot when run from the source tree)."""
    global PROG
    PROG = prog or PROG
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        run = open_run(args.file)
    except NotEdgesweep as e:
        print(f"{PROG}: {args.file} is not an edgesweep file: {e}", file=sys.stderr)
        return 2
    try:
        os.makedirs(args.out, exist_ok=True)
    except OSError as e:
        print(f"{PROG}: cannot create {args.out}: {e.strerror}", file=sys.stderr)
        run.close()
        return 1
    failed = 0
    with run:
        counts = run.status_counts()
        if counts and counts["done"] < counts["total"]:
            print(f"{PROG}: note: {args.file}: {counts['done']} of {counts['total']} points "
                  f"done ({counts['pending']} pending, {counts['flagged']} flagged); "
                  "the others are left blank", file=sys.stderr)
        for name in args.names:
            try:
                fig = render(name, run)
            except Skip as e:
                print(f"skipped {name}: {e}", file=sys.stderr)
                continue
            except Exception as e:  # a bug or unforeseen data: report it, draw the rest
                print(f"{PROG}: {name} failed: {type(e).__name__}: {e}", file=sys.stderr)
                failed += 1
                continue
            path = os.path.join(args.out, f"{name}.{args.format}")
            try:
                save(fig, path)
            except OSError as e:
                print(f"{PROG}: cannot write {path}: {e}", file=sys.stderr)
                failed += 1
                continue
            print(path, flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
