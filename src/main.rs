#![forbid(unsafe_code)]

fn main() -> std::process::ExitCode {
    // First, before any secret exists: no core dumps, not dumpable, memory
    // locked where the OS allows.
    let _hardening = locksmith::hygiene::harden_process();
    locksmith::cli::main()
}
