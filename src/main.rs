#![forbid(unsafe_code)]

use std::process::ExitCode;

/// mimalloc: bulk reads, imports and rescoring allocate and free millions of small strings
/// and rows across threads, where glibc's allocator spends a third of the time.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    ExitCode::from(fincore::app::main_exit_code())
}
