"""Conversion: exports to training formats and imports of foreign datasets into run folders."""
