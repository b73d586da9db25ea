//! The `pforte` binary: wiring only.

/// mimalloc instead of glibc's malloc: a request allocates and frees many small objects on
/// whichever runtime thread serves it, and glibc's arenas made that about a sixth of the CPU of
/// an introspection (lock contention included) and kept freed argon2 working memory for good
/// (docs/performance.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    pforte::cli::main()
}
