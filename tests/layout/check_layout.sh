#!/usr/bin/env bash
# The house rules that a reader of docs/architecture.md relies on, checked on the source tree:
#   1. the folder table in docs/architecture.md lists each folder after everything it may include,
#      so the arrows point one way and there is no cycle;
#   2. every #include "<folder>/..." in a folder's sources is itself or one the table allows;
#   3. <folder>/internal/ headers are included only from <folder>/ (and its tests, fuzz targets);
#   4. no .cc or .h file of ours is over 800 lines.
# Usage: tests/layout/check_layout.sh [REPOSITORY_ROOT]
set -euo pipefail
root="${1:-$(cd "$(dirname "$0")/../.." && pwd)}"
cd "$root"
doc=docs/architecture.md
max_lines=800
failures=0
fail() { echo "layout: $*" >&2; failures=$((failures + 1)); }

# Rows of the table between the markers: | `folder/` | `dep/` `dep/` | purpose |
declare -A allowed=()
declare -a order=()
while IFS= read -r line; do
  folder=$(sed -E 's/^\| `([a-z_]+)\/` \|.*/\1/' <<<"$line")
  deps=$(cut -d'|' -f3 <<<"$line" | grep -oE '`[a-z_]+/`' | tr -d '`/' | tr '\n' ' ' || true)
  purpose=$(cut -d'|' -f4 <<<"$line" | sed -E 's/^ +| +$//g')
  [ -n "$purpose" ] || fail "$doc: $folder/ has no purpose"
  for dep in $deps; do
    [ -n "${allowed[$dep]+x}" ] || fail "$doc: $folder/ may include $dep/, which is not listed above it (an arrow up or a cycle)"
  done
  allowed[$folder]="$deps"
  order+=("$folder")
done < <(sed -n '/<!-- layout-table/,/<!-- end of layout-table/p' "$doc" | grep -E '^\| `[a-z_]+/` \|')
[ ${#order[@]} -gt 0 ] || { echo "layout: no folder table found in $doc" >&2; exit 1; }

is_ours() { [ -n "${allowed[$1]+x}" ]; }

# Every folder with a CMake library must be in the table.
for lists in */CMakeLists.txt; do
  folder=${lists%%/*}
  grep -q "add_library(tessera_$folder " "$lists" 2>/dev/null || continue
  is_ours "$folder" || fail "$folder/ builds tessera_$folder but is not in $doc's table"
done

for folder in "${order[@]}"; do
  [ -d "$folder" ] || { fail "$doc lists $folder/, which does not exist"; continue; }
  while IFS= read -r hit; do
    file=${hit%%:*}
    rest=${hit#*:}; line_no=${rest%%:*}
    target=$(sed -E 's/.*#include "([^"]+)".*/\1/' <<<"$hit")
    dep=${target%%/*}
    [ "$dep" = "$target" ] && continue  # not a path of ours
    is_ours "$dep" || continue          # a library's header
    [ "$dep" = "$folder" ] && continue
    if [[ " ${allowed[$folder]} " != *" $dep "* ]]; then
      fail "$file:$line_no includes $target: $folder/ may not include $dep/ (docs/architecture.md)"
    fi
  done < <(grep -rnE '^#include "[a-z_]+/' "$folder" --include='*.h' --include='*.cc' || true)
done

# internal/ headers stay inside their folder (its tests and fuzz targets may look in).
while IFS= read -r hit; do
  file=${hit%%:*}
  target=$(sed -E 's/.*#include "([^"]+)".*/\1/' <<<"$hit")
  owner=${target%%/*}
  case "$file" in
    "$owner"/* | tests/"$owner"/* | fuzz/*) ;;
    *) fail "$file includes $target: internal headers of $owner/ are for $owner/ only" ;;
  esac
done < <(grep -rnE '^#include "[a-z_]+/internal/' --include='*.h' --include='*.cc' . | sed 's|^\./||' | grep -v '^build' || true)

# No source file over the limit.
while IFS= read -r file; do
  lines=$(wc -l <"$file")
  [ "$lines" -le "$max_lines" ] || fail "$file has $lines lines (limit $max_lines: split it by concept)"
done < <(git ls-files '*.cc' '*.h' 2>/dev/null || find . -name '*.cc' -o -name '*.h' | grep -v '^./build')

if [ "$failures" -gt 0 ]; then
  echo "layout: $failures problem(s)" >&2
  exit 1
fi
echo "layout: ${#order[@]} folders, arrows one way, includes within them, no file over $max_lines lines"
