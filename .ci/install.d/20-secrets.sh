#!/bin/sh
# Packages the disablement-secrets tests (tests/secrets_*.rs) need:
#   age            independent age implementation (age, age-keygen) to decrypt our files
#   poppler-utils  pdftoppm/pdffonts/pdftotext to render and read the PDF sheets
#   openssh-client ssh-keygen, for SSH ed25519/RSA recipients
#   bsdutils       script(1), to give stock age a terminal for passphrase mode
# Idempotent: installs only what is missing. Sourced by .ci/run.
secrets_missing=""
for secrets_pkg in age poppler-utils openssh-client bsdutils; do
    if ! dpkg-query -W -f='${Status}' "$secrets_pkg" 2>/dev/null | grep -q "install ok installed"; then
        secrets_missing="$secrets_missing $secrets_pkg"
    fi
done
if [ -n "$secrets_missing" ]; then
    echo "20-secrets: installing$secrets_missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends $secrets_missing
else
    echo "20-secrets: age, poppler-utils, openssh-client, bsdutils already installed"
fi
unset secrets_missing secrets_pkg
