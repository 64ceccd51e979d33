"""The model client's own HTTP/1.1: bodies of every framing, keep-alive, proxies, broken servers (issue 10).

Each test serves raw bytes from an asyncio server on 127.0.0.1 in the client's own event loop.
"""

from __future__ import annotations

import asyncio
import gzip
import json
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from trajforge.policy import ModelConfig, ModelError, OpenAIPolicy, classify, describe
from trajforge.policy.base import Recovery
from trajforge.policy.http_client import HTTPClient, RequestTimeout, StatusError, TransportError
from trajforge.trace import Message

Answer = Callable[[bytes], bytes | None]
"""From the request's head and body, the raw bytes to answer (None: close without answering)."""

COMPLETION = json.dumps({"choices": [{"message": {"role": "assistant", "content": "Fine."}}]}).encode()


class RawServer:
    """Counts connections, keeps every request, answers each with `answer(request)`."""

    def __init__(self, answer: Answer, *, close_after: bool = False) -> None:
        self.answer = answer
        self.close_after = close_after
        self.connections = 0
        self.requests: list[bytes] = []
        self.port = 0
        self._server: asyncio.Server | None = None

    async def __aenter__(self) -> RawServer:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                               if line.lower().startswith(b"content-length:")), 0)  # fmt: skip
                request = head + await reader.readexactly(length)
                self.requests.append(request)
                reply = self.answer(request)
                if reply is None:
                    break
                writer.write(reply)
                await writer.drain()
                if self.close_after:
                    break
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            pass  # the client went away, or the test ended (a cancelled handler would be logged)
        writer.close()


def ok(body: bytes, *headers: str) -> bytes:
    extra = "".join(f"{h}\r\n" for h in headers)
    return f"HTTP/1.1 200 OK\r\nContent-Length: {len(body)}\r\n{extra}\r\n".encode() + body


def chunked(body: bytes) -> bytes:
    pieces = [body[i : i + 7] for i in range(0, len(body), 7)]
    framed = b"".join(b"%x;ext=1\r\n%s\r\n" % (len(p), p) for p in pieces)
    return b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + framed + b"0\r\nX-Trailer: 1\r\n\r\n"


def run(server: RawServer, go: Callable[[RawServer], Awaitable[Any]]) -> Any:
    """`go(server)` in a fresh event loop, with `server` listening."""

    async def main() -> Any:
        async with server:
            return await go(server)

    return asyncio.run(main())


async def post_twice(raw: RawServer) -> list[bytes]:
    client = HTTPClient(raw.url, "sk-test", timeout=5)
    try:
        return [await client.post("/chat/completions", {"n": 1}), await client.post("/chat/completions", {"n": 2})]
    finally:
        await client.close()


@pytest.mark.parametrize(
    "framing",
    [
        lambda body: ok(body),
        chunked,
        lambda body: ok(gzip.compress(body), "Content-Encoding: gzip"),
        lambda body: b"HTTP/1.1 100 Continue\r\n\r\n" + ok(body),
    ],
    ids=["content-length", "chunked", "gzip", "interim-100"],
)
def test_every_body_framing_is_read_and_the_connection_kept(framing: Callable[[bytes], bytes]) -> None:
    bodies = run(RawServer(lambda _: framing(COMPLETION)), _post_and_count)
    assert bodies == ([COMPLETION, COMPLETION], 1)  # both requests on one kept-alive connection


async def _post_and_count(raw: RawServer) -> tuple[list[bytes], int]:
    return await post_twice(raw), raw.connections


def test_a_body_that_ends_with_the_connection_is_read_and_a_new_one_opened() -> None:
    answer = lambda _: b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + COMPLETION  # noqa: E731
    assert run(RawServer(answer, close_after=True), _post_and_count) == ([COMPLETION, COMPLETION], 2)


