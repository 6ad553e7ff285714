"""The mesh's own key: service instances sign their status and their answers with it, so
a client on the broker cannot pass itself off as a service.

Any client that may publish on a broker without ACLs could announce
`slm-mesh/status/summarize/evil-1 {"state": "online"}` and answer the requests it reads;
the router would relay its text as the SLM's. Now a status or an answer counts only when
it carries an HMAC-SHA256 made with this key. The key is 32 random bytes in a file only
its owner may read (`<cache dir>/mesh.key`, made on first use), so every process on one
machine shares it; replicas on other machines need a copy (`SLM_MESH_MESH_KEY_FILE`).

The signature is appended as the JSON object's last member, over the exact bytes before
it and a context (a status's topic, an answer's correlation data), so a signed answer
cannot be replayed as the answer to another request:

    {"state": "online", ..., "signature": "<64 hex digits>"}
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
from pathlib import Path

from slm_mesh.services.errors import SlmMeshError

KEY_BYTES = 32
_SIGNED = re.compile(rb',"signature":"(?P<mac>[0-9a-f]{64})"\}\s*$')


class MeshKeyError(SlmMeshError):
    """The key file cannot be read or made; the message says which file and why."""

    code = "misconfigured"


class MeshKey:
    def __init__(self, secret: bytes) -> None:
        if len(secret) < 16:
            raise ValueError("a mesh key needs at least 16 bytes")
        self._secret = secret

    def __repr__(self) -> str:
        return "MeshKey(***)"

    @classmethod
    def from_text(cls, text: str) -> MeshKey:
        """From hex, as the key file and `SLM_MESH_MESH_KEY` hold it."""
        try:
            return cls(bytes.fromhex(text.strip()))
        except ValueError:
            raise MeshKeyError("a mesh key is at least 32 hex digits") from None

    @classmethod
    def load_or_create(cls, path: Path) -> MeshKey:
        """The key in `path`, made there (0600) if the file does not exist yet."""
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            try:
                descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:  # another process of the mesh made it first
                pass
            else:
                with os.fdopen(descriptor, "w") as key_file:
                    key_file.write(secrets.token_hex(KEY_BYTES) + "\n")
        try:
            return cls.from_text(path.read_text(encoding="ascii"))
        except (OSError, UnicodeDecodeError) as err:
            raise MeshKeyError(f"cannot read the mesh key {path}: {err}") from None
        except MeshKeyError as err:
            raise MeshKeyError(f"{path}: {err}") from None

    def _mac(self, data: bytes, context: bytes) -> str:
        message = len(context).to_bytes(4, "big") + context + data
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()

    def seal(self, data: str, *, context: bytes) -> str:
        """A JSON object's text with its signature as the last member."""
        if not data.endswith("}") or data.replace(" ", "") == "{}":
            raise ValueError("only a JSON object with members can be sealed")
        mac = self._mac(data.encode("utf-8"), context)
        return f'{data[:-1]},"signature":"{mac}"}}'

    def verify(self, payload: bytes, *, context: bytes) -> bool:
        """Whether `payload` was sealed with this key for this context."""
        found = _SIGNED.search(payload)
        if found is None:
            return False
        original = payload[: found.start()] + b"}"
        return hmac.compare_digest(found["mac"].decode(), self._mac(original, context))
