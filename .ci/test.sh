#!/usr/bin/env bash
# The README's test command: installs what the tests need on a fresh machine
# (Debian packages, ykman; idempotent), then runs every test tier.
set -euo pipefail
cd "$(dirname "$0")/.."
bash .ci/install.sh
cargo test --locked --all-targets --no-fail-fast
