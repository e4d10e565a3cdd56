#!/usr/bin/env python3
"""Writes cases.json (the table tests/bad_inputs.rs runs). Kept as a script
so that hostile characters (RTL override, NUL) are spelled as escapes here
and land in the JSON as \\u escapes. Edit here, then run it."""
import json, pathlib
V = "disablement:9956b1fb205df2b723b69333c46070d9f51dab5ef24f504d5eb56d2c6fe2e997"
NK = "nodekey:" + "11" * 32
RLO = "\u202e"
BIG = 64 * 1024 * 1024 + 1  # MAX_INPUT_BYTES + 1
cases = []
def case(name, why, args, stderr, status=1, **kw):
    c = {"name": name, "why": why, "args": args, "status": status, "stderr": stderr}
    c.update(kw)
    cases.append(c)
F = "{files}/"
S = "{samples}/"

# ---- inspect INPUT
case("inspect-truncated", "half an AUM", ["inspect", F + "aum-truncated.bin"], "neither a valid AUM nor a valid node-key signature")
case("inspect-truncated-hex", "half an AUM, as hex", ["inspect", F + "aum-truncated.hex"], "neither a valid AUM nor a valid node-key signature")
case("inspect-truncated-by-one", "an AUM missing its last byte", ["inspect", F + "aum-truncated-by-one.bin"], "neither a valid AUM nor a valid node-key signature")
case("inspect-empty", "an empty file", ["inspect", F + "empty.bin"], "empty.bin")
case("inspect-trailing", "a whole AUM followed by one extra byte", ["inspect", F + "aum-trailing-byte.bin"], "neither a valid AUM nor a valid node-key signature")
case("inspect-noncanonical-indefinite", "indefinite-length map", ["inspect", F + "aum-noncanonical-indefinite-map.bin"], "neither a valid AUM nor a valid node-key signature")
case("inspect-noncanonical-tag", "a CBOR tag before the AUM", ["inspect", F + "aum-noncanonical-tagged.bin"], "neither a valid AUM nor a valid node-key signature")
case("inspect-array-over-limit", "an array of 4097 elements (upstream's limit is 4096)", ["inspect", F + "aum-array-over-limit.bin"], "neither a valid AUM nor a valid node-key signature")
case("inspect-map-over-limit", "a map of 1025 pairs (upstream's limit is 1024)", ["inspect", F + "aum-map-over-limit.bin"], "neither a valid AUM nor a valid node-key signature")
case("inspect-nesting-too-deep", "arrays nested 40 deep (upstream's limit is 16)", ["inspect", F + "aum-nesting-too-deep.bin"], "neither a valid AUM nor a valid node-key signature")
case("inspect-duplicate-key", "map key 1 twice", ["inspect", F + "aum-duplicate-key.bin"], "neither a valid AUM nor a valid node-key signature")
case("chain-array-over-limit", "an over-limit array in a chain AUM", ["lock", "status", "--chain", F + "aum-array-over-limit.bin"], "not a Tailnet Lock artifact")
case("inspect-rtl-existing-file", "an existing junk file whose name holds an RTL override", ["inspect", "{tmp}/evil" + RLO + "mua.bin"], "evil\\u{202e}mua.bin", make={"evil" + RLO + "mua.bin": 10})
case("chain-rtl-existing-file", "an existing junk chain file whose name holds an RTL override", ["lock", "log", "--chain", "{tmp}/chain" + RLO + "mua.bin"], "chain\\u{202e}mua.bin", make={"chain" + RLO + "mua.bin": 10})
case("inspect-log-truncated", "lock log JSON cut short", ["inspect", F + "lock-log-truncated.json"], "lock-log-truncated.json")
case("inspect-json-other", "JSON that is neither log nor status", ["inspect", F + "json-other.json"], "neither")
case("inspect-plain-authkey", "a pre-auth key with no credential", ["inspect", F + "plain-pre-authkey.txt"], "no --TL credential suffix")
case("inspect-invalid-utf8", "bytes that are neither text nor CBOR", ["inspect", F + "invalid-utf8.bin"], "neither a valid AUM nor a valid node-key signature")
case("inspect-nul-in-hex", "a NUL in the middle of hex", ["inspect", F + "nul-in-hex.txt"], "neither a valid AUM nor a valid node-key signature")
case("inspect-rtl-content", "an RTL override in the content", ["inspect", F + "rtl-override.txt"], "neither a valid AUM nor a valid node-key signature")
case("inspect-oversized", "one byte over the 64 MiB input limit", ["inspect", "{tmp}/big.bin"], "larger than", make={"big.bin": BIG})
case("inspect-stdin-empty", "nothing on standard input", ["inspect", "-"], "standard input", stdin="")
case("inspect-stdin-truncated", "half an AUM in hex on standard input", ["inspect", "-"], "standard input", stdin_file=F + "aum-truncated.hex")
case("inspect-long-name", "a 300-byte file name that does not exist", ["inspect", {"repeat": "a", "times": 300, "suffix": ".aum"}], "no such file")
case("inspect-rtl-name", "a missing file whose name holds an RTL override", ["inspect", "evil" + RLO + "mua.aum"], "no such file")
case("inspect-dir", "a directory (read as QR frames: it holds a file that is no image)", ["inspect", F], "cannot read the image")
case("inspect-huge-inline", "a 100 kB argument", ["inspect", {"repeat": "Z", "times": 100000}], "no file by that name")
case("inspect-bom", "hex behind a UTF-8 byte-order mark", ["inspect", F + "bom-hex.txt"], "bom-hex.txt")

