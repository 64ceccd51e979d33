"""A scripted OpenAI-compatible server: a real HTTP server on 127.0.0.1 speaking vLLM's JSON.

Each POST to /v1/chat/completions takes the next reply of the script (or asks a
function for one). Replies are plain dicts:
    {"message": {...}}               an assistant message (content, reasoning, tool_calls)
    {"status": 500}                  an HTTP error with a vLLM-shaped body
    {"hang": 5.0}                    wait that long before answering 500 (a client timeout)
    {"context_length": True}         vLLM's 400 for a prompt beyond the context window
    {"raw": "<html>..."}             a 200 with this text as the body (Content-Type from "content_type", else text/html)
    {"body": {...}}                  a 200 with this JSON as the body, as is (not wrapped in a chat completion)
    {"drop": True}                   close the connection without answering (a reset mid-request)

GET /v1/models lists `models` (vLLM's shape, with `max_model_len`). With `api_key`
set, a request without `Authorization: Bearer <api_key>` gets vLLM's 401.
"""

from __future__ import annotations

import json
import socket
import threading
import time
import uuid
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from typing import Any

from .local_server import LocalServer

Reply = dict[str, Any]


def call(name: str, arguments: dict[str, Any] | str | None = None, call_id: str | None = None) -> dict[str, Any]:
    """A tool call as vLLM returns it (`arguments` a JSON string, or a raw string as given)."""
    raw = arguments if isinstance(arguments, str) else json.dumps(arguments or {})
    return {"id": call_id or f"chatcmpl-tool-{uuid.uuid4().hex[:16]}", "type": "function",
            "function": {"name": name, "arguments": raw}}  # fmt: skip


def reply(
    content: str | None = None,
    reasoning: str | None = None,
    calls: list[dict[str, Any]] | None = None,
    reasoning_field: str = "reasoning",
) -> Reply:
    """An assistant message reply; reasoning goes in `reasoning_field` (or inline, with "inline")."""
    message: dict[str, Any] = {"role": "assistant", "content": content, "tool_calls": calls or []}
    if reasoning is not None and reasoning_field == "inline":
        message["content"] = f"<think>\n{reasoning}\n</think>\n\n{content or ''}"
    elif reasoning is not None:
        message[reasoning_field] = reasoning
    return {"message": message}


class ScriptedServer(LocalServer):
    """Start with `with ScriptedServer(script) as server:`; `server.url` is the base URL."""

    def __init__(
        self,
        script: list[Reply] | Callable[[dict[str, Any]], Reply],
        latency: float = 0.0,
        *,
        models: list[dict[str, Any]] | None = None,
        api_key: str | None = None,
    ) -> None:
        self._script = script if callable(script) else list(script)
        self._latency = latency
        self.models = [{"id": "scripted", "max_model_len": 4096}] if models is None else models
        self._api_key = api_key
        self._lock = threading.Lock()
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        super().__init__(self._handler())

    @property
    def url(self) -> str:
        """The OpenAI base URL (…/v1)."""
        return f"{self.base}/v1"

    def _next(self, body: dict[str, Any]) -> Reply:
        with self._lock:
            self.requests.append(body)
            if callable(self._script):
                return self._script(body)
            if not self._script:
                return {"status": 500, "error": "the script has no more replies"}
            return self._script.pop(0)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body go in two writes: no 40 ms delayed-ACK stalls

            def log_message(self, *args: object) -> None:  # keep test output quiet
                pass

            def do_GET(self) -> None:
                if not self._authorized():
                    return
                if self.path.rstrip("/") != "/v1/models":
                    return self._send(404, {"object": "error", "message": "Not Found", "type": "NotFoundError"})
                data = [{"object": "model", "owned_by": "vllm", "root": m["id"], **m} for m in server.models]
                self._send(200, {"object": "list", "data": data})

            def _authorized(self) -> bool:
                if server._api_key is None or self.headers.get("Authorization") == f"Bearer {server._api_key}":
                    return True
                self._send(401, {"error": "Unauthorized"})
                return False

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
                server.headers.append({k.lower(): v for k, v in self.headers.items()})
                if not self._authorized():
                    return
                item = server._next(body)
                if server._latency:
                    time.sleep(server._latency)
                if "hang" in item:
                    time.sleep(item["hang"])
                    return self._send(500, {"object": "error", "message": "hung", "type": "InternalServerError"})
                if item.get("context_length"):
                    return self._send(400, {
                        "object": "error", "type": "BadRequestError", "param": None, "code": 400,
                        "message": "This model's maximum context length is 4096 tokens. However, you requested "
                        "5000 tokens (4000 in the messages, 1000 in the completion).",
                    })  # fmt: skip
                if "status" in item:
                    message = item.get("error", "scripted failure")
                    return self._send(item["status"], {"object": "error", "message": message, "type": "Error"})
                if item.get("drop"):
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return None
                if "raw" in item:
                    return self._send(200, item["raw"].encode(), item.get("content_type", "text/html"))
                self._send(200, item["body"] if "body" in item else _completion(body, item))

            def _send(self, status: int, payload: Any, content_type: str = "application/json") -> None:
                data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return Handler


def _completion(request: dict[str, Any], item: Reply) -> dict[str, Any]:
    message = item["message"]
    prompt_tokens = sum(len(str(m.get("content") or "")) for m in request.get("messages", [])) // 4
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": request.get("model", "scripted"),
        "choices": [
            {
                "index": 0,
                "message": message,
                "logprobs": None,
                "finish_reason": "tool_calls" if message.get("tool_calls") else "stop",
                "stop_reason": None,
            }
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": 7,
            "total_tokens": prompt_tokens + 7,
        },
        "prompt_logprobs": None,
    }


def looping_script(turns: int, command: str = "true") -> Callable[[dict[str, Any]], Reply]:
    """A responder for episodes of `turns` assistant turns: a terminal call each, then an answer."""

    def respond(request: dict[str, Any]) -> Reply:
        done = sum(1 for m in request.get("messages", []) if m.get("role") == "assistant")
        if done + 1 >= turns:
            return reply(content="All done.", reasoning="Every step ran.")
        return reply(reasoning=f"Step {done + 1}.", calls=[call("terminal", {"command": command})])

    return respond


def main() -> None:
    """Serve a looping script until stdin closes: `python -m tests.scripted_server TURNS [LATENCY]`."""
    import sys

    turns = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    latency = float(sys.argv[2]) if len(sys.argv) > 2 else 0.0
    with ScriptedServer(looping_script(turns), latency=latency) as server:
        print(server.url, flush=True)
        sys.stdin.read()


if __name__ == "__main__":
    main()