def test_a_connection_the_server_closed_while_idle_is_not_reused() -> None:
    async def go(raw: RawServer) -> tuple[bytes, bytes, int]:
        client = HTTPClient(raw.url, timeout=5)
        first = await client.post("/chat/completions", {})
        await asyncio.sleep(0.1)  # the server's close reaches the idle connection
        second = await client.post("/chat/completions", {})
        await client.close()
        return first, second, raw.connections

    # Keep-alive announced, but the server closes after each reply (as uvicorn does after its keep-alive timeout).
    assert run(RawServer(lambda _: ok(COMPLETION), close_after=True), go) == (COMPLETION, COMPLETION, 2)


def test_the_request_carries_the_key_the_path_and_compact_json() -> None:
    server = RawServer(lambda _: ok(COMPLETION))
    run(server, _record)
    head, _, body = server.requests[0].partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    assert lines[0] == "POST /v1/chat/completions HTTP/1.1"
    assert "Authorization: Bearer sk-test" in lines and "Content-Type: application/json" in lines
    assert json.loads(body) == {"n": 1, "big": 2**70}  # beyond 64 bits, exact
    assert server.requests[1].startswith(b"GET /v1/models?api-version=2024-10-21 HTTP/1.1\r\n")


async def _record(raw: RawServer) -> None:
    client = HTTPClient(raw.url + "/", "sk-test", timeout=5)  # a trailing slash on the base URL is fine
    await client.post("/chat/completions", {"n": 1, "big": 2**70})
    await client.close()
    client = HTTPClient(raw.url + "?api-version=2024-10-21", timeout=5)  # a query goes after the path
    await client.get("/models")
    await client.close()


