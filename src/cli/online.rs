//! `locksmith online`: the helper for the connected machine. It runs only
//! the stock `tailscale` CLI and never needs a tailnet lock key.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{bail, Context};
use clap::{Args, Subcommand};
use serde_json::json;

use super::exchange::{write_qr, QrArgs};
use crate::exchange::unix_now;
use crate::online::{build_export, plan_submission, ExportSource, RequestStore, Tailscale};
use crate::output::write_atomic;

#[derive(Debug, Subcommand)]
pub enum OnlineCommand {
    /// Export this node's lock status and log for the offline machine (a
    /// request: its answer is accepted by `online submit` until it expires).
    #[command(after_help = super::examples::ONLINE_EXPORT)]
    Export(ExportArgs),
    /// Check a response from the offline machine and print (or, with
    /// --run, run) the stock tailscale commands that apply it.
    #[command(after_help = super::examples::ONLINE_SUBMIT)]
    Submit(SubmitArgs),
    /// List the outstanding requests.
    #[command(after_help = super::examples::ONLINE_REQUESTS)]
    Requests(RequestsArgs),
}

#[derive(Debug, Args)]
pub struct CommonArgs {
    /// Where outstanding requests are recorded (default: the user data
    /// directory, e.g. ~/.local/share/locksmith/online).
    #[arg(long, env = "LOCKSMITH_ONLINE_STATE")]
    pub state: Option<PathBuf>,
    /// The tailscale CLI to run.
    #[arg(long, default_value = "tailscale")]
    pub tailscale: PathBuf,
    /// Print results as JSON.
    #[arg(long)]
    pub json: bool,
}

impl CommonArgs {
    fn store(&self) -> RequestStore {
        RequestStore::new(self.state.clone().unwrap_or_else(RequestStore::default_dir))
    }
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Read `tailscale lock status --json=1` output from FILE instead of running it.
    #[arg(long, requires = "log")]
    pub status: Option<PathBuf>,
    /// Read `tailscale lock log --json=1` output from FILE instead of running it.
    #[arg(long, requires = "status")]
    pub log: Option<PathBuf>,
    /// Passed to `tailscale lock log --limit` (upstream's default is 50).
    #[arg(long)]
    pub log_limit: Option<u32>,
    /// How long the offline machine's answer is accepted: 90s, 30m, 24h, 7d.
    #[arg(long, default_value = "24h", value_parser = parse_duration)]
    pub expires: Duration,
    /// A label carried in the export.
    #[arg(long)]
    pub label: Option<String>,
    /// Write the export envelope here (with --qr: the QR output path).
    #[arg(long, short)]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub qr: QrArgs,
    /// Replace an existing output.
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    pub common: CommonArgs,
}

#[derive(Debug, Args)]
pub struct SubmitArgs {
    /// The response: a path, `-` for stdin, inline, or QR images with --qr-in.
    #[arg(required = true)]
    pub response: Vec<String>,
    /// The response is QR images (files or a directory of frames).
    #[arg(long)]
    pub qr_in: bool,
    /// Run the commands (otherwise they are only printed).
    #[arg(long)]
    pub run: bool,
    /// For a wrapped auth key: `tailscale up --force-reauth`, so that a node
    /// already logged in re-authenticates and signs a new node key with the
    /// credential (ceremony/runbook-retire-node-key.md). It may drop the
    /// connection (cmd/tailscale/cli/up.go): not over a session through it.
    #[arg(long)]
    pub force_reauth: bool,
    #[command(flatten)]
    pub common: CommonArgs,
}

#[derive(Debug, Args)]
pub struct RequestsArgs {
    #[command(flatten)]
    pub common: CommonArgs,
}

/// Parses 90s, 30m, 24h, 7d (a bare number is seconds).
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    let (num, unit) = t.split_at(t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len()));
    let n: u64 = num
        .parse()
        .map_err(|_| format!("{text:?} is not a duration like 90s, 30m, 24h or 7d"))?;
    let secs = match unit {
        "" | "s" => n,
        "m" => n.saturating_mul(60),
        "h" => n.saturating_mul(3600),
        "d" => n.saturating_mul(86400),
        _ => return Err(format!("{text:?}: unknown unit {unit:?}; use s, m, h or d")),
    };
    if secs == 0 {
        return Err("a request must stay valid for more than 0 seconds".into());
    }
    Ok(Duration::from_secs(secs))
}

pub fn run(cmd: OnlineCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        OnlineCommand::Export(args) => export(args),
        OnlineCommand::Submit(args) => submit(args),
        OnlineCommand::Requests(args) => requests(args),
    }
}

