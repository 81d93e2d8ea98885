#!/usr/bin/env python3
"""The repository is self-contained: no tracked file points to the team's files outside it, and
every section a file cites as "doc/physics.md §N" (or "doc/physics.md N.M" in the short form
of the HDF5 descriptions) exists in doc/physics.md.

Usage: test_doc_refs.py SOURCE_ROOT. Tracked files come from `git ls-files` when the root is a
git checkout, otherwise from a walk of the tree (a release tarball); binary files are skipped.
"""
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import estest  # noqa: E402


def main():
    root = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else ".")

    # Spelled in pieces so that this file does not match itself.
    FORBIDDEN = ["../" + "shared", "shared/" + "SPEC", "shared/" + "physics", "SPEC" + ".md",
                 "shared/" + "STYLE", "STYLE" + ".md", "TOOLCHAIN" + ".md"]
    # Citations of the team's documents by section or rule number, and of the physics notes by
    # their bare name instead of doc/physics.md (files inside doc/ may link it relatively).
    FORBIDDEN_RE = [re.compile(r"\b" + "SPEC" + r"(?: ?§|'s)"),
                    re.compile(r"\b" + "STYLE" + r" [AV]\d"),
                    re.compile(r"(?<![\w/.])" + "physics" + r"\.md")]

    def tracked_files():
        try:
            out = subprocess.run(["git", "-C", root, "ls-files", "-z"], check=True,
                                 capture_output=True).stdout
            return [p for p in out.decode().split("\0") if p]
        except (OSError, subprocess.CalledProcessError):
            files = []
            for d, dirs, names in os.walk(root):
                dirs[:] = [x for x in dirs if x != ".git" and not x.startswith("build")]
                files += [os.path.relpath(os.path.join(d, n), root) for n in names]
            return files

    def text_of(path):
        try:
            with open(os.path.join(root, path), "rb") as f:
                data = f.read()
        except OSError:  # listed by git but absent from this checkout
            return None
        if b"\0" in data[:8192]:
            return None
        return data.decode("utf-8", errors="replace")

    physics = text_of("doc/physics.md")
    if physics is None:
        sys.exit("FAIL: doc/physics.md is missing")
    # Section numbers from the headings "## 5. ..." and "### 5.4 ...".
    sections = set(re.findall(r"^#{2,3} (\d+(?:\.\d+)?)\.?\s", physics, re.M))
    # A section number has at most two digits a level ("§5.4", "5.4"; in "3.6967" only the 3).
    cite = re.compile(r"doc/physics\.md(?:'s)?,?\s+(?:§\s?)?(\d{1,2}(?:\.\d{1,2})?)(?!\d)")

    bad = []
    ncite = 0
    for path in tracked_files():
        text = text_of(path)
        if text is None:
            continue
        for lineno, line in enumerate(text.splitlines(), 1):
            hits = [w for w in FORBIDDEN if w in line]
            hits += [m.group(0) for r in FORBIDDEN_RE for m in r.finditer(line)
                     if not (path.startswith("doc/") and m.group(0).startswith("physics"))]
            for word in hits:
                bad.append(f"{path}:{lineno}: points outside the repository ({word!r}): "
                           f"{line.strip()[:120]}")
            for m in cite.finditer(line):
                ncite += 1
                if m.group(1) not in sections:
                    bad.append(f"{path}:{lineno}: cites doc/physics.md §{m.group(1)}, which has "
                               f"no such section")

    for b in bad:
        estest.check(False, b)
    print(f"{len(sections)} sections in doc/physics.md, {ncite} citations checked, "
          f"{len(bad)} problems")
    estest.finish()


if __name__ == "__main__":
    main()
