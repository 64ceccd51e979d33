"""Fitting traces to a training budget: `trajforge compress` (middle turns replaced by a summary)."""

from trajforge.dataset.compression.pipeline import CompressReport, CompressSettings, Summarizer, compress
from trajforge.dataset.compression.row import RowOutcome, compress_episode

__all__ = ["CompressReport", "CompressSettings", "RowOutcome", "Summarizer", "compress", "compress_episode"]
