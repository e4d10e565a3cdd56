#!/bin/sh
# Creates (or reuses) a SoftHSM2 configuration in DIR and initializes a fresh
# token in it. Test tokens only: the PINs passed here are test PINs.
#
#   hsm-config/softhsm2/new-token.sh DIR LABEL [USER_PIN] [SO_PIN]
#   export SOFTHSM2_CONF=DIR/softhsm2.conf
#
# Module: /usr/lib/softhsm/libsofthsm2.so (Debian package softhsm2).
set -eu
if [ $# -lt 2 ]; then
    echo "usage: $0 DIR LABEL [USER_PIN] [SO_PIN]" >&2
    exit 2
fi
dir=$1
label=$2
pin=${3:-123456}
so_pin=${4:-12345678}
here=$(cd "$(dirname "$0")" && pwd)
command -v softhsm2-util >/dev/null 2>&1 || {
    echo "softhsm2-util not found: apt-get install softhsm2" >&2
    exit 1
}
mkdir -p "$dir/tokens"
dir=$(cd "$dir" && pwd)
if [ ! -f "$dir/softhsm2.conf" ]; then
    sed "s|@TOKENDIR@|$dir/tokens|" "$here/softhsm2.conf.in" >"$dir/softhsm2.conf"
fi
SOFTHSM2_CONF="$dir/softhsm2.conf" softhsm2-util --init-token --free \
    --label "$label" --pin "$pin" --so-pin "$so_pin" >/dev/null
echo "$dir/softhsm2.conf"
