"""Tasks: the taxonomy (and, later, task specs, the catalog and synthesis)."""

from trajforge.tasks.taxonomy import CATEGORIES, TAXONOMY, taxonomy_problem

__all__ = ["CATEGORIES", "TAXONOMY", "taxonomy_problem"]
