#!/usr/bin/env bash
# Bounded fuzzing: runs every cargo-fuzz target for FUZZ_SECONDS (default
# 30) each, on the stable toolchain (RUSTC_BOOTSTRAP=1 lets stable take the
# sanitizer flags cargo-fuzz passes), starting from the committed corpus in
# fuzz/corpus/TARGET. Fails on the first crash, leak or timeout; the
# reproducer lands in fuzz/artifacts/TARGET/. Prints the executions run per
# target (libFuzzer's "stat::number_of_executed_units").
#
#   FUZZ_SECONDS=300 bash .ci/fuzz.sh            # every target, 5 min each
#   bash .ci/fuzz.sh signer_spec input_identify  # only these
#
# New inputs libFuzzer finds are written to a scratch corpus, not to
# fuzz/corpus (commit interesting ones by hand after `cargo fuzz cmin`).
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${FUZZ_SECONDS:-30}"
case "$seconds" in
  ''|*[!0-9]*) echo "error: FUZZ_SECONDS must be a whole number of seconds, not '$seconds'" >&2; exit 2 ;;
esac

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "== installing cargo-fuzz"
  cargo install cargo-fuzz --locked
fi

export RUSTC_BOOTSTRAP=1
if [ "$#" -gt 0 ]; then
  targets=("$@")
else
  mapfile -t targets < <(cargo fuzz list)
fi
if [ "${#targets[@]}" -eq 0 ]; then
  echo "error: cargo fuzz list found no targets in fuzz/" >&2
  exit 1
fi

scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT

# Build every target once, up front.
cargo fuzz build -O

summary=()
for t in "${targets[@]}"; do
  echo "== fuzzing $t for ${seconds}s"
  mkdir -p "$scratch/$t" "fuzz/corpus/$t"
  log="$scratch/$t.log"
  # New corpus entries go to the scratch directory (first corpus dir); the
  # committed corpus is read only.
  if ! cargo fuzz run -O "$t" "$scratch/$t" "fuzz/corpus/$t" -- \
      -max_total_time="$seconds" -print_final_stats=1 -timeout=10 -rss_limit_mb=2048 \
      >"$log" 2>&1; then
    tail -n 60 "$log" >&2
    echo "error: fuzz target $t failed; the reproducer is in fuzz/artifacts/$t/ (run: RUSTC_BOOTSTRAP=1 cargo fuzz run $t fuzz/artifacts/$t/<file>)" >&2
    exit 1
  fi
  execs="$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -n1)"
  summary+=("$t: ${execs:-?} executions in ${seconds}s")
done

echo "== fuzzing done, no crashes"
printf '%s\n' "${summary[@]}"
