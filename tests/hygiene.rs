//! `locksmith::hygiene::harden_process` in a child process (it changes the
//! process it runs in, so it must not run inside the shared test process):
//! the test binary re-runs itself with one test selected and an
//! environment variable that tells that test it is the child.

use std::process::Command;

const CHILD_VAR: &str = "LOCKSMITH_HYGIENE_CHILD";

/// The line of `/proc/self/limits` for `name`, split into fields.
fn limits_line(name: &str) -> Vec<String> {
    let limits = std::fs::read_to_string("/proc/self/limits").unwrap();
    let line = limits
        .lines()
        .find(|l| l.starts_with(name))
        .unwrap_or_else(|| panic!("no {name:?} in /proc/self/limits:\n{limits}"));
    line[name.len()..]
        .split_whitespace()
        .map(str::to_string)
        .collect()
}

#[test]
fn harden_process_in_child() {
    if std::env::var_os(CHILD_VAR).is_some() {
        child();
        return;
    }
    let exe = std::env::current_exe().unwrap();
    let out = Command::new(exe)
        .args([
            "--exact",
            "harden_process_in_child",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_VAR, "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "child failed:\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
    // The child really ran the checks (not a filtered-out empty run).
    assert!(stdout.contains("CHILD CHECKS PASSED"), "stdout:\n{stdout}");
    // This process is untouched: only the child was hardened.
    assert_eq!(
        rustix::process::dumpable_behavior().unwrap(),
        rustix::process::DumpableBehavior::Dumpable
    );
}

fn child() {
    let report = locksmith::hygiene::harden_process();
    println!("report: {report:?}");
    assert!(report.core_limit_zero.is_done(), "{report:?}");
    assert!(report.not_dumpable.is_done(), "{report:?}");

    // RLIMIT_CORE, as the kernel shows it: soft and hard limits are 0.
    let core = limits_line("Max core file size");
    assert_eq!(&core[..2], ["0", "0"], "Max core file size: {core:?}");
    // ... and as a child process inherits it.
    let ulimit = Command::new("sh")
        .args(["-c", "ulimit -c; ulimit -Hc"])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&ulimit.stdout), "0\n0\n");
    // The hard limit is 0 too, so it cannot be raised again.
    let raise = rustix::process::setrlimit(
        rustix::process::Resource::Core,
        rustix::process::Rlimit {
            current: Some(1 << 20),
            maximum: Some(1 << 20),
        },
    );
    // root (CAP_SYS_RESOURCE) may raise it; anyone else may not.
    if !rustix::process::geteuid().is_root() {
        assert!(raise.is_err(), "an unprivileged process raised RLIMIT_CORE");
    }

    assert_eq!(
        rustix::process::dumpable_behavior().unwrap(),
        rustix::process::DumpableBehavior::NotDumpable
    );

    // Memory locking: as root it must take effect and show in VmLck once
    // pages are touched; otherwise it is skipped with the reason.
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    if rustix::process::geteuid().is_root() {
        assert!(report.memory_locked.is_done(), "{report:?}");
        let touched = std::hint::black_box(vec![1u8; 4 << 20]);
        let status = std::fs::read_to_string("/proc/self/status").unwrap();
        let vmlck_kb: u64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmLck:"))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no VmLck in /proc/self/status:\n{status}"));
        assert!(vmlck_kb >= 4096, "VmLck {vmlck_kb} kB after touching 4 MiB");
        drop(touched);
    } else {
        println!("not root: memory locking {}", report.memory_locked);
        assert!(status.contains("VmLck"));
    }
    println!("CHILD CHECKS PASSED");
}
