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
        clap_complete::generate(
            self.shell,
            &mut Cli::command(),
            "fincore",
            &mut std::io::stdout(),
        );
        Ok(Output {
            view: None,
            exit_code: 0,
        })
    }
}
