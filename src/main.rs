//! The `pforte` binary: wiring only.

fn main() -> std::process::ExitCode {
    pforte::cli::main()
}
