//! Bulk `lock sign --credential` (`--count N`, `--auth-keys SOURCE`): the
//! arguments as the library's request (`crate::ceremony::sign_bulk`) and
//! what is printed: files and public keys, never a credential.

use super::{print_written, SignArgs};
use crate::ceremony::pipeline::Options;
use crate::ceremony::sign::AuthKeySource;
use crate::ceremony::sign_bulk::{BulkOutcome, BulkRequest, KeyListSource};
use crate::ceremony::terminal::Tty;
use crate::cli::secret_input::SecretSource;
use crate::cli::signing::print_json;
use crate::tka::keyforms::tlpub_text;
use anyhow::bail;
use serde_json::json;

pub use crate::ceremony::sign_bulk::MAX_BULK;

pub(super) fn run(args: SignArgs, options: &Options) -> anyhow::Result<()> {
    let done = crate::ceremony::sign_bulk::run(request(&args)?, &mut Tty::open(), options)?;
    print_bulk(&args, &done);
    Ok(())
}

/// The library's request for a bulk run.
fn request(args: &SignArgs) -> anyhow::Result<BulkRequest> {
    let auth_keys = args.auth_keys.as_ref().map(key_list).transpose()?;
    let auth_key = args.auth_key.clone().map(|source| {
        Box::new(move || super::super::prompted(source.read("pre-auth key"))) as AuthKeySource
    });
    Ok(BulkRequest {
        count: args.count,
        auth_key,
        auth_keys,
        qr: args.confirm.qr,
        setup: args.setup()?,
    })
}

/// `--auth-keys` names a list: a file or standard input.
fn key_list(source: &SecretSource) -> anyhow::Result<KeyListSource> {
    match source {
        SecretSource::File(path) => Ok(KeyListSource::File(path.clone())),
        SecretSource::Stdin => Ok(KeyListSource::Stdin),
        _ => bail!("--auth-keys reads a list: give file:PATH or - (standard input)"),
    }
}

/// Prints what was made: files and public keys, never a credential.
fn print_bulk(args: &SignArgs, done: &BulkOutcome) {
    print_written(&done.committed, &None, &done.record);
    let signer = tlpub_text(&done.signer);
    let made = &done.made;
    if args.confirm.json {
        print_json(&json!({
            "signer": signer,
            "credentials": made.iter().map(|m| json!({
                "written_to": m.file.display().to_string(),
                "wrapping_pubkey": tlpub_text(&m.wrapping_public),
                "credential_hex": crate::tka::hex::lower(&m.cred.serialize()),
            })).collect::<Vec<_>>(),
        }));
        return;
    }
    outln!("{} credentials signed by {signer}:", made.len());
    for m in made {
        outln!(
            "  {} (rotation key {})",
            m.file.display(),
            tlpub_text(&m.wrapping_public)
        );
    }
    outln!("Each file holds a private key and is not printed: carry each to one node only, then on that node");
    if done.wrapped {
        outln!("run `tailscale up --force-reauth --auth-key file:PATH` and delete the file (ceremony/runbook-retire-node-key.md).");
    } else {
        outln!("append it to a pre-auth key for `tailscale up --auth-key` (see ceremony/runbook-retire-node-key.md).");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auth_keys_names_a_file_or_standard_input_only() {
        assert_eq!(
            key_list(&"file:/k".parse().unwrap()).unwrap(),
            KeyListSource::File("/k".into())
        );
        assert_eq!(
            key_list(&"-".parse().unwrap()).unwrap(),
            KeyListSource::Stdin
        );
        let e = key_list(&SecretSource::Prompt).unwrap_err().to_string();
        assert!(e.contains("file:PATH or -"), "{e}");
    }
}
