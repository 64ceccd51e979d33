"""A Hugging Face hub stand-in on 127.0.0.1: the calls `push` makes (create repo, card YAML check, preupload, commit).

Every file is answered "regular" upload mode, so commits carry file contents
inline (base64 NDJSON), which the server keeps in memory per repository.
"""

from __future__ import annotations

import base64
import gzip
import json
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from .local_server import LocalServer


@dataclass
class HubState:
    """What the fake hub received."""

    repos: dict[str, dict[str, Any]] = field(default_factory=dict)  # repo id -> {"private": bool}
    files: dict[str, dict[str, bytes]] = field(default_factory=dict)  # repo id -> path -> content
    commits: list[str] = field(default_factory=list)
    validated: list[str] = field(default_factory=list)  # dataset cards the hub's YAML check was asked about
    unknown: list[str] = field(default_factory=list)


class FakeHub(LocalServer):
    """Start with `with FakeHub() as hub:`; `hub.url` is the endpoint (HF_ENDPOINT)."""

    def __init__(self) -> None:
        self.state = HubState()
        self.url = ""
        state, hub = self.state, self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _body(self) -> bytes:
                data = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                return gzip.decompress(data) if self.headers.get("Content-Encoding") == "gzip" else data

            def _reply(self, status: int, payload: Any) -> None:
                body = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self) -> None:
                parts = self.path.split("?")[0].strip("/").split("/")
                body = self._body()
                if parts[:3] == ["api", "repos", "create"]:
                    request = json.loads(body)
                    repo = f"{request.get('organization') or 'me'}/{request['name']}"
                    private = request.get("private") is True or request.get("visibility") == "private"  # old, new API
                    state.repos[repo] = {"private": private, "type": request.get("type")}
                    self._reply(200, {"url": f"{hub.url}/datasets/{repo}", "name": repo})
                elif parts[:2] == ["api", "datasets"] and parts[4:5] == ["preupload"]:
                    files = json.loads(body)["files"]
                    self._reply(200, {"files": [{"path": f["path"], "uploadMode": "regular", "shouldIgnore": False}
                                                for f in files]})  # fmt: skip
                elif parts[:2] == ["api", "datasets"] and parts[4:5] == ["commit"]:
                    repo = f"{parts[2]}/{parts[3]}"
                    for line in body.decode().splitlines():
                        item = json.loads(line)
                        if item["key"] == "file":
                            value = item["value"]
                            state.files.setdefault(repo, {})[value["path"]] = base64.b64decode(value["content"])
                    state.commits.append(repo)
                    oid = "1" * 40
                    self._reply(200, {"commitUrl": f"{hub.url}/datasets/{repo}/commit/{oid}", "commitOid": oid,
                                      "pullRequestUrl": None})  # fmt: skip
                elif parts[:2] == ["api", "validate-yaml"]:
                    state.validated.append(json.loads(body).get("content", ""))
                    self._reply(200, {"errors": [], "warnings": []})
                else:
                    state.unknown.append(f"POST {self.path}")
                    self._reply(404, {"error": f"not served by the fake hub: {self.path}"})

            def do_GET(self) -> None:
                state.unknown.append(f"GET {self.path}")
                self._reply(404, {"error": f"not served by the fake hub: {self.path}"})

        super().__init__(Handler)
        self.url = self.base
