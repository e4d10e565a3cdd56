//! `locksmith token …`: list tokens and keys, generate a key on a token,
//! show one key, and test that a key signs.

use crate::ceremony::terminal::Tty;
use crate::signers::{self, GenerateOptions, KeyInfo, OpenOptions, PinPolicyArg, TouchPolicyArg};
use crate::tka::signer::sign_verified;
use anyhow::Context as _;
use clap::Subcommand;
use std::path::PathBuf;
use std::process::ExitCode;

/// Token and key management.
#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// List PKCS#11 tokens and YubiKeys with their Ed25519 keys (tlpub).
    #[command(after_help = super::examples::TOKEN_LIST)]
    List {
        /// PKCS#11 module to list (default: $LOCKSMITH_PKCS11_MODULE, the
        /// defaults file, else p11-kit's proxy: every module registered with
        /// p11-kit, e.g. SoftHSM2 and OpenSC).
        #[arg(long)]
        module: Option<PathBuf>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Generate an Ed25519 key on a token (never leaves it) and print its tlpub.
    #[command(after_help = super::examples::TOKEN_GENERATE)]
    Generate {
        /// The signer spec: pkcs11:…, yubikey:serial=…;slot=…, or file:PATH.
        #[arg(long)]
        signer: String,
        /// Label for the new key.
        #[arg(long)]
        label: Option<String>,
        /// PIN policy (YubiKey).
        #[arg(long, value_enum, default_value_t = PinPolicyArg::Default)]
        pin_policy: PinPolicyArg,
        /// Touch policy (YubiKey).
        #[arg(long, value_enum, default_value_t = TouchPolicyArg::Default)]
        touch_policy: TouchPolicyArg,
        /// Make the private key extractable (PKCS#11; for tests only, never for real keys).
        #[arg(long)]
        allow_extractable: bool,
        /// Replace a key already in the slot, or reuse a label / file name.
        #[arg(long)]
        force: bool,
        /// Write the attestation certificate (PEM) here (YubiKey).
        #[arg(long)]
        attestation_out: Option<PathBuf>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        attestation: super::attestation::AttestationArgs,
        #[command(flatten)]
        record: super::record::RecordArgs,
    },
    /// Show a key: tlpub, custody, attributes or policies, attestation verdict.
    #[command(after_help = super::examples::TOKEN_SHOW)]
    Show {
        /// The signer spec: pkcs11:…, yubikey:serial=…;slot=…, or file:PATH (a software key, dev/test only).
        #[arg(long)]
        signer: String,
        /// Show extractable PKCS#11 keys without refusing.
        #[arg(long)]
        allow_extractable: bool,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Sign a throwaway digest with the key and verify the signature.
    #[command(after_help = super::examples::TOKEN_TEST)]
    Test {
        /// The signer spec.
        #[arg(long)]
        signer: String,
        /// Accept an extractable PKCS#11 key.
        #[arg(long)]
        allow_extractable: bool,
        /// Accept a key imported onto the token (labelled IMPORTED, never hardware-backed).
        #[arg(long = "allow-imported-key")]
        allow_imported: bool,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

fn print_key(k: &KeyInfo) {
    outln!("{}", k.tlpub);
    eoutln!("  {}", k.description);
    eoutln!("  custody: {}", k.custody);
    eoutln!("  spec:    {}", k.spec);
    for (name, value) in &k.details {
        eoutln!("  {name}: {value}");
    }
}

/// Runs a `token` subcommand.
pub fn run(cmd: TokenCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        TokenCommand::List { module, json } => {
            let inv = signers::inventory(module.as_deref());
            if json {
                println!("{}", serde_json::to_string_pretty(&inv)?);
            } else {
                if inv.tokens.is_empty() {
                    outln!("no tokens found");
                }
                for t in &inv.tokens {
                    outln!("{} [{}]", t.description, t.kind);
                    outln!("  spec: {}", t.spec);
                    if t.keys.is_empty() {
                        outln!("  (no Ed25519 keys)");
                    }
                    for k in &t.keys {
                        outln!("  {}  {}", k.tlpub, k.description);
                        outln!("      spec: {}", k.spec);
                    }
                }
                for p in &inv.problems {
                    eoutln!("note: {p}");
                }
            }
            if inv.named_module_failed {
                eoutln!(
                    "error: the PKCS#11 module given with --module could not be used (see above)"
                );
                return Ok(ExitCode::FAILURE);
            }
            Ok(ExitCode::SUCCESS)
        }
        TokenCommand::Generate {
            signer,
            label,
            pin_policy,
            touch_policy,
            allow_extractable,
            force,
            attestation_out,
            json,
            attestation,
            record,
        } => {
            use crate::ceremony::generate::{self, AfterGeneration, GenerateRequest};
            use crate::ceremony::pipeline::{Hooks, Options, FAIL_AFTER_VAR};
            let request = GenerateRequest {
                signer,
                options: GenerateOptions {
                    label,
                    pin_policy,
                    touch_policy,
                    allow_extractable,
                    force,
                    attestation_trust: attestation.trust()?,
                },
                attestation_out: attestation_out.clone(),
                allow_unverified_attestation: attestation.allow_unverified_attestation,
                record: record.options(),
                after_generation: std::env::var(FAIL_AFTER_VAR)
                    .ok()
                    .and_then(|v| AfterGeneration::parse(&v)),
            };
            let options = Options {
                yes: false,
                hooks: Hooks::from_env(),
            };
            let done = generate::run(request, &mut Tty::open(), &options)?;
            let g = &done.generated;
            for note in &g.notes {
                eoutln!("{note}");
            }
            if g.resumed {
                eoutln!("continued with the key the interrupted attempt had generated");
            }
            if g.tested {
                eoutln!(
                    "test signature: the key signed a random digest and the signature verifies"
                );
            }
            if let (Some(path), Some(_)) = (&attestation_out, &g.key.attestation_pem) {
                eoutln!("attestation certificate written to {}", path.display());
            }
            if done.record.is_some() {
                super::record::report(&done.record);
            }
            if json {
                println!("{}", serde_json::to_string_pretty(&g.key)?);
            } else {
                print_key(&g.key);
            }
            Ok(ExitCode::SUCCESS)
        }
        TokenCommand::Show {
            signer,
            allow_extractable,
            json,
        } => {
            let key = signers::show_key(
                &signer,
                &OpenOptions {
                    allow_extractable,
                    ..Default::default()
                },
            )
            .with_context(|| format!("reading --signer {}", signers::spec::shown(&signer)))?;
            if json {
                println!("{}", serde_json::to_string_pretty(&key)?);
            } else {
                print_key(&key);
                if let Some(pem) = &key.attestation_pem {
                    eoutln!("{pem}");
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        TokenCommand::Test {
            signer,
            allow_extractable,
            allow_imported,
            json,
        } => {
            let options = OpenOptions {
                allow_extractable,
                allow_imported,
            };
            let mut s = signers::open_signer(&signer, &options)
                .with_context(|| format!("opening --signer {}", signers::spec::shown(&signer)))?;
            let mut digest = [0u8; 32];
            rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut digest);
            let sig = sign_verified(s.as_mut(), &digest)
                .with_context(|| format!("test signature with {}", s.describe()))?;
            let public = s.public_key();
            if json {
                outln!(
                    "{}",
                    serde_json::json!({
                        "ok": true,
                        "tlpub": signers::tlpub(&public),
                        "custody": s.custody().label(),
                        "description": s.describe(),
                        "digest": crate::tka::hex::lower(&digest),
                        "signature": crate::tka::hex::lower(&sig),
                    })
                );
            } else {
                outln!(
                    "ok: {} signed a test digest and the signature verifies",
                    s.describe()
                );
                outln!("{}", signers::tlpub(&public));
                outln!("custody: {}", s.custody().label());
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
