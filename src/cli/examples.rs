//! The examples at the end of every command's `--help` (1 to 3 each, as
//! step and rage show them). Each line starting with `$ locksmith` is a
//! real command line: tests/help_examples.rs parses every one against the
//! clap definition, so a renamed or removed flag fails the tests.
//!
//! The keys, hashes and node keys are those of the vendored upstream sample
//! authority (tests/data/upstream/samples); YubiKey serial 12345678 and the
//! PKCS#11 token `ceremony-a` stand for the operator's own.

/// `locksmith`.
pub const LOCKSMITH: &str = "\
Examples:
  # Decode anything an online node printed (AUM, recovery blob, signature, JSON)
  $ locksmith inspect recovery.txt

  # Verify an online node's chain and show the trusted keys
  $ locksmith lock status --chain lock-log.json

  # Read an artifact from a photo of its QR code
  $ locksmith --qr-in inspect photo.jpg";

/// `locksmith inspect`.
pub const INSPECT: &str = "\
Examples:
  # Decode a recovery blob that `tailscale lock revoke-keys` printed
  $ locksmith inspect recovery.txt

  # A signing deeplink (as the admin console's QR code carries it), as JSON
  $ locksmith inspect --json deeplink.txt

  # From QR frames photographed off the online machine's screen
  $ locksmith --qr-in inspect frames/";

/// `locksmith lock`.
pub const LOCK: &str = "\
Examples:
  $ locksmith lock status --store ./store
  $ locksmith lock sign \\
      nodekey:6aa620e57d429fec2fd9a18bc4b692dca029568b77295d0c65ec5e59163b3028 \\
      --signer 'yubikey:serial=12345678;slot=9c' --store ./store";

/// `locksmith lock init`.
pub const LOCK_INIT: &str = "\
Examples:
  # Two YubiKeys sign the genesis; ten secrets age-encrypted to the custodians
  $ locksmith lock init --signer 'yubikey:serial=12345678;slot=9c' \\
      --signer 'yubikey:serial=23456789;slot=9c' --secrets-to-file custodians.txt \\
      --secrets-out secrets/ --store ./store

  # A PKCS#11 token chosen by label; the stock init line lists the online node's key
  $ locksmith lock init --pkcs11-token ceremony-a --key-label tailnet-lock \\
      --online-node-key tlpub:8b940c0677991c1cefde81297c0c8bc44d9a8aaa5aa6b41c0da35ab5e23db0b2 \\
      --secrets-sheet-dir /media/ramdisk/sheets --store ./store

  # Hold the authority back until every custodian has verified (then `lock release`)
  $ locksmith lock init --signer 'yubikey:serial=12345678;slot=9c' \\
      --secrets-to-file custodians.txt --secrets-out secrets/ \\
      --await-custodians --store ./store";

/// `locksmith lock release`.
pub const LOCK_RELEASE: &str = "\
Examples:
  # After every custodian ran `secrets verify --custodian NAME --record ./store/verifications.json`
  $ locksmith lock release --store ./store";

/// `locksmith lock sign`.
pub const LOCK_SIGN: &str = "\
Examples:
  # Sign a node key (as `tailscale lock status` on the node prints it)
  $ locksmith lock sign \\
      nodekey:6aa620e57d429fec2fd9a18bc4b692dca029568b77295d0c65ec5e59163b3028 \\
      --signer 'yubikey:serial=12345678;slot=9c' --store ./store

  # Sign every locked-out peer of a status export, one file each
  $ locksmith lock sign --from-status lock-status.json \\
      --signer 'yubikey:serial=12345678;slot=9c' --store ./store --out signatures/

  # Bulk credentials: one per node in one run (one PIN), one pre-auth key per line,
  # written to credentials/credential-NN.txt (0600), none printed
  $ locksmith lock sign --auth-keys file:authkeys.txt \\
      --signer 'yubikey:serial=12345678;slot=9c' --store ./store --out credentials/

