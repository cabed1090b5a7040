#!/usr/bin/env bash
# Regenerate the committed shell completions (completions/) and man pages (man/) from the
# CLI definition. `cargo test --test cli docs_are_current` fails when either is stale.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --quiet
bin=target/debug/fincore
"$bin" completions bash > completions/fincore.bash
"$bin" completions zsh > completions/_fincore
"$bin" completions fish > completions/fincore.fish
"$bin" completions powershell > completions/_fincore.ps1
"$bin" completions elvish > completions/fincore.elv
rm -rf man
"$bin" --quiet man --dir man > /dev/null
