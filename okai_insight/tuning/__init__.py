"""Index tuning measured on the user's own data, built in a scratch server (never in the user's database)."""

from okai_insight.tuning.index import Candidate, TuneIndexResult, refusal, tune_index

__all__ = ["Candidate", "TuneIndexResult", "refusal", "tune_index"]
