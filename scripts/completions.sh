#!/usr/bin/env bash
# Regenerate the committed shell completions from the CLI definition.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --quiet
bin=target/debug/fincore
"$bin" completions bash > completions/fincore.bash
"$bin" completions zsh > completions/_fincore
"$bin" completions fish > completions/fincore.fish
"$bin" completions powershell > completions/_fincore.ps1
"$bin" completions elvish > completions/fincore.elv