# ---- --chain
case("chain-truncated", "half an AUM", ["lock", "status", "--chain", F + "aum-truncated.bin"], "not a Tailnet Lock artifact")
case("chain-nks", "an NKS where AUMs are expected", ["lock", "status", "--chain", F + "nks-as-aum.bin"], "expected AUMs")
case("chain-status-json", "status JSON where a log is expected", ["lock", "status", "--chain", F + "status-as-chain.json"], "found a lock status export")
case("chain-deeplink", "a deeplink where AUMs are expected", ["lock", "log", "--chain", F + "deeplink-as-aum.txt"], "found a signing deeplink")
case("chain-foreign-child", "the sample chain, then an AUM of another authority", ["lock", "log", "--chain", S + "chain", "--chain", F + "foreign-child.bin"], "does not verify")
case("chain-foreign-child-b64", "an AUM of another authority (base64url) as the only chain", ["lock", "status", "--chain", F + "foreign-child.b64"], "cannot start an authority")
case("chain-foreign-genesis-mixed", "another authority's genesis after this chain", ["lock", "status", "--chain", S + "chain/0000-checkpoint.aum", "--chain", F + "foreign-genesis.bin"], "does not verify")
case("chain-dir-of-junk", "a directory of files that are not AUMs", ["lock", "status", "--chain", F], "{files}")
case("chain-oversized", "one byte over the input limit", ["lock", "status", "--chain", "{tmp}/big.aum"], "larger than", make={"big.aum": BIG})
case("chain-stdin-garbage", "garbage on standard input", ["lock", "status", "--chain", "-"], "standard input", stdin="hello\u0000world\n")
case("chain-log-truncated", "lock log JSON cut short", ["lock", "log", "--chain", F + "lock-log-truncated.json"], "lock-log-truncated.json")
case("chain-rtl-name", "a missing chain file with an RTL override in its name", ["lock", "status", "--chain", "chain" + RLO + "mua.aum"], "no such file")

