"""The committed generated protobuf code matches the .proto files."""

from __future__ import annotations

import subprocess
import sys


def test_generated_protobuf_code_is_current() -> None:
    check = subprocess.run(
        [sys.executable, "-m", "slm_mesh.tools.protos_gen", "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert check.returncode == 0, check.stderr


def test_generated_modules_import_with_the_installed_runtimes() -> None:
    from slm_mesh.v1 import intent_pb2, intent_pb2_grpc, service_info_pb2

    assert intent_pb2.DESCRIPTOR.package == "slm_mesh.v1"
    assert intent_pb2_grpc.IntentStub is not None
    assert service_info_pb2.ServiceInfo().models == []
