"""Regenerate the committed Python for the gRPC contract, or check that it is current.

    python -m slm_mesh.tools.protos_gen          # rewrite protos/slm_mesh/v1/*_pb2*
    python -m slm_mesh.tools.protos_gen --check  # exit 1 if the committed files are stale

The generated files are committed so that services run without grpcio-tools; `--check`
(run by the test suite) keeps them honest. Output depends on the grpcio-tools version,
which is why the check names the files that differ rather than guessing at the cause.
"""

from __future__ import annotations

import argparse
import filecmp
import sys
import tempfile
from importlib import resources
from pathlib import Path

import slm_mesh.v1

GENERATED_PATTERNS = ("*_pb2.py", "*_pb2.pyi", "*_pb2_grpc.py")


def proto_root() -> Path:
    """The `-I` root: the folder holding `slm_mesh/v1/*.proto` (mapped to `slm_mesh.v1`)."""
    return Path(slm_mesh.v1.__file__).resolve().parents[2]


def proto_files(root: Path) -> list[Path]:
    return sorted((root / "slm_mesh" / "v1").glob("*.proto"))


def generate(*, root: Path, out: Path) -> None:
    """Run protoc (from grpcio-tools) over every contract file, writing under `out`."""
    from grpc_tools import protoc  # a test/dev dependency, imported only when generating

    well_known = resources.files("grpc_tools") / "_proto"
    files = [str(p.relative_to(root)) for p in proto_files(root)]
    if not files:
        raise FileNotFoundError(f"no .proto files under {root / 'slm_mesh' / 'v1'}")
    args = [
        "grpc_tools.protoc",
        f"-I{root}",
        f"-I{well_known}",
        f"--python_out={out}",
        f"--pyi_out={out}",
        f"--grpc_python_out={out}",
        *files,
    ]
    if protoc.main(args) != 0:
        raise RuntimeError(f"protoc failed on {', '.join(files)}")


def generated_files(folder: Path) -> set[str]:
    return {p.name for pattern in GENERATED_PATTERNS for p in folder.glob(pattern)}


def stale_files(*, root: Path) -> list[str]:
    """Names of generated files that are missing, extra or different from a fresh run."""
    committed = root / "slm_mesh" / "v1"
    with tempfile.TemporaryDirectory() as tmp:
        generate(root=root, out=Path(tmp))
        fresh = Path(tmp) / "slm_mesh" / "v1"
        expected, present = generated_files(fresh), generated_files(committed)
        differing = {
            name
            for name in expected & present
            if not filecmp.cmp(fresh / name, committed / name, shallow=False)
        }
    return sorted((expected ^ present) | differing)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m slm_mesh.tools.protos_gen")
    parser.add_argument(
        "--check", action="store_true", help="fail if the committed generated files are stale"
    )
    args = parser.parse_args(argv)
    root = proto_root()
    if args.check:
        stale = stale_files(root=root)
        if stale:
            print(
                f"generated protobuf code is stale: {', '.join(stale)}; "
                "run `python -m slm_mesh.tools.protos_gen` and commit the result",
                file=sys.stderr,
            )
            return 1
        print("generated protobuf code is current")
        return 0
    generate(root=root, out=root)
    print(f"regenerated {', '.join(sorted(generated_files(root / 'slm_mesh' / 'v1')))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
