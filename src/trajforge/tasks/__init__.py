"""Tasks: the taxonomy, task specs and their loader, and the built-in catalog."""

from trajforge.tasks.loader import CATALOG_DIR, LoadedTask, TaskLoad, load_tasks, spec_files
from trajforge.tasks.spec import (
    Fixtures,
    GitCommit,
    GitFixture,
    Mutation,
    Oracle,
    OracleCall,
    OracleStep,
    SdistFixture,
    SiteFixture,
    Solution,
    TaskLimits,
    TaskSpec,
)
from trajforge.tasks.taxonomy import (
    CATEGORIES,
    TAXONOMY,
    UnknownCategory,
    nearest_category,
    resolve_category,
    taxonomy_problem,
)

__all__ = [
    "CATALOG_DIR",
    "CATEGORIES",
    "TAXONOMY",
    "Fixtures",
    "GitCommit",
    "GitFixture",
    "LoadedTask",
    "Mutation",
    "Oracle",
    "OracleCall",
    "OracleStep",
    "SdistFixture",
    "SiteFixture",
    "Solution",
    "TaskLimits",
    "TaskLoad",
    "TaskSpec",
    "UnknownCategory",
    "load_tasks",
    "nearest_category",
    "resolve_category",
    "spec_files",
    "taxonomy_problem",
]
