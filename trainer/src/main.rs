fn main() -> std::process::ExitCode {
    bottleneck::cli::main()
}
