#!/usr/bin/env bash
# Ceremony tests (tests/ceremony.rs): SoftHSM2 tokens, age (the demo's
# custodian key), poppler-utils (pdftotext reads the printed transcript).
# Idempotent: installs only what is missing.
set -euo pipefail
check() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
need=()
for pkg in softhsm2 age poppler-utils; do
  check "$pkg" || need+=("$pkg")
done
if [ "${#need[@]}" -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}"
fi
