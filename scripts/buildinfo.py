#!/usr/bin/env python3
"""Write the build's provenance as a C file, on every build (meson runs it always).

usage: buildinfo.py SOURCE_ROOT BUILD_ROOT OUT.c COMPILER

The commit and dirty flag are read from git now, not when meson configured, so a commit made
after configuring shows after a plain `ninja`. The file is rewritten only when its text
changes, so an unchanged tree recompiles and relinks nothing.
"""
import json
import os
import shlex
import subprocess
import sys


def git(root, *args):
    try:
        r = subprocess.run(["git", "-C", root, *args], capture_output=True, text=True,
                           timeout=30)
    except (OSError, subprocess.SubprocessError):
        return None
    return r.stdout.strip() if r.returncode == 0 else None


def flags(build_root):
    """The compile flags of the driver as ninja runs them (compile_commands.json)."""
    try:
        with open(os.path.join(build_root, "compile_commands.json")) as f:
            cmds = json.load(f)
    except (OSError, ValueError):
        return "unknown"
    for c in cmds:
        if c.get("file", "").endswith("src/driver/driver.c"):
            args = shlex.split(c["command"])[1:]
            out, skip = [], False
            for a in args:
                if skip:
                    skip = False
                    continue
                if a in ("-o", "-MQ", "-MF", "-c"):
                    skip = True
                    continue
                if a.startswith(("-I", "-MD", "-isystem", "-fdiagnostics-color")) or a.endswith(".c"):
                    continue
                out.append(a)
            return " ".join(out)
    return "unknown"


def cstr(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def main():
    src, build, out, compiler = sys.argv[1:5]
    commit = git(src, "rev-parse", "--short=12", "HEAD") or "unknown"
    status = git(src, "status", "--porcelain", "--untracked-files=no")
    dirty = 1 if status else 0
    if status is None:
        dirty = -1
    text = (
        "/* Generated on every build by scripts/buildinfo.py: do not edit. */\n"
        '#include "edgesweep/buildinfo.h"\n'
        f"const char es_build_git_commit[] = {cstr(commit)};\n"
        f"const int es_build_git_dirty = {dirty};\n"
        f"const char es_build_git_id[] = {cstr(commit + ('-dirty' if dirty == 1 else ''))};\n"
        f"const char es_build_compiler[] = {cstr(compiler)};\n"
        f"const char es_build_flags[] = {cstr(flags(build))};\n"
    )
    try:
        with open(out) as f:
            if f.read() == text:
                return 0
    except OSError:
        pass
    with open(out + ".tmp", "w") as f:
        f.write(text)
    os.replace(out + ".tmp", out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
