#!/usr/bin/env bash
# Installs the system packages and tools the tests, the demo and the benches
# use. Idempotent: installs only what is missing. One list, one installer;
# called by .ci/test.sh (the README's test command) and ceremony/demo.sh.
set -euo pipefail

# Debian packages, each with what needs it.
packages=(
  pkgconf libpcsclite-dev  # build the pcsc / yubikey crates
  softhsm2                 # PKCS#11 tokens (tests/hw_pkcs11*.rs, ceremony tests, demo, benches)
  opensc                   # pkcs11-tool: an independent PKCS#11 client
  p11-kit p11-kit-modules  # p11-kit's registry and proxy module: the default PKCS#11 module (tests/hw_pkcs11_p11kit.rs)
  pcscd vsmartcard-vpcd    # the PC/SC daemon and the virtual reader for the virtual PIV card
  age                      # an independent age implementation (age, age-keygen)
  openssl                  # certificate checks in the signer tests
  openssh-client           # ssh-keygen: SSH ed25519/RSA recipients
  bsdutils                 # script(1): a terminal for stock age's passphrase mode
  poppler-utils            # pdftoppm/pdftotext/pdffonts: render and read the printed sheets
  tmux                     # the interactive (PIN prompt) tests
  librsvg2-bin             # rsvg-convert: renders the SVG codes (tests/exchange_interop.rs)
  imagemagick libmagickcore-6.q16-6-extra  # convert MSVG:, ImageMagick's own SVG renderer, a second renderer of the SVG codes
  python3-pip              # to install ykman below
)

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
missing=()
for pkg in "${packages[@]}"; do
  installed "$pkg" || missing+=("$pkg")
done
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  echo "install: apt-get install ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# ykman (yubikey-manager, PyPI): the independent PIV client.
if ! command -v ykman >/dev/null 2>&1; then
  # Debian's system Python refuses global pip installs (PEP 668); a
  # pyenv/venv Python does not. Try plain first, then the Debian escape hatch.
  python3 -m pip install --quiet yubikey-manager \
    || python3 -m pip install --quiet --break-system-packages yubikey-manager
fi
command -v ykman >/dev/null 2>&1 || { echo "ykman is still missing after pip install" >&2; exit 1; }