# ---- lock verify-signature NODE_KEY NKS
VS = ["lock", "verify-signature", "--chain", S + "chain"]
case("vs-nodekey-short", "a node key of 2 bytes", VS + ["nodekey:1234", S + "nks/direct.nks"], "64 hex digits")
case("vs-nodekey-rtl", "an RTL override inside the node key", VS + ["nodekey:" + RLO + "11" * 32, S + "nks/direct.nks"], "node key")
case("vs-nodekey-overlong", "a node key one byte too long", VS + ["nodekey:" + "11" * 33, S + "nks/direct.nks"], "64 hex digits")
case("vs-nodekey-wrong-prefix", "a tlpub where a node key goes", VS + ["tlpub:" + "11" * 32, S + "nks/direct.nks"], "node key")
case("vs-nks-truncated", "an NKS cut short", VS + [NK, F + "nks-truncated.hex"], "not a Tailnet Lock artifact")
case("vs-nks-odd-hex", "an NKS with an odd number of hex digits", VS + [NK, F + "nks-odd-hex.txt"], "nks-odd-hex.txt")
case("vs-nks-is-aum", "an AUM where the NKS goes", VS + [NK, F + "aum-as-nks.hex"], "an AUM")
case("vs-nks-is-authkey", "a wrapped auth key where the NKS goes", VS + [NK, F + "authkey-as-nks.txt"], "wrapped auth key")
case("vs-nks-other-authority", "a valid NKS checked against another authority", ["lock", "verify-signature", "--chain", F + "foreign-genesis.bin", "nodekey:" + "00" * 32, S + "nks/direct.nks"], "not")
case("vs-nks-stdin-empty", "an empty NKS on standard input", VS + [NK, "-"], "standard input", stdin="")

# ---- lock import
case("import-foreign-child", "an AUM of another authority into a store", ["lock", "import", "--store", "{tmp}/store", F + "foreign-child.bin"], "store", setup="store")
case("import-foreign-genesis", "another authority's genesis into a store", ["lock", "import", "--store", "{tmp}/store", F + "foreign-genesis.bin"], "anchor", setup="store")
case("import-truncated", "half an AUM into a store", ["lock", "import", "--store", "{tmp}/store", F + "aum-truncated.bin"], "not a Tailnet Lock artifact", setup="store")
case("import-nks", "an NKS into a store", ["lock", "import", "--store", "{tmp}/store", F + "nks-as-aum.bin"], "expected AUMs", setup="store")
case("import-missing-store", "a store that does not exist", ["lock", "import", "--store", "{tmp}/nostore", S + "chain"], "nostore")
case("import-init-truncated", "--init from half an AUM makes no store", ["lock", "import", "--init", "--store", "{tmp}/newstore", F + "aum-truncated.bin"], "not a Tailnet Lock artifact")
case("import-init-foreign-child", "--init from a non-genesis AUM makes no store", ["lock", "import", "--init", "--store", "{tmp}/newstore", F + "foreign-child.bin"], "cannot start an authority")

# ---- lock disablement-kdf SECRET
case("kdf-not-hex", "a secret that is not hex", ["lock", "disablement-kdf", "zz"], "hex")
case("kdf-odd-hex", "an odd number of hex digits", ["lock", "disablement-kdf", "abc"], "hex")
case("kdf-stdin-nul", "a NUL inside the secret on standard input", ["lock", "disablement-kdf", "-"], "secret", stdin="ab" * 16 + "\u0000" + "ab" * 16 + "\n")
case("kdf-rtl", "an RTL override inside the secret", ["lock", "disablement-kdf", "disablement-secret:" + RLO + "AB" * 32], "secret")

