#!/bin/bash
# The Debian packaging (debian/) builds a .deb from a copy of the tree, and the packaged
# binary, man page, completion and analysis package are there and run.
# Ranks: 1 (no mpirun). Needs debhelper (scripts/install-deps.sh --with-packaging).
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/estest-deb.XXXXXX")
fail() { echo "FAIL: $*"; echo "files kept in $work"; exit 1; }
command -v dpkg-buildpackage >/dev/null && dpkg -s debhelper >/dev/null 2>&1 ||
  fail "dpkg-buildpackage or debhelper missing: scripts/install-deps.sh --with-packaging"
mkdir -p "$work/src"
if git -C "$root" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  (cd "$root" && git ls-files -z --cached --others --exclude-standard |
     xargs -0 cp --parents -t "$work/src" 2>/dev/null) || fail "copying the tree"
else
  cp -a "$root/." "$work/src" && rm -rf "$work/src"/build*
fi
(cd "$work/src" && dpkg-buildpackage -b -us -uc >"$work/build.log" 2>&1) ||
  { tail -30 "$work/build.log"; fail "dpkg-buildpackage failed (log $work/build.log)"; }
deb=$(ls "$work"/edgesweep_*_*.deb 2>/dev/null | head -1)
[ -n "$deb" ] || fail "no .deb produced"
listing=$(dpkg-deb -c "$deb")
for f in usr/bin/edgesweep usr/bin/edgesweep-plot usr/share/man/man1/edgesweep.1.gz \
         usr/share/bash-completion/completions/edgesweep usr/share/edgesweep/jobs/demo.ini \
         usr/share/doc/edgesweep/CITATION.cff usr/share/doc/edgesweep/LICENSE \
         usr/lib/python3/dist-packages/edgesweep_analysis/__init__.py; do
  grep -q "\./$f\$" <<<"$listing" || fail "$f not in the package"
done
depends=$(dpkg-deb -f "$deb" Depends)
grep -q libhdf5-openmpi <<<"$depends" || fail "Depends lacks parallel HDF5: $depends"
grep -qi openblas <<<"$depends" && fail "Depends names OpenBLAS, which no packaged file uses: $depends"
dpkg -x "$deb" "$work/root" || fail "dpkg -x"
"$work/root/usr/bin/edgesweep" --version | grep -q '^edgesweep ' || fail "packaged binary --version"
PYTHONPATH="$work/root/usr/lib/python3/dist-packages" /usr/bin/python3 \
  "$work/root/usr/bin/edgesweep-plot" --help >/dev/null || fail "packaged edgesweep-plot --help"
echo "ok: $(basename "$deb"), $(grep -c . <<<"$listing") entries"
rm -rf "$work"
