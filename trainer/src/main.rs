fn main() -> std::process::ExitCode {
    // Only speed depends on these two; the reasons are in util/malloc.rs and util/threads.rs.
    let _ = bottleneck::util::malloc::keep_freed_memory();
    let _ = bottleneck::util::threads::join_rayon_pool();
    bottleneck::cli::main()
}