# ---- signer specs (--signer)
TS = ["token", "show", "--signer"]
case("spec-empty", "an empty spec", TS + [""], "not understood")
case("spec-unknown-scheme", "an unknown scheme", TS + ["tpm:key=1"], "not understood")
case("spec-pkcs11-no-equals", "an attribute without '='", TS + ["pkcs11:token"], "has no '='")
case("spec-pkcs11-bad-percent", "a broken percent escape", TS + ["pkcs11:token=%zz"], "%")
case("spec-pkcs11-not-utf8", "a token label that is not UTF-8", TS + ["pkcs11:token=%ff%fe"], "not UTF-8")
case("spec-pkcs11-pin-value", "a PIN inside the URI", TS + ["pkcs11:token=a?pin-value=918273"], "pin-value", stderr_not="918273")
case("spec-pkcs11-slot-id", "a slot number", TS + ["pkcs11:slot-id=0"], "slot numbers are not stable")
case("spec-pkcs11-unknown-attr", "an unknown attribute", TS + ["pkcs11:colour=blue"], "not supported")
case("spec-pkcs11-rtl", "an RTL override in the token label", TS + ["pkcs11:token=" + RLO + "evil?module-path={tmp}/nomodule.so"], "nomodule.so")
case("spec-pkcs11-huge", "a 100 kB token label", TS + [{"repeat": "a", "times": 100000, "prefix": "pkcs11:token="}], "at most 32 bytes")
case("spec-yubikey-bad-slot", "slot 9z", TS + ["yubikey:slot=9z"], "slot")
case("spec-yubikey-bad-serial", "a serial that is not a number", TS + ["yubikey:serial=abc"], "serial")
case("spec-file-empty", "file: with no path", TS + ["file:"], "file")
case("spec-file-missing", "a key file that does not exist", TS + ["file:{tmp}/nothere.key"], "nothere.key")
case("spec-file-not-age", "a key file that is not age", TS + ["file:" + F + "png-not-age.png"], "not an age-encrypted")
case("spec-file-pin-in-source", "a PIN where its source goes", TS + ["file:" + F + "age-truncated.age?pin-source=918273"], "pin-source", stderr_not="918273")
case("spec-file-pin-env-missing", "generate with a pin-source variable that is not set makes no file", ["token", "generate", "--signer", "file:{tmp}/new.key?pin-source=env:LOCKSMITH_TEST_UNSET"], "LOCKSMITH_TEST_UNSET")
case("spec-file-pin-file-missing", "test with a pin-source file that does not exist", ["token", "test", "--signer", "file:" + F + "age-truncated.age?pin-source=file:{tmp}/nopin"], "pin-source=<redacted>", stderr_not="nopin")

case("sign-spec-pin-value", "lock sign with a PIN inside the URI", ["lock", "sign", "nodekey:" + "42" * 32, "--signer", "pkcs11:token=a?pin-value=918273", "--chain", S + "chain", "--unpinned", "-y"], "pin-value", stderr_not="918273")
case("sign-spec-pin-in-source", "lock sign with a PIN where its source goes", ["lock", "sign", "nodekey:" + "42" * 32, "--signer", "file:" + F + "age-truncated.age?pin-source=918273", "--chain", S + "chain", "--unpinned", "-y"], "pin-source", stderr_not="918273")
case("sign-spec-rtl", "lock sign with an RTL override in the spec", ["lock", "sign", "nodekey:" + "42" * 32, "--signer", "pkcs11:token=" + RLO + "x?module-path={tmp}/nomodule.so", "--chain", S + "chain", "--unpinned", "-y"], "nomodule.so")
case("sign-chain-without-store", "lock sign on a --chain with no store to pin it to and no --unpinned", ["lock", "sign", "nodekey:" + "42" * 32, "--signer", "file:{tmp}/none.key", "--chain", S + "chain", "-y"], "--unpinned")