@pytest.mark.parametrize(
    ("reply", "words"),
    [
        (None, "connection closed without a reply"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{}", "connection closed before the reply ended"),
        (b"SSH-2.0-OpenSSH_9.6\r\n\r\n", "did not answer HTTP/1.1"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\nContent-Encoding: gzip\r\n\r\nnope", "gzip body is corrupt"),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "connection failed"),
    ],
)
def test_broken_answers_are_transport_errors_that_a_retry_may_fix(reply: bytes | None, words: str) -> None:
    async def go(raw: RawServer) -> TransportError:
        client = HTTPClient(raw.url, timeout=5)
        with pytest.raises(TransportError) as caught:
            await client.post("/chat/completions", {})
        await client.close()
        return caught.value

    error = run(RawServer(lambda _: reply, close_after=True), go)
    assert words in describe(error) and classify(error) is Recovery.RETRY


def test_status_errors_say_the_servers_message_in_one_line() -> None:
    bodies = {
        b'{"error": {"message": "Incorrect API key provided", "type": "invalid_request_error"}}': (
            401,
            "HTTP 401: Incorrect API key provided",
        ),
        b"<html>\n<h1>502 Bad Gateway</h1></html>": (502, "HTTP 502: <html>"),
        b"": (404, "HTTP 404: status 404"),
    }
    for body, (status, line) in bodies.items():
        error = StatusError(status, body)
        assert describe(error) == line
    assert classify(StatusError(502, b"")) is Recovery.RETRY and classify(StatusError(401, b"")) is Recovery.END_ERROR


def test_a_request_past_its_timeout_is_cancelled_and_its_connection_dropped() -> None:
    async def go(raw: RawServer) -> tuple[str, int]:
        client = HTTPClient(raw.url, timeout=0.2)
        with pytest.raises(RequestTimeout) as caught:
            await client.get("/models")
        await client.close()
        return describe(caught.value), len(client._idle)

    silent = RawServer(lambda _: b"")  # no bytes: the client keeps waiting for the status line
    assert run(silent, go) == ("timed out", 0)


def test_a_bad_base_url_fails_each_request_in_one_line() -> None:
    async def go() -> str:
        client = HTTPClient("http://127.0.0.1:notaport/v1", timeout=1)
        with pytest.raises(TransportError) as caught:
            await client.get("/models")
        return str(caught.value)

    assert asyncio.run(go()) == "connection failed: 'http://127.0.0.1:notaport/v1' has an invalid port"


def test_http_proxy_from_the_environment_forwards_and_no_proxy_bypasses(monkeypatch: pytest.MonkeyPatch) -> None:
    async def go(proxy: RawServer) -> tuple[bytes, bytes]:
        monkeypatch.setenv("HTTP_PROXY", f"http://user:pa%40ss@127.0.0.1:{proxy.port}")
        client = HTTPClient("http://models.example:8000/v1", "k", timeout=5)
        through = await client.post("/chat/completions", {})
        await client.close()
        async with RawServer(lambda _: ok(b'{"direct": true}')) as direct:
            monkeypatch.setenv("NO_PROXY", "example.org, 127.0.0.1")
            client = HTTPClient(direct.url, "k", timeout=5)
            bypassed = await client.get("/models")
            await client.close()
        return through, bypassed

    proxy = RawServer(lambda _: ok(COMPLETION))
    through, bypassed = run(proxy, go)
    assert through == COMPLETION and bypassed == b'{"direct": true}'
    head = proxy.requests[0].decode()
    assert head.startswith("POST http://models.example:8000/v1/chat/completions HTTP/1.1\r\n")
    assert "Proxy-Authorization: Basic dXNlcjpwYUBzcw==" in head and "Host: models.example:8000" in head


def test_https_goes_through_a_connect_tunnel_and_speaks_tls(monkeypatch: pytest.MonkeyPatch) -> None:
    """The tunnel opens and the client starts TLS in it; the 'server' behind it answers the hello with
    plain text, so the handshake fails in one line."""
    seen: list[bytes] = []

    async def tunnel(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        seen.append(await reader.readuntil(b"\r\n\r\n"))
        writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        seen.append(await reader.read(5))  # the start of the TLS client hello
        writer.write(b"HTTP/1.1 400 Bad Request\r\n\r\n")
        await writer.drain()
        writer.close()

    async def go() -> str:
        proxy = await asyncio.start_server(tunnel, "127.0.0.1", 0)
        monkeypatch.setenv("HTTPS_PROXY", f"127.0.0.1:{proxy.sockets[0].getsockname()[1]}")
        client = HTTPClient("https://api.example.com/v1", "k", timeout=5)
        with pytest.raises(TransportError) as caught:
            await client.get("/models")
        await client.close()
        proxy.close()
        return str(caught.value)

    line = asyncio.run(go())
    assert seen[0].startswith(b"CONNECT api.example.com:443 HTTP/1.1\r\nHost: api.example.com:443\r\n")
    assert seen[1][:1] == b"\x16"  # a TLS handshake record
    assert line.startswith("connection failed: TLS: ") and "\n" not in line, line


def test_a_proxy_that_is_not_http_is_refused_in_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALL_PROXY", "socks5://127.0.0.1:1080")

    async def go() -> ModelError:
        policy = OpenAIPolicy(ModelConfig("http://127.0.0.1:9/v1", "m", max_retries=0))
        with pytest.raises(ModelError) as caught:
            await policy.complete([Message(role="user", content="hi")], [])
        await policy.close()
        return caught.value

    error = asyncio.run(go())
    assert "proxy 'socks5://127.0.0.1:1080' is not an http:// proxy" in str(error) and error.transient


def test_many_requests_in_flight_share_the_client_and_idle_connections_are_reused() -> None:
    async def go(raw: RawServer) -> tuple[int, int]:
        client = HTTPClient(raw.url, timeout=5)
        for _ in range(3):
            bodies = await asyncio.gather(*(client.post("/chat/completions", {"i": i}) for i in range(8)))
            assert bodies == [COMPLETION] * 8
        await client.close()
        return len(raw.requests), raw.connections

    requests, connections = run(RawServer(lambda _: ok(COMPLETION)), go)
    assert requests == 24 and connections <= 8  # later rounds reuse the first round's connections


def test_the_client_is_never_the_openai_sdk() -> None:
    """A generate-sized import of the model client does not import the SDK or its HTTP stack."""
    import subprocess
    import sys

    code = (
        "import sys, trajforge.policy, trajforge.runner;"
        "print(sorted(m for m in ('openai', 'httpx', 'httpx2', 'httpcore', 'httpcore2') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
