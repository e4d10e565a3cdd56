#![forbid(unsafe_code)]

fn main() -> std::process::ExitCode {
    locksmith::cli::main()
}
