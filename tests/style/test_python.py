#!/usr/bin/python3
"""Python hygiene: pyflakes reports nothing in analysis/, tests/, bench/, jobs/ (and the
analysis/plot script), and no test file runs when imported: at its top level a test has only
its docstring, imports, the sys.path and matplotlib set-up, definitions, constants and the
`if __name__ == "__main__":` guard. Ranks: 0."""
import ast
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import estest  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
PYFLAKES = "pyflakes3"


def pyflakes(paths):
    """Run pyflakes on PATHS (relative to ROOT); return the CompletedProcess."""
    return subprocess.run([PYFLAKES] + paths, cwd=ROOT, capture_output=True, text=True)


def setup_call(node):
    """A module-level call that only sets up imports or the plotting backend."""
    if not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Call)):
        return False
    return ast.unparse(node.value.func) in ("sys.path.insert", "matplotlib.use",
                                            "os.environ.setdefault")


def main_guard(node):
    return isinstance(node, ast.If) and ast.unparse(node.test) == "__name__ == '__main__'"


def constant(node):
    """NAME = literal (numbers, strings, tuples of them, os.path joins of such)."""
    if not isinstance(node, ast.Assign):
        return False
    v = node.value
    return isinstance(v, (ast.Constant, ast.Tuple)) or (
        isinstance(v, ast.Call) and ast.unparse(v.func).startswith("os.path."))


def runs_on_import(path):
    """The first top-level statement of PATH that would run code on import, or None."""
    tree = ast.parse(open(path).read(), path)
    for i, node in enumerate(tree.body):
        if i == 0 and isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            continue
        if isinstance(node, (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.ClassDef)):
            continue
        if setup_call(node) or main_guard(node) or constant(node):
            continue
        return f"{path}:{node.lineno}: {ast.unparse(node).splitlines()[0]}"
    return None


def main():
    p = pyflakes(["analysis", "tests", "bench", "jobs", os.path.join("analysis", "plot")])
    estest.check(p.returncode == 0 and not p.stdout.strip(),
                 f"pyflakes3 reports (exit {p.returncode}):\n{p.stdout}{p.stderr}")
    # The check must be able to fail: an unused import is reported.
    d = estest.tmpdir()
    bad = os.path.join(d, "unused.py")
    with open(bad, "w") as f:
        f.write("import os\n")
    estest.check(pyflakes([bad]).returncode != 0, "pyflakes3 passes an unused import")
    tests = sorted(os.path.join(dp, f) for dp, _, fs in os.walk(os.path.join(ROOT, "tests"))
                   for f in fs if f.startswith("test_") and f.endswith(".py"))
    estest.check(len(tests) >= 15, f"only {len(tests)} test files found under tests/")
    for t in tests:
        where = runs_on_import(t)
        estest.check(where is None, f"runs when imported: {where}")
    with open(bad, "w") as f:
        f.write("print('side effect')\n")
    estest.check(runs_on_import(bad) is not None, "a top-level call is not noticed")
    print(f"pyflakes clean; {len(tests)} test files run only as scripts")
    estest.finish()


if __name__ == "__main__":
    main()
