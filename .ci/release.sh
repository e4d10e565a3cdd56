#!/usr/bin/env bash
# Builds the release binary, completions and man pages into dist/, and
# prints the binary's SHA-256 (write it into the ceremony record; compare it
# on the offline machine with `sha256sum locksmith`).
#
#   bash .ci/release.sh            # x86_64-unknown-linux-gnu (dynamic glibc, libpcsclite.so.1)
#   bash .ci/release.sh --musl     # static x86_64-unknown-linux-musl, see docs/offline-build.md
#
# Offline (vendored sources, see docs/offline-build.md) add: CARGO_NET_OFFLINE=true
set -euo pipefail
cd "$(dirname "$0")/.."

target="x86_64-unknown-linux-gnu"
if [ "${1:-}" = "--musl" ]; then
  target="x86_64-unknown-linux-musl"
  if ! rustup target list --installed 2>/dev/null | grep -qx "$target"; then
    echo "error: the $target standard library is not installed; run: rustup target add $target" >&2
    exit 1
  fi
  # The yubikey crate links libpcsclite (pcsc-sys). Debian ships it only as
  # a glibc shared library; a static musl binary needs libpcsclite.a built
  # with musl-gcc (see docs/offline-build.md).
  if [ -z "${PCSC_LIB_DIR:-}" ] || [ ! -e "${PCSC_LIB_DIR}/libpcsclite.a" ]; then
    echo "error: a static musl build needs libpcsclite.a compiled for musl: set PCSC_LIB_DIR to its directory" >&2
    echo "       (Debian has no such package; docs/offline-build.md says how to build one)" >&2
    exit 1
  fi
  export PCSC_LIB_NAME="static=pcsclite"
  export RUSTFLAGS="${RUSTFLAGS:-} -C target-feature=+crt-static"
  echo "note: a static binary cannot dlopen PKCS#11 modules; only YubiKey PIV and software keys will work" >&2
elif [ -n "${1:-}" ]; then
  echo "usage: bash .ci/release.sh [--musl]" >&2
  exit 2
fi

cargo build --release --locked --target "$target" --bin locksmith
bin="${CARGO_TARGET_DIR:-target}/$target/release/locksmith"

dist="dist/$target"
rm -rf "$dist"
mkdir -p "$dist"
cp "$bin" "$dist/locksmith"

echo "== $dist/locksmith"
"$dist/locksmith" --version
if command -v ldd >/dev/null; then
  echo "== linked libraries"
  ldd "$dist/locksmith" 2>&1 || true
fi
echo "== sha256"
(cd "$dist" && sha256sum locksmith | tee SHA256SUMS)

# Completions and man pages, from the release binary itself.
mkdir -p "$dist/completions" "$dist/man"
"$dist/locksmith" completions bash >"$dist/completions/locksmith.bash"
"$dist/locksmith" completions zsh >"$dist/completions/_locksmith"
"$dist/locksmith" completions fish >"$dist/completions/locksmith.fish"
"$dist/locksmith" man "$dist/man" >/dev/null
echo "== completions and man pages in $dist/completions and $dist/man"
