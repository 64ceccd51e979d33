"""Reading, writing, checking and measuring datasets of published rows."""

from trajforge.dataset.layout import ConfigSource, LayoutError, config_name, discover
from trajforge.dataset.readers import Row, TableBatch, iter_rows, iter_tables
from trajforge.dataset.schema import SCHEMA, Problem, shape_problem
from trajforge.dataset.stats import ConfigStats, compute_stats
from trajforge.dataset.validate import RowChecker, Summary, validate
from trajforge.dataset.writers import write_rows

__all__ = [
    "SCHEMA",
    "ConfigSource",
    "ConfigStats",
    "LayoutError",
    "Problem",
    "Row",
    "RowChecker",
    "Summary",
    "TableBatch",
    "compute_stats",
    "config_name",
    "discover",
    "iter_rows",
    "iter_tables",
    "shape_problem",
    "validate",
    "write_rows",
]
