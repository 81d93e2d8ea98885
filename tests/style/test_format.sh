#!/bin/bash
# Every C file in src/ include/ tests/ bench/ is as clang-format leaves it under the
# repository's .clang-format. Fix with: clang-format -i FILE (or the list this prints).
set -uo pipefail
root=${1:?usage: test_format.sh SOURCE_ROOT}
cd "$root" || exit 1
cf=${CLANG_FORMAT:-clang-format}
command -v "$cf" >/dev/null || { echo "FAIL: $cf not found (scripts/install-deps.sh)"; exit 1; }
[ -f .clang-format ] || { echo "FAIL: no .clang-format in $root"; exit 1; }
# The gate must be able to fail: a misformatted line is reported.
if printf 'int  f( ){return 0;}\n' | "$cf" --assume-filename=src/x.c --dry-run --Werror \
    >/dev/null 2>&1; then
  echo "FAIL: $cf --dry-run --Werror passes a misformatted file"
  exit 1
fi
mapfile -t files < <(find src include tests bench -name '*.[ch]' | sort)
bad=()
for f in "${files[@]}"; do
  "$cf" --dry-run --Werror "$f" >/dev/null 2>&1 || bad+=("$f")
done
if [ ${#bad[@]} -gt 0 ]; then
  echo "FAIL: ${#bad[@]} of ${#files[@]} C files not formatted:"
  printf '  %s\n' "${bad[@]}"
  exit 1
fi
echo "ok: ${#files[@]} C files formatted"