One per node or one reusable: one credential per node (--auth-keys with one-off pre-auth keys, or \
--count N) means a leaked file compromises one join (its one-off pre-auth key) and each node's signature \
names its own wrapping key, so it can be traced; one reusable credential (--credential --auth-key with a \
reusable pre-auth key) is one secret that lets any number of nodes join until the token key is removed or \
revoked. No credential is bound to its pre-auth key: with another valid one it still signs node keys.

Credentials (--credential): upstream makes a separate lock key per credential; \
locksmith signs the credential with the token key itself, so a leaked credential made here can only be revoked \
by revoking or removing that token key. Use short-lived, single-use auth keys.

The pre-auth key to wrap is read with --auth-key from `-` (standard input), file:PATH or `prompt`. Unlike \
`tailscale lock sign tskey-auth-…`, a pre-auth key as an argument is refused: argv is visible to every process \
on the machine (ps, /proc/PID/cmdline) and lands in shell history, and nothing needs locksmith's command line to \
match upstream's (what the node receives is the same wrapped key).";

/// `locksmith lock add`.
pub const LOCK_ADD: &str = "\
Examples:
  # Trust a second key with 2 votes; the new AUM goes to aums/ for the online side
  $ locksmith lock add \\
      tlpub:a7aea7739ed39caa435f84da99f8c5e3d8f262c2105ed19ca06052fff262dfba=2 \\
      --signer 'yubikey:serial=12345678;slot=9c' --store ./store --out aums/";

/// `locksmith lock remove`.
pub const LOCK_REMOVE: &str = "\
Examples:
  # The lockout preview (from the imported status export) must show 0 nodes losing access
  $ locksmith lock remove \\
      tlpub:a7aea7739ed39caa435f84da99f8c5e3d8f262c2105ed19ca06052fff262dfba \\
      --signer 'yubikey:serial=12345678;slot=9c' --store ./store --out aums/

  # Or state the number it showed, to accept losing those nodes
  $ locksmith lock remove --accept-lockout 2 \\
      tlpub:a7aea7739ed39caa435f84da99f8c5e3d8f262c2105ed19ca06052fff262dfba \\
      --signer 'yubikey:serial=12345678;slot=9c' --store ./store --out aums/";

/// `locksmith lock update`.
pub const LOCK_UPDATE: &str = "\
Examples:
  $ locksmith lock update \\
      tlpub:a7aea7739ed39caa435f84da99f8c5e3d8f262c2105ed19ca06052fff262dfba \\
      --votes 2 --signer 'yubikey:serial=12345678;slot=9c' --store ./store \\
      --out aums/
  $ locksmith lock update \\
      tlpub:a7aea7739ed39caa435f84da99f8c5e3d8f262c2105ed19ca06052fff262dfba \\
      --meta owner=security-team --signer 'yubikey:serial=12345678;slot=9c' \\
      --store ./store";

/// `locksmith lock revoke-keys`.
pub const LOCK_REVOKE_KEYS: &str = "\
Examples:
  # Start a recovery that revokes a compromised key, signed by the first token
  $ locksmith lock revoke-keys \\
      tlpub:a7aea7739ed39caa435f84da99f8c5e3d8f262c2105ed19ca06052fff262dfba \\
      --signer 'yubikey:serial=12345678;slot=9c' --store ./store --out recovery.aum

  # A second key holder adds a signature to the blob
  $ locksmith lock revoke-keys --cosign recovery.aum \\
      --signer 'yubikey:serial=23456789;slot=9c' --store ./store --out recovery-2.aum

  # Check the tally and print the `tailscale lock revoke-keys` line to run online
  $ locksmith lock revoke-keys --finish recovery-2.aum --store ./store";

/// `locksmith lock log`.
pub const LOCK_LOG: &str = "\
Examples:
  $ locksmith lock log --chain lock-log.json
  $ locksmith lock log --store ./store --json";

