"""The factory's errors: bad training input and a missing extra end a run with a message
that says what to do, and exit code 2."""

from __future__ import annotations

from slm_mesh.services.errors import EXIT_BAD_INPUT, SlmMeshError

EXTRA_INSTALL = "pip install 'slm-mesh[factory]'"


class FactoryError(SlmMeshError):
    """A recipe cannot run on what it was given: a training file, a model folder, labels."""

    code = "misconfigured"
    exit_code = EXIT_BAD_INPUT


class MissingFactoryExtra(FactoryError):
    """PyTorch, transformers or another training library is not installed."""
