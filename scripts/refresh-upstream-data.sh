#!/usr/bin/env bash
# Refreshes tests/data/upstream (the vendored copy of upstream's vectors,
# samples and wire-fact notes) from ../shared, when that folder is present.
# The tests only ever read the vendored copy; tests/upstream_data.rs checks
# that it is identical to ../shared whenever ../shared exists.
set -euo pipefail
cd "$(dirname "$0")/.."
src=../shared
dst=tests/data/upstream
if [ ! -d "$src/vectors" ] || [ ! -d "$src/samples" ]; then
  echo "error: $src/vectors and $src/samples are missing: nothing to refresh from" >&2
  exit 1
fi
tmp=$(mktemp -d "$dst.new.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
cp -r "$src/vectors" "$src/samples" "$tmp/"
cp "$src/interop.md" "$src/hardware.md" "$tmp/"
cp "$dst/README.md" "$tmp/README.md" 2>/dev/null || true
rm -rf "$dst.old"
[ -d "$dst" ] && mv "$dst" "$dst.old"
mv "$tmp" "$dst"
rm -rf "$dst.old"
trap - EXIT
echo "refreshed $dst from $src"
git status --short -- "$dst"
