"""Reading, writing, checking, curating, publishing and converting datasets of published rows.

Sub-packages by stage, imports pointing downward only:

- `rows`: schema, readers, writers, dataset layout, run folders, episode pieces (imports nothing above it);
- `stats`, `task_stats`, `validate`, `textscan`: checks and measures over rows;
- `curation`: the filter table, dedup, scrub, tokens and the parallel curate pipeline;
- `publishing` (publish, card, hub) and `conversion` (export, formats, import): the stages that write.

The names below are the public surface the CLI, the viewer and users import.
"""

from trajforge.dataset.conversion.export import export
from trajforge.dataset.conversion.formats import FORMATS, ExportOptions
from trajforge.dataset.conversion.import_run import import_to_run
from trajforge.dataset.conversion.importers import SOURCES, ImportSettings
from trajforge.dataset.curation.curate import REPORT, CurationResult, curate
from trajforge.dataset.curation.filters import FILTERS, CurationSettings
from trajforge.dataset.curation.tokens import TokenizerError
from trajforge.dataset.publishing.hub import PushError, push
from trajforge.dataset.publishing.publish import PublishError, publish
from trajforge.dataset.rows.layout import ConfigSource, LayoutError, config_name, discover
from trajforge.dataset.rows.readers import Row, TableBatch, iter_rows, iter_tables
from trajforge.dataset.rows.runfolder import row_sources
from trajforge.dataset.rows.schema import SCHEMA, Problem, shape_problem
from trajforge.dataset.rows.writers import write_rows
from trajforge.dataset.stats import ConfigStats, compute_stats
from trajforge.dataset.task_stats import ConfigTasks, task_stats
from trajforge.dataset.validate import RowChecker, Summary, validate

__all__ = [
    "FILTERS",
    "FORMATS",
    "REPORT",
    "SCHEMA",
    "SOURCES",
    "ConfigSource",
    "ConfigStats",
    "ConfigTasks",
    "CurationResult",
    "CurationSettings",
    "ExportOptions",
    "ImportSettings",
    "LayoutError",
    "Problem",
    "PublishError",
    "PushError",
    "Row",
    "RowChecker",
    "Summary",
    "TableBatch",
    "TokenizerError",
    "compute_stats",
    "config_name",
    "curate",
    "discover",
    "export",
    "import_to_run",
    "iter_rows",
    "iter_tables",
    "publish",
    "push",
    "row_sources",
    "shape_problem",
    "task_stats",
    "validate",
    "write_rows",
]
