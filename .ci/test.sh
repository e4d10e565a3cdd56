#!/usr/bin/env bash
# The README's test command: every test tier that runs on this machine.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --locked --all-targets --no-fail-fast
