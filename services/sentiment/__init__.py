"""The sentiment service's core: what people say to and about their home, scored positive or
negative with calibrated probabilities, on the shared sentence encoder plus a small head.

The core is pure: `SentimentClassifier.classify` takes a batch of texts and returns one
`SentimentResult` per text. Training (`training`) and scoring (`evaluate`) run as modules.
"""

from slm_mesh.services.contracts.sentiment import SentimentResult
from slm_mesh.services.sentiment.classifier import Embed, SentimentClassifier
from slm_mesh.services.sentiment.head import SentimentHead, default_head_path
from slm_mesh.services.sentiment.labels import LABELS, Label

__all__ = [
    "LABELS",
    "Embed",
    "Label",
    "SentimentClassifier",
    "SentimentHead",
    "SentimentResult",
    "default_head_path",
]
