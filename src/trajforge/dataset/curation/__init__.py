"""Curation: the filter table, deduplication, secret scrubbing, token counts and the parallel pipeline.

Imports `trajforge.dataset.rows` and the checks beside it (`validate`), never publishing or conversion.
"""
