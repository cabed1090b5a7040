use std::process::ExitCode;

fn main() -> ExitCode {
    ExitCode::from(fincore::app::main_exit_code())
}
