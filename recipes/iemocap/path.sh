# Sourced by run.sh: the toolkit's virtual environment first on PATH, unbuffered Python logs.
toolkit_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
if [ -x "$toolkit_root/.venv/bin/toolkit" ]; then
    export PATH="$toolkit_root/.venv/bin:$PATH"
fi
export PYTHONUNBUFFERED=1
if ! command -v toolkit >/dev/null; then
    echo "path.sh: the 'toolkit' command is not on PATH; run 'make venv' in $toolkit_root first" >&2
    exit 1
fi
