//! `fincore completions SHELL` (the generated files are committed in `completions/`).

use super::Output;
use crate::cli::Cli;
use crate::error::AppResult;
use clap::CommandFactory;
use clap_complete::Shell;

#[derive(Debug, clap::Args)]
pub struct CompletionsArgs {
    shell: Shell,
}

impl CompletionsArgs {
    pub fn run(self) -> AppResult<Output> {
        // `generate` panics when its writer fails (`| head -1` closes the pipe): render into
        // memory, and let the dispatcher write it like any other output.
        let mut script = Vec::new();
        clap_complete::generate(self.shell, &mut Cli::command(), "fincore", &mut script);
        Ok(Output::raw(script))
    }
}
