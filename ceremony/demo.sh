#!/usr/bin/env bash
# A whole offline key ceremony on fresh SoftHSM2 tokens, with nothing left
# to answer: three tokens, a genesis signed by two of them, disablement
# secrets encrypted to a custodian and printed on sheets, node keys signed,
# a key added, updated and removed, and a three-party revocation of a
# compromised key. Every step says what it does and shows what it signs.
#
#   ceremony/demo.sh [WORKDIR]
#
# Environment:
#   LOCKSMITH_BIN      use this locksmith binary (default: build one with cargo)
#   LOCKSMITH_NO_SETUP skip installing system packages (.ci/install.sh)
#
# TEST TOKENS ONLY: the PINs below are demo PINs in files. Real ceremonies
# use hardware tokens and PINs typed at the prompt (see ceremony/runbook-init.md).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
work=${1:-$(mktemp -d /tmp/locksmith-demo.XXXXXX)}
mkdir -p "$work"
work=$(cd "$work" && pwd)

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
say() { printf '   %s\n' "$*"; }

if [ -z "${LOCKSMITH_NO_SETUP:-}" ]; then
  step "Setting up: system packages (SoftHSM2, OpenSC, age, …)"
  bash "$repo/.ci/install.sh" >/dev/null
fi
if [ -z "${LOCKSMITH_BIN:-}" ]; then
  step "Building locksmith"
  (cd "$repo" && cargo build --quiet --bin locksmith)
  LOCKSMITH_BIN="${CARGO_TARGET_DIR:-$repo/target}/debug/locksmith"
fi
ls() { command ls "$@"; }
locksmith() { "$LOCKSMITH_BIN" "$@"; }

step "Three fresh SoftHSM2 tokens in $work/hsm (demo PIN in a file)"
for t in token-a token-b token-c; do
  conf=$(sh "$repo/hsm-config/softhsm2/new-token.sh" "$work/hsm" "$t" 123456 12345678)
done
export SOFTHSM2_CONF="$conf"
printf '123456' > "$work/pin"
module=/usr/lib/softhsm/libsofthsm2.so
spec() { echo "pkcs11:token=$1;object=tailnet-lock?module-path=$module&pin-source=file:$work/pin"; }
A=$(spec token-a); B=$(spec token-b); C=$(spec token-c)
say "SOFTHSM2_CONF=$SOFTHSM2_CONF"

step "Generating an Ed25519 key on each token (non-extractable, never leaves it)"
for t in token-a token-b token-c; do
  locksmith token generate --signer "$(spec $t)" --label tailnet-lock
done
tlpub() { locksmith token show --signer "$1" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["tlpub"])'; }
TA=$(tlpub "$A"); TB=$(tlpub "$B"); TC=$(tlpub "$C")
say "A: $TA"; say "B: $TB"; say "C: $TC"

step "A custodian's age key (in real life: on the custodian's own device or YubiKey)"
age-keygen -o "$work/custodian.agekey" 2>/dev/null
custodian=$(age-keygen -y "$work/custodian.agekey")
say "custodian recipient: $custodian"

step "lock init: genesis signed by tokens A and B, C trusted too, 3 disablement secrets"
store="$work/store"
locksmith lock init --signer "$A" --signer "$B" --key "$TC" --meta name=ceremony-2026 \
  --gen-disablements 3 --secrets-to "$custodian" --secrets-out "$work/secrets" \
  --secrets-sheet-dir "$work/sheets" --store "$store" --out "$work/genesis.aum" --yes
say "age files: $(ls "$work/secrets" | tr '\n' ' ')"
say "sheets:    $(ls "$work/sheets" | tr '\n' ' ')"

step "Custody check: the custodian decrypts a secret file and verifies it against the chain"
first=$(ls "$work/secrets" | head -n 1)
locksmith secrets decrypt "$work/secrets/$first" --identity "$work/custodian.agekey" \
  --value "$(locksmith lock status --store "$store" --json | python3 -c 'import json,sys; print("disablement:"+json.load(sys.stdin)["disablement_values"][0])')" || true

step "lock status: what this offline machine now trusts"
locksmith lock status --store "$store"

step "lock sign: a node key, with the node's rotation key"
nodekey="nodekey:$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')"
rotation="tlpub:$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')"
echo "$nodekey" > "$work/nodekey.txt"
locksmith lock sign "$nodekey" "$rotation" --signer "$A" --store "$store" --out "$work/node.nks" --yes
locksmith lock verify-signature --store "$store" "$nodekey" "$work/node.nks"

step "lock sign --credential: a pre-auth credential for tailscale up --auth-key (contains a private key)"
locksmith lock sign --credential --signer "$B" --store "$store" --out "$work/credential.txt" --yes >/dev/null
say "credential suffix written to $work/credential.txt"

step "lock add: trust a fourth key D (signed by A); lock update: give it a name"
D="tlpub:$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')"
echo "$D" > "$work/compromised.txt"
locksmith lock add "$D" --signer "$A" --store "$store" --out "$work/add" --yes
locksmith lock update "$D" --meta name=ci-builder --signer "$B" --store "$store" --out "$work/update" --yes

step "Suppose D is compromised: revoke-keys, signed by A, then B and C cosign"
locksmith lock revoke-keys --accept-lockout unknown "$D" --signer "$A" --store "$store" --json --yes > "$work/revoke-1.json"
blob=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["blob"])' "$work/revoke-1.json")
locksmith lock revoke-keys --accept-lockout unknown --cosign "$blob" --signer "$B" --store "$store" --json --yes > "$work/revoke-2.json"
blob=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["blob"])' "$work/revoke-2.json")
locksmith lock revoke-keys --accept-lockout unknown --cosign "$blob" --signer "$C" --store "$store" --yes --out "$work/recovery.aum"
locksmith lock revoke-keys --accept-lockout unknown --finish "$work/recovery.aum" --store "$store"

step "lock remove: stop trusting C (not compromised, just retired), signed by A and B"
locksmith lock remove --accept-lockout unknown "$TC" --signer "$A" --signer "$B" --store "$store" --out "$work/remove" --yes

step "lock log: the verified history"
locksmith lock log --store "$store" | grep '^AUM'

step "The ceremony transcript: every signing command appended a record signed by its token"
locksmith ceremony verify "$store/transcript.jsonl" --store "$store"
locksmith ceremony print "$store/transcript.jsonl" --out "$work/transcript"

step "Done. Everything is in $work"
