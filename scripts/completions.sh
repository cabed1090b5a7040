#!/usr/bin/env bash
# Kept for old instructions: the completions and the man pages are regenerated together.
exec "$(dirname "$0")/regenerate-docs.sh"
