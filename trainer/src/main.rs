fn main() -> std::process::ExitCode {
    // Only speed depends on it; the reason is in util/malloc.rs.
    let _ = bottleneck::util::malloc::keep_freed_memory();
    bottleneck::cli::main()
}
