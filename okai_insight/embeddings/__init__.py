from okai_insight.embeddings._fetch import Filters
from okai_insight.embeddings._results import EmbeddingResult
from okai_insight.embeddings.conventions import CONVENTIONS, convert_threshold, from_cosine, scores, to_cosine
from okai_insight.embeddings.explorer import DriftResult, Projection, drift, explore, neighbours
from okai_insight.embeddings.quality import QualityResult, embedding_quality
from okai_insight.embeddings.recall import RecallResult, tune_recall
from okai_insight.embeddings.threshold import ThresholdResult, best_f1, tune_threshold

__all__ = [
    "CONVENTIONS",
    "DriftResult",
    "EmbeddingResult",
    "Filters",
    "Projection",
    "QualityResult",
    "RecallResult",
    "ThresholdResult",
    "best_f1",
    "convert_threshold",
    "drift",
    "embedding_quality",
    "explore",
    "from_cosine",
    "neighbours",
    "scores",
    "to_cosine",
    "tune_recall",
    "tune_threshold",
]
