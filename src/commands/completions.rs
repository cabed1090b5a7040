//! `fincore completions SHELL` (the generated files are committed in `completions/`).

use super::Output;
use crate::error::AppResult;
use clap_complete::Shell;

#[derive(Debug, clap::Args)]
pub(crate) struct CompletionsArgs {
    /// The shell to complete for
    shell: Shell,
}

impl CompletionsArgs {
    /// `command` is the whole command line's grammar, handed down by the dispatcher.
    pub(crate) fn run(self, mut command: clap::Command) -> AppResult<Output> {
        // `generate` panics when its writer fails (`| head -1` closes the pipe): render into
        // memory, and let the dispatcher write it like any other output.
        let mut script = Vec::new();
        clap_complete::generate(self.shell, &mut command, "fincore", &mut script);
        Ok(Output::raw(script))
    }
}
