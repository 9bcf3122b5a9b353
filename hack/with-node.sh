#!/usr/bin/env bash
# Runs a command with Node.js 24 first on PATH (installed into .tools/ by hack/node.sh when needed)
# and the project's node_modules/.bin after it.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PATH="$("$root/hack/node.sh"):$root/node_modules/.bin:$PATH"
export PATH
exec "$@"