fn export(args: ExportArgs) -> anyhow::Result<ExitCode> {
    let source = match (&args.status, &args.log) {
        (Some(status), Some(log)) => ExportSource::Files {
            status: status.clone(),
            log: log.clone(),
        },
        _ => ExportSource::Cli {
            tailscale: Tailscale::new(&args.common.tailscale),
            log_limit: args.log_limit,
        },
    };
    if args.qr.qr.is_none() && args.out.is_none() {
        bail!("say where the export goes: --out FILE, or --qr terminal|png|... (with --out for files)");
    }
    let env = build_export(&source, args.expires, args.label.as_deref())
        .context("collecting the node's lock status and log")?;
    let Some(info) = env.request else {
        bail!("internal error: the export is not a request")
    };
    // Write first, record after: a failed write leaves no dangling request.
    let written = match args.qr.qr {
        Some(format) => write_qr(&env, format, &args.qr, args.out.as_deref(), args.force)?,
        None => {
            let path = args.out.clone().unwrap_or_default();
            let bytes = env.to_bytes();
            write_atomic(&path, &bytes, args.force)?;
            json!({"path": path.display().to_string(), "bytes": bytes.len()})
        }
    };
    let store = args.common.store();
    store
        .record(
            &info,
            env.kind,
            env.label
                .as_ref()
                .map(crate::shown::Untrusted::raw_for_json),
        )
        .context("recording the request")?;
    if args.common.json {
        outln!(
            "{}",
            serde_json::to_string_pretty(&json!({
                "request": info.nonce.to_hex(),
                "created": info.created,
                "expires": info.expires,
                "state": store.dir().display().to_string(),
                "written": written,
            }))?
        );
    } else {
        eoutln!(
            "export written; request {} expires in {} s (state: {})",
            info.nonce,
            info.expires.saturating_sub(info.created),
            store.dir().display()
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn submit(args: SubmitArgs) -> anyhow::Result<ExitCode> {
    let art = crate::input::Input::read_all(&args.response, args.qr_in)?.artifact()?;
    let input = args.response.join(" ");
    let store = args.common.store();
    let mut sub = plan_submission(&art, &input, &store, unix_now())?;
    if args.force_reauth {
        let mut applied = false;
        for c in sub
            .commands
            .iter_mut()
            .filter(|c| c.args.first().is_some_and(|a| a == "up"))
        {
            c.args.insert(1, "--force-reauth".into());
            applied = true;
        }
        if !applied {
            anyhow::bail!(
                "--force-reauth applies to a wrapped auth key response (`tailscale up`); this response is {}",
                sub.kind.name()
            );
        }
    }
    let lines: Vec<String> = sub.commands.iter().map(|c| c.display()).collect();
    // Secret files (an auth key for `tailscale up --auth-key=file:`) are
    // written only with --run, just before their command, and removed after.
    if args.common.json {
        outln!(
            "{}",
            serde_json::to_string_pretty(&json!({
                "request": sub.nonce.to_hex(),
                "kind": sub.kind.name(),
                "commands": lines,
                "run": args.run,
            }))?
        );
    } else {
        for l in &lines {
            outln!("{l}");
        }
    }
    if !args.run {
        if !args.common.json {
            eoutln!("(not run: pass --run to execute these commands; the request stays outstanding until then)");
            if sub.commands.iter().any(|c| c.secret_file.is_some()) {
                eoutln!("(the auth key file is not written: --run writes it just before `tailscale up` reads it and removes it after; nothing secret was written to disk)");
            }
        }
        return Ok(ExitCode::SUCCESS);
    }
    let tailscale = Tailscale::new(&args.common.tailscale);
    for c in &sub.commands {
        c.run_with_secret(|args| tailscale.run(args))?;
    }
    store.complete(&sub.nonce)?;
    if !args.common.json {
        eoutln!("applied; request {} is complete", sub.nonce);
    }
    Ok(ExitCode::SUCCESS)
}

fn requests(args: RequestsArgs) -> anyhow::Result<ExitCode> {
    let store = args.common.store();
    let list = store.list()?;
    let now = unix_now();
    if args.common.json {
        println!("{}", serde_json::to_string_pretty(&list)?);
    } else if list.is_empty() {
        outln!("no outstanding requests in {}", store.dir().display());
    } else {
        for r in list {
            let state = if now >= r.expires {
                "expired".to_string()
            } else {
                format!("expires in {} s", r.expires - now)
            };
            outln!(
                "{} {} {} {}",
                r.nonce,
                r.kind,
                state,
                crate::shown::escape(&r.label.unwrap_or_default())
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