/// `locksmith lock status`.
pub const LOCK_STATUS: &str = "\
Examples:
  # The chain as `tailscale lock log --json=1` printed it on an online node
  $ locksmith lock status --chain lock-log.json

  # A directory of AUM files, as JSON
  $ locksmith lock status --chain chain/ --json";

/// `locksmith lock verify-signature`.
pub const LOCK_VERIFY_SIGNATURE: &str = "\
Examples:
  $ locksmith lock verify-signature --chain lock-log.json \\
      nodekey:fe506cb512d9c69c2eab5dd6439d4fb74c6c3e097793cfee0a49c704e2a6e767 \\
      nks/direct.nks";

/// `locksmith lock disablement-kdf`.
pub const LOCK_DISABLEMENT_KDF: &str = "\
Examples:
  # Read the secret from standard input (arguments are visible to other processes)
  $ locksmith lock disablement-kdf - < secret.txt";

/// `locksmith lock verify-disablement`.
pub const LOCK_VERIFY_DISABLEMENT: &str = "\
Examples:
  # Type a custodian's secret at the prompt; it is checked, never printed
  $ locksmith lock verify-disablement --store ./store";

/// `locksmith lock import`.
pub const LOCK_IMPORT: &str = "\
Examples:
  # Create the store from an online node's log (compare the first AUM's hash with your record first)
  $ locksmith lock import --init --store ./store lock-log.json

  # Add the AUMs made since
  $ locksmith lock import --store ./store aums/

  # Keep the node's status for the lockout preview (with its log: an online export)
  $ locksmith lock import --store ./store export.lks";

/// `locksmith token`.
pub const TOKEN: &str = "\
Examples:
  $ locksmith token list
  $ locksmith token test --signer 'yubikey:serial=12345678;slot=9c'";

/// `locksmith token list`.
pub const TOKEN_LIST: &str = "\
Examples:
  $ locksmith token list
  $ locksmith token list --module /usr/lib/softhsm/libsofthsm2.so --json";

/// `locksmith token generate`.
pub const TOKEN_GENERATE: &str = "\
Examples:
  # On a YubiKey (firmware 5.7+), touch required, keeping the attestation
  $ locksmith token generate --signer 'yubikey:serial=12345678;slot=9c' \\
      --touch-policy always --attestation-out 9c-attestation.pem

  # On a PKCS#11 token
  $ locksmith token generate \\
      --signer 'pkcs11:token=ceremony-a?module-path=/usr/lib/softhsm/libsofthsm2.so' \\
      --label tailnet-lock";

/// `locksmith token show`.
pub const TOKEN_SHOW: &str = "\
Examples:
  $ locksmith token show --signer 'yubikey:serial=12345678;slot=9c'
  $ locksmith token show --signer 'pkcs11:token=ceremony-a;object=tailnet-lock' --json";

/// `locksmith token test`.
pub const TOKEN_TEST: &str = "\
Examples:
  $ locksmith token test \\
      --signer 'pkcs11:token=ceremony-a;object=tailnet-lock?pin-source=file:/run/ceremony/pin'";

/// `locksmith secrets`.
pub const SECRETS: &str = "\
Examples:
  $ locksmith secrets verify --store ./store";

/// `locksmith secrets generate`.
pub const SECRETS_GENERATE: &str = "\
Examples:
  # Ten secrets, one age file each, for the custodians' recipients
  $ locksmith secrets generate \\
      --genesis PJG322C5PKVOBXAYXCQF4YHXYST2JA37NFWPQSLRNSGPSVHPDS5Q \\
      --to-file custodians.txt --out secrets/

  # Printable sheets only (PLAINTEXT: write them to a RAM disk, print, destroy)
  $ locksmith secrets generate -n 3 \\
      --genesis PJG322C5PKVOBXAYXCQF4YHXYST2JA37NFWPQSLRNSGPSVHPDS5Q \\
      --sheet-dir /media/ramdisk/sheets --sheet-format pdf";

