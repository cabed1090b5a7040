//! `fincore man [--dir DIR]`: the man pages (clap_mangen), committed in `man/` like the
//! completions in `completions/` (`scripts/regenerate-docs.sh` writes both).

use super::Output;
use crate::error::{AppError, AppResult};
use crate::output::{Section, View};
use std::path::{Path, PathBuf};

#[derive(Debug, clap::Args)]
pub(crate) struct ManArgs {
    /// Write fincore.1 and one page per command (fincore-transfer-list.1, …) into this folder
    /// (created); without it, print fincore.1 on stdout
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,
}

impl ManArgs {
    /// `command` is the documented grammar (`help::documented`), handed down by the dispatcher.
    pub(crate) fn run(self, command: clap::Command) -> AppResult<Output> {
        let mut command = command.disable_help_subcommand(true);
        command.build();
        let Some(dir) = self.dir else {
            return Ok(Output::raw(page(&command)?));
        };
        std::fs::create_dir_all(&dir).map_err(|error| write_error(&dir, error))?;
        let mut written = Section::new(&["file"]);
        let mut files = Vec::new();
        write_pages(&command, &dir, &mut files)?;
        for file in &files {
            written.push(vec![file.display().to_string()]);
        }
        let json = serde_json::json!({ "files": files.iter().map(|f| f.display().to_string()).collect::<Vec<_>>() });
        Ok(Output::view(View::new(json, vec![written])))
    }
}

/// One command's page, dated by nothing (a page that changes with the day would always be stale).
fn page(command: &clap::Command) -> AppResult<Vec<u8>> {
    let mut bytes = Vec::new();
    clap_mangen::Man::new(command.clone())
        .manual("fincore manual")
        .render(&mut bytes)
        .map_err(|error| AppError::storage(format!("cannot render the man page: {error}")))?;
    Ok(bytes)
}

fn write_pages(command: &clap::Command, dir: &Path, files: &mut Vec<PathBuf>) -> AppResult<()> {
    let man = clap_mangen::Man::new(command.clone());
    let file = dir.join(man.get_filename());
    std::fs::write(&file, page(command)?).map_err(|error| write_error(&file, error))?;
    files.push(file);
    for subcommand in command.get_subcommands().filter(|sub| !sub.is_hide_set()) {
        write_pages(subcommand, dir, files)?;
    }
    Ok(())
}

fn write_error(path: &Path, error: std::io::Error) -> AppError {
    AppError::invalid_input(format!("--dir {}: {error}", path.display()))
}
