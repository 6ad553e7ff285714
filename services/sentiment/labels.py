"""The two labels the default head knows, as the training data names them."""

from __future__ import annotations

from typing import Literal

Label = Literal["positive", "negative"]
LABELS: tuple[Label, ...] = ("positive", "negative")
