#!/usr/bin/env bash
# The README's test command: installs what the tests need on a fresh machine
# (Debian packages, ykman; idempotent), then runs every test tier.
set -euo pipefail
cd "$(dirname "$0")/.."
bash .ci/install.sh
# Everything the tests need is installed now: a test that would skip for a
# missing package or service fails instead (tests/support/env.rs reads CI).
export CI="${CI:-true}"
cargo test --locked --all-targets --no-fail-fast
