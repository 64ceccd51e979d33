"""How a dataset card shows where its episodes came from, without the publishing machine's details.

Task sources are shown relative to the run folder (or by name), endpoints
without local hosts, ports or credentials, and the model and sampling
settings of a resumed run set by set.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from pathlib import PurePath
from urllib.parse import urlsplit

from trajforge.trace.turns import loads

_LOCAL_NAMES = ("localhost", "localhost.localdomain", "host.docker.internal")


def endpoint_shown(url: str) -> str:
    """`https://api.example.com/v1` as is (less port and credentials); a loopback, private or bare host: `local`."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
    except ValueError:
        return "an endpoint"
    if _local(host):
        return f"a local server ({parts.path or '/'})"
    return f"{parts.scheme}://{host}{parts.path}" if parts.scheme else host


def _local(host: str) -> bool:
    if not host or host in _LOCAL_NAMES or host.endswith((".local", ".internal", ".lan")) or "." not in host:
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_private or address.is_loopback or address.is_link_local or address.is_unspecified


def tasks_shown(tasks: list[object], out: str) -> list[str]:
    """Task sources: catalog names as they are, files and folders relative to the run folder `out`."""
    shown = []
    for task in tasks:
        text = str(task)
        path = PurePath(text)
        if len(path.parts) <= 1 and not path.suffix:
            shown.append(text)  # a catalog name (`builtin`, a category)
        elif out and path.is_absolute() == PurePath(out).is_absolute():
            shown.append(PurePath(os.path.relpath(text, out)).as_posix() + " (from the run folder)")
        else:
            shown.append(path.name)
    return shown


def setting_sets(sampling: Mapping[str, int]) -> list[tuple[str, int]]:
    """(model and sampling settings in words, episode count) per distinct set, most episodes first."""
    rows = []
    for key, count in sampling.items():
        try:
            data = loads(key)
        except ValueError:
            data = {}
        words = [f"model `{data.pop('model', '') or '-'}`"] + [f"{k} `{v}`" for k, v in sorted(data.items())]
        rows.append((", ".join(words), count))
    return sorted(rows, key=lambda row: (-row[1], row[0]))
