"""A fixture folder served as it is (the task's `folder` site)."""

from __future__ import annotations

from pathlib import Path

from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles

from trajforge.tasks.sites.base import Site


class StaticSite(Site):
    """The files of `folder`; `/` and folders serve their index.html."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        super().__init__()

    def routes(self) -> list[BaseRoute]:
        """One mount of the folder."""
        return [Mount("/", app=StaticFiles(directory=self.folder, html=True))]
