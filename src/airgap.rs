//! The air-gap guard: is any network interface other than loopback up?
//!
//! Reads Linux sysfs (`/sys/class/net/<name>/flags` and `operstate`); the
//! root is a parameter so tests can use a fake tree. An interface counts
//! as up when its `IFF_UP` flag is set and it is not a loopback device
//! (`IFF_LOOPBACK`), whatever its carrier state: a cable plugged in later
//! would connect it. Signing commands warn; ceremony plans stop.

use std::path::{Path, PathBuf};

/// `IFF_UP` from `<linux/if.h>`.
const IFF_UP: u32 = 0x1;
/// `IFF_LOOPBACK` from `<linux/if.h>`.
const IFF_LOOPBACK: u32 = 0x8;

/// The default sysfs root.
pub const SYSFS_NET: &str = "/sys/class/net";

/// A non-loopback interface that is administratively up.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct UpInterface {
    pub name: String,
    /// `operstate` as the kernel reports it (`up`, `down`, `unknown`, …).
    pub operstate: String,
}

/// Why the interfaces could not be listed.
#[derive(Debug, thiserror::Error)]
pub enum AirgapError {
    #[error("cannot list network interfaces in {path}: {reason}; check the air gap by hand, or pass --allow-network")]
    Unreadable { path: String, reason: String },
}

/// Parses a sysfs `flags` file (`0x1003`).
fn parse_flags(text: &str) -> Option<u32> {
    let t = text.trim();
    let hex = t.strip_prefix("0x").unwrap_or(t);
    u32::from_str_radix(hex, 16).ok()
}

/// The interfaces under `root` (a `/sys/class/net`-like directory) that are
/// up and not loopback, sorted by name. An interface whose flags cannot be
/// read counts as up: the guard fails closed.
pub fn interfaces_up(root: &Path) -> Result<Vec<UpInterface>, AirgapError> {
    let unreadable = |e: std::io::Error| AirgapError::Unreadable {
        path: root.display().to_string(),
        reason: e.to_string(),
    };
    let mut up = Vec::new();
    for entry in std::fs::read_dir(root).map_err(unreadable)? {
        let entry = entry.map_err(unreadable)?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let dir: PathBuf = entry.path();
        let flags = std::fs::read_to_string(dir.join("flags"))
            .ok()
            .and_then(|t| parse_flags(&t));
        let operstate = std::fs::read_to_string(dir.join("operstate"))
            .map(|s| s.trim().to_string())
            .unwrap_or_else(|_| "unreadable".into());
        let is_up = match flags {
            Some(f) => f & IFF_UP != 0 && f & IFF_LOOPBACK == 0,
            None => name != "lo",
        };
        if is_up {
            up.push(UpInterface { name, operstate });
        }
    }
    up.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(up)
}

/// One line naming the interfaces, for messages.
pub fn describe(up: &[UpInterface]) -> String {
    up.iter()
        .map(|i| format!("{} ({})", i.name, i.operstate))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The sysfs root to use: [`SYSFS_NET`]. Debug builds (what `cargo test`
/// runs) also read `LOCKSMITH_SYSFS_NET`, so the tests can fake an air gap
/// or a live interface; a release build has no such override, so nothing
/// in the environment can make a connected machine look air-gapped.
pub fn sysfs_root() -> PathBuf {
    #[cfg(debug_assertions)]
    if let Some(root) = std::env::var_os(SYSFS_OVERRIDE_ENV) {
        return PathBuf::from(root);
    }
    PathBuf::from(SYSFS_NET)
}

/// The test-only override of the sysfs root (debug builds only).
#[cfg(debug_assertions)]
pub const SYSFS_OVERRIDE_ENV: &str = "LOCKSMITH_SYSFS_NET";

/// What the air-gap check found: `None` when no interface other than
/// loopback is up, else a description of what is up (or why the check
/// could not be made).
pub fn problem() -> Option<String> {
    problem_in(&sysfs_root())
}

/// [`problem`] for the interfaces under `root`.
pub fn problem_in(root: &Path) -> Option<String> {
    match interfaces_up(root) {
        Ok(up) if up.is_empty() => None,
        Ok(up) => Some(format!("network interface(s) up: {}", describe(&up))),
        Err(e) => Some(e.to_string()),
    }
}

/// What the check looked at, for a report that says what it found:
/// `ROOT: lo (unknown), eth0 (down)` (every interface, up or not).
pub fn checked() -> String {
    checked_in(&sysfs_root())
}

/// [`checked`] for the interfaces under `root`.
pub fn checked_in(root: &Path) -> String {
    let mut seen: Vec<String> = match std::fs::read_dir(root) {
        Ok(entries) => entries
            .flatten()
            .map(|e| {
                let state = std::fs::read_to_string(e.path().join("operstate"))
                    .map(|s| s.trim().to_string())
                    .unwrap_or_else(|_| "unreadable".into());
                format!("{} ({state})", e.file_name().to_string_lossy())
            })
            .collect(),
        Err(e) => vec![format!("unreadable: {e}")],
    };
    seen.sort();
    format!("{}: {}", root.display(), seen.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn iface(root: &Path, name: &str, flags: &str, operstate: &str) {
        let d = root.join(name);
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join("flags"), format!("{flags}\n")).unwrap();
        std::fs::write(d.join("operstate"), format!("{operstate}\n")).unwrap();
    }

    #[test]
    fn loopback_and_down_interfaces_are_air_gapped() {
        let t = tempfile::tempdir().unwrap();
        iface(t.path(), "lo", "0x9", "unknown");
        iface(t.path(), "eth0", "0x1002", "down");
        assert_eq!(interfaces_up(t.path()).unwrap(), vec![]);
    }

    #[test]
    fn an_up_interface_is_reported_even_without_carrier() {
        let t = tempfile::tempdir().unwrap();
        iface(t.path(), "lo", "0x9", "unknown");
        iface(t.path(), "wlan0", "0x1003", "up");
        iface(t.path(), "eth1", "0x1003", "down");
        iface(t.path(), "tun0", "0x1091", "unknown");
        let up = interfaces_up(t.path()).unwrap();
        let names: Vec<&str> = up.iter().map(|i| i.name.as_str()).collect();
        assert_eq!(names, ["eth1", "tun0", "wlan0"]);
        assert_eq!(describe(&up[..1]), "eth1 (down)");
    }

    #[test]
    fn unreadable_flags_fail_closed_and_a_missing_root_is_an_error() {
        let t = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(t.path().join("eth9")).unwrap();
        assert_eq!(interfaces_up(t.path()).unwrap().len(), 1);
        let err = interfaces_up(&t.path().join("nope")).unwrap_err();
        assert!(err.to_string().contains("--allow-network"), "{err}");
    }
}
