#!/usr/bin/env bash
# Hardware-signer test dependencies (tests/hw_pkcs11.rs, tests/hw_yubikey.rs,
# benches/pkcs11_signing.rs). Idempotent: installs only what is missing.
#   apt: softhsm2 (PKCS#11 token), opensc (pkcs11-tool), pcscd + vsmartcard-vpcd
#        (PC/SC daemon and the virtual reader the virtual PIV card plugs into),
#        libpcsclite-dev + pkgconf (build the yubikey/pcsc crates), age, openssl.
#   pip: yubikey-manager (ykman: the independent PIV client).
set -euo pipefail

check() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
need=()
for pkg in softhsm2 opensc pcscd vsmartcard-vpcd libpcsclite-dev pkgconf age openssl python3-pip; do
  check "$pkg" || need+=("$pkg")
done
if [ "${#need[@]}" -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}"
fi

if ! command -v ykman >/dev/null 2>&1; then
  # Debian 12's system Python refuses global pip installs (PEP 668); a
  # pyenv/venv Python does not. Try plain first, then the Debian escape hatch.
  python3 -m pip install --quiet yubikey-manager \
    || python3 -m pip install --quiet --break-system-packages yubikey-manager
fi
command -v ykman >/dev/null 2>&1 || { echo "ykman is still missing after pip install" >&2; exit 1; }
ykman --version