/// `locksmith secrets verify`.
pub const SECRETS_VERIFY: &str = "\
Examples:
  # Type the secret; it is checked against the store's disablement values
  $ locksmith secrets verify --store ./store

  # From a photo of the sheet's QR code, recording who verified
  $ locksmith secrets verify --store ./store --qr-image sheet.jpg \\
      --custodian alice --record ./store/verifications.json";

/// `locksmith secrets decrypt`.
pub const SECRETS_DECRYPT: &str = "\
Examples:
  # The yearly custody check: decrypt and compare, printing nothing secret
  $ locksmith secrets decrypt secrets/disablement-01.age -i alice-identity.txt \\
      --store ./store";

/// `locksmith exchange`.
pub const EXCHANGE: &str = "\
Examples:
  $ locksmith exchange encode recovery.aum --qr gif --out recovery.gif
  $ locksmith exchange decode --qr-in frames/ --out recovery.aum";

/// `locksmith exchange encode`.
pub const EXCHANGE_ENCODE: &str = "\
Examples:
  # An animated GIF to show on the offline machine's screen
  $ locksmith exchange encode recovery.aum --qr gif --out recovery.gif

  # A printable PDF, 6 pages in all: with S spare pages, ANY S lost pages are recoverable
  $ locksmith exchange encode lock-log.json --qr pdf --frames 6 --out lock-log.pdf";

/// `locksmith exchange decode`.
pub const EXCHANGE_DECODE: &str = "\
Examples:
  # Reassemble QR frames (any order) into the raw artifact
  $ locksmith exchange decode --qr-in frames/ --out recovery.aum

  # Show what an envelope holds
  $ locksmith exchange decode response.locksmith --json";

/// `locksmith ceremony`.
pub const CEREMONY: &str = "\
Examples:
  $ locksmith ceremony verify ./store/transcript.jsonl --store ./store";

/// `locksmith ceremony verify`.
pub const CEREMONY_VERIFY: &str = "\
Examples:
  $ locksmith ceremony verify ./store/transcript.jsonl
  $ locksmith ceremony verify ./store/transcript.jsonl --store ./store --json";

/// `locksmith ceremony print`.
pub const CEREMONY_PRINT: &str = "\
Examples:
  # transcript.html and transcript.pdf, with signature lines for the witnesses
  $ locksmith ceremony print ./store/transcript.jsonl --out printout/";

/// `locksmith ceremony run`.
pub const CEREMONY_RUN: &str = "\
Examples:
  # Walk the plan; run it again to resume where it stopped
  $ locksmith ceremony run ceremony/init-yubikey.toml --state ceremony-state.json";

/// `locksmith online`.
pub const ONLINE: &str = "\
Examples:
  $ locksmith online export --out request.locksmith
  $ locksmith online submit response.locksmith";

/// `locksmith online export`.
pub const ONLINE_EXPORT: &str = "\
Examples:
  # Run `tailscale lock status/log` and write a request valid for 2 hours
  $ locksmith online export --expires 2h --out request.locksmith

  # As an animated GIF for the offline machine's camera
  $ locksmith online export --qr gif --out request.gif";

/// `locksmith online submit`.
pub const ONLINE_SUBMIT: &str = "\
Examples:
  # Check the response and print the stock tailscale commands
  $ locksmith online submit response.locksmith

  # From QR frames, and run the commands
  $ locksmith online submit --qr-in frames/ --run";

/// `locksmith online requests`.
pub const ONLINE_REQUESTS: &str = "\
Examples:
  $ locksmith online requests --json";

/// `locksmith completions`.
pub const COMPLETIONS: &str = "\
Examples:
  $ locksmith completions bash > ~/.local/share/bash-completion/completions/locksmith
  $ locksmith completions zsh > ~/.zfunc/_locksmith
  $ locksmith completions fish > ~/.config/fish/completions/locksmith.fish";

/// `locksmith man`.
pub const MAN: &str = "\
Examples:
  # Then `man locksmith-lock-init`; add ~/.local/share/man to MANPATH if needed
  $ locksmith man ~/.local/share/man/man1";
