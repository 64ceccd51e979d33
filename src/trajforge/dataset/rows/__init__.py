"""Rows on disk: the schema, reading and writing row files, dataset layouts and run folders.

The bottom of the dataset room: it imports nothing else of `trajforge.dataset`.
"""
