#!/usr/bin/env bash
# Installs the system packages and tools the tests use. Idempotent: each
# step checks before it installs. Extra steps live in .ci/install.d/*.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
for pkg in "$@"; do need_apt+=("$pkg"); done
check() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
for pkg in pkgconf libpcsclite-dev softhsm2 opensc pcscd vsmartcard-vpcd age poppler-utils; do
  check "$pkg" || need_apt+=("$pkg")
done
if [ "${#need_apt[@]}" -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_apt[@]}"
fi

if [ -d .ci/install.d ]; then
  for step in .ci/install.d/*.sh; do
    [ -e "$step" ] || continue
    echo "== $step"
    bash "$step"
  done
fi
