from okai_insight.embeddings.quality import QualityResult, embedding_quality

__all__ = ["QualityResult", "embedding_quality"]
