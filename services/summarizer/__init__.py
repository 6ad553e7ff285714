"""The summarizer's pure core: extractive summaries with source offsets, and event digests."""

from slm_mesh.services.summarizer.digest import Digest, DigestSentence, digest
from slm_mesh.services.summarizer.errors import EventError
from slm_mesh.services.summarizer.extractive import Embed, ExtractiveSummarizer
from slm_mesh.services.summarizer.rouge import RougeScore, rouge_n
from slm_mesh.services.summarizer.sentences import Span, split_sentences
from slm_mesh.services.summarizer.summary import Summary, SummarySentence

__all__ = [
    "Digest",
    "DigestSentence",
    "Embed",
    "EventError",
    "ExtractiveSummarizer",
    "RougeScore",
    "Span",
    "Summary",
    "SummarySentence",
    "digest",
    "rouge_n",
    "split_sentences",
]