# ---- secrets verify
case("verify-value-bad", "a --value that is not a value", ["secrets", "verify", "--value", "disablement:zz"], "is not a disablement value")
case("verify-value-rtl", "an RTL override in --value", ["secrets", "verify", "--value", "disablement:" + RLO + "ab" * 32], "is not a disablement value")
case("verify-values-garbage", "a values file with a bad line", ["secrets", "verify", "--values", F + "values-garbage.txt"], "values-garbage.txt")
case("verify-values-nul", "a values file with a NUL", ["secrets", "verify", "--values", F + "values-nul.txt"], "values-nul.txt")
case("verify-values-rtl", "a values file with an RTL override", ["secrets", "verify", "--values", F + "values-hostile-unicode.txt"], "values-hostile-unicode.txt")
case("verify-values-missing", "a values file that does not exist", ["secrets", "verify", "--values", "{tmp}/novalues.txt"], "novalues.txt")
case("verify-qr-not-image", "a text file as --qr-image", ["secrets", "verify", "--value", V, "--qr-image", F + "text-not-image.png"], "text-not-image.png")
case("verify-qr-truncated-png", "a PNG signature and nothing else", ["secrets", "verify", "--value", V, "--qr-image", F + "png-not-age.png"], "png-not-age.png")
case("verify-typed-garbage", "a typed secret that is not hex", ["secrets", "verify", "--value", V], "secret", stdin="hello world\n")
case("verify-typed-nul", "a typed secret with a NUL", ["secrets", "verify", "--value", V], "secret", stdin="disablement-secret:" + "AB" * 16 + "\u0000" + "AB" * 16 + "\n")
case("verify-record-rtl-custodian", "a bad secret with a record: no record written", ["secrets", "verify", "--value", V, "--custodian", "Mallory" + RLO, "--record", "{tmp}/record.json"], "secret", stdin="zz\n")

# ---- secrets decrypt
case("decrypt-not-age", "a PNG header as an age file", ["secrets", "decrypt", F + "png-not-age.png"], "png-not-age.png", stdin="pw\n")
case("decrypt-truncated", "an age header cut short", ["secrets", "decrypt", F + "age-truncated.age"], "age-truncated.age", stdin="pw\n")
case("decrypt-armor-garbage", "armor around garbage", ["secrets", "decrypt", F + "age-armor-garbage.age"], "age-armor-garbage.age", stdin="pw\n")
case("decrypt-identity-garbage", "an identity file that is not one", ["secrets", "decrypt", F + "age-truncated.age", "-i", F + "age-identity-garbage.txt"], "age-")
case("decrypt-missing", "a file that does not exist", ["secrets", "decrypt", "{tmp}/missing.age"], "missing.age", stdin="pw\n")
case("decrypt-oversized", "a file over the input limit", ["secrets", "decrypt", "{tmp}/big.age"], "big.age", make={"big.age": BIG}, stdin="pw\n")
case("decrypt-empty", "an empty file", ["secrets", "decrypt", F + "empty.bin"], "empty.bin", stdin="pw\n")

# ---- secrets generate (outside data: genesis hash, date, count)
G = "PTLKSENL2QXJ" + "A" * 40
case("generate-count-over", "33 secrets, one over the limit, writes nothing", ["secrets", "generate", "-n", "33", "--passphrase", "--out", "{tmp}/out", "--genesis", G], "33", stdin="pw\npw\n")
case("generate-genesis-bad", "a genesis hash that is not base32", ["secrets", "generate", "-n", "1", "--passphrase", "--out", "{tmp}/out", "--genesis", "not-a-hash" + RLO], "genesis", stdin="pw\npw\n")
case("generate-date-bad", "a creation date that is not a date", ["secrets", "generate", "-n", "1", "--passphrase", "--out", "{tmp}/out", "--genesis", G, "--created", "2026-13-45"], "2026-13-45", stdin="pw\npw\n")
case("generate-recipient-bad", "a recipient that is not one", ["secrets", "generate", "-n", "1", "--to", "age1notarecipient", "--out", "{tmp}/out", "--genesis", G], "age1notarecipient")

here = pathlib.Path(__file__).resolve().parent
(here / "cases.json").write_text(json.dumps(cases, indent=1, ensure_ascii=True) + "\n")
print(len(cases), "cases")
