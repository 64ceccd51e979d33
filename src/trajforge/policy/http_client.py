"""A small HTTP/1.1 client for model endpoints: asyncio streams, keep-alive connections, JSON bodies (issue 10).

The openai SDK and its httpx stack cost about 1.5 ms of CPU per request and half
a second of imports per run; a model turn needs one POST of JSON and its reply.
This client sends exactly that: one connection per request in flight, idle ones
kept for the next request, Content-Length, chunked and read-to-close bodies,
gzip/deflate answers, https through the `ssl` module, one deadline per request.

Proxies: HTTP_PROXY / HTTPS_PROXY / ALL_PROXY and NO_PROXY are honoured as httpx
does (a plain forward for http://, a CONNECT tunnel for https://); a proxy URL
that is not http:// is refused in one line.
"""

from __future__ import annotations

import asyncio
import base64
import os
import socket
import ssl
import zlib
from collections import deque
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

from trajforge import __version__
from trajforge.trace.turns import json_bytes, loads

_HEAD_LIMIT = 1 << 20
"""Bytes a status line and headers may take (a larger head is not an HTTP server we can talk to)."""
_MAX_IDLE = 256
"""Idle connections kept per client (more requests in flight than this open fresh ones)."""


class HTTPFailure(Exception):
    """A request that did not bring back a 2xx reply; the message is one line."""


class StatusError(HTTPFailure):
    """The server answered with a status outside 2xx."""

    def __init__(self, status: int, body: bytes) -> None:
        self.status = status
        self.body = body
        self.message = _error_message(body) or f"status {status}"
        super().__init__(f"HTTP {status}: {self.message}")


class TransportError(HTTPFailure):
    """No usable answer: the connection was refused, reset or closed, or the reply was not HTTP."""


class RequestTimeout(TransportError):
    """The request took longer than the client's timeout."""

    def __init__(self) -> None:
        super().__init__("timed out")


@dataclass(frozen=True)
class Origin:
    """Where a base URL points: scheme, host, port, the path every request starts with, the Host header, and a
    query every request carries (`?api-version=...` on some hosted APIs)."""

    scheme: str
    host: str
    port: int
    prefix: str
    authority: str
    query: str = ""

    @classmethod
    def parse(cls, url: str) -> Origin:
        """The origin of `url`; raises TransportError when it is not an http(s) URL with a host."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise TransportError(f"connection failed: {url!r} is not an http(s) URL")
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError:
            raise TransportError(f"connection failed: {url!r} has an invalid port") from None
        host = parts.hostname
        authority = f"[{host}]" if ":" in host else host
        default = (parts.scheme, port) in (("http", 80), ("https", 443))
        authority = authority if default else f"{authority}:{port}"
        query = f"?{parts.query}" if parts.query else ""
        return cls(parts.scheme, host, port, parts.path.rstrip("/"), authority, query)


@dataclass
class _Connection:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter

    def usable(self) -> bool:
        """Whether an idle connection can take another request (the server has not closed it meanwhile)."""
        return not (self.reader.at_eof() or self.writer.is_closing())

    def close(self) -> None:
        self.writer.close()


@dataclass
class _Head:
    status: int
    version: str
    headers: dict[str, str]


class HTTPClient:
    """Requests to one base URL (e.g. http://localhost:8000/v1), the API key sent as a bearer token.

    Safe to share between the tasks of one event loop: each request takes its own
    connection (an idle one when there is one) and gives it back when the reply has
    been read whole.
    """

    def __init__(self, base_url: str, api_key: str = "", timeout: float = 600.0) -> None:
        self.base_url = base_url
        self.timeout = timeout
        self._idle: deque[_Connection] = deque()
        self._closed = False
        self._ssl: ssl.SSLContext | None = None
        try:  # a bad URL or proxy fails each request in one line (the preflight says it first)
            self.origin = Origin.parse(base_url)
            self._proxy, self._problem = _proxy_for(self.origin)
        except TransportError as exc:
            self.origin, self._proxy, self._problem = Origin("http", "", 0, "", ""), None, str(exc)
        headers = (
            f"Host: {self.origin.authority}\r\nAuthorization: Bearer {api_key or 'EMPTY'}\r\n"
            f"Accept: application/json\r\nAccept-Encoding: gzip, deflate\r\nUser-Agent: trajforge/{__version__}\r\n"
        )
        self._target = self.origin.prefix  # what each request's path follows
        if self._proxy is not None and self.origin.scheme == "http":  # a forward proxy takes the whole URL
            self._target = f"http://{self.origin.authority}{self._target}"
            if self._proxy.auth:
                headers += f"Proxy-Authorization: Basic {self._proxy.auth}\r\n"
        self._headers = headers.encode("latin-1", "replace")

    async def post(self, path: str, body: Any) -> bytes:
        """POST `body` as JSON to base URL + `path`; the 2xx reply's body, else StatusError or TransportError."""
        return await self.request("POST", path, json_bytes(body))

    async def get(self, path: str) -> bytes:
        """GET base URL + `path`; the 2xx reply's body, else StatusError or TransportError."""
        return await self.request("GET", path, None)

    async def request(self, method: str, path: str, body: bytes | None) -> bytes:
        """One request within the client's timeout; raises StatusError, TransportError or RequestTimeout."""
        if self._closed:
            raise TransportError("connection failed: the client is closed")
        if self._problem:
            raise TransportError(self._problem)
        try:
            async with asyncio.timeout(self.timeout):
                status, data = await self._exchange(self._message(method, path, body))
        except TimeoutError:
            raise RequestTimeout() from None
        if not 200 <= status < 300:
            raise StatusError(status, data)
        return data

    async def close(self) -> None:
        """Close the idle connections; requests in flight close theirs when they end."""
        self._closed = True
        while self._idle:
            self._idle.popleft().close()

    def _message(self, method: str, path: str, body: bytes | None) -> bytes:
        target = self._target + path + self.origin.query
        head = f"{method} {target} HTTP/1.1\r\n".encode("latin-1", "replace") + self._headers
        if body is None:
            return head + b"\r\n"
        return head + b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body) + body

    async def _exchange(self, message: bytes) -> tuple[int, bytes]:
        connection = await self._connection()
        done = False
        try:
            connection.writer.write(message)
            await connection.writer.drain()
            head, body, keep = await _read_reply(connection.reader)
            done = True
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError) as exc:
            raise TransportError(_transport_words(exc)) from exc
        finally:
            if done and keep and not self._closed and len(self._idle) < _MAX_IDLE:
                self._idle.append(connection)
            else:  # cancelled, failed, or the server will close it: never reused
                connection.close()
        return head.status, _decoded(body, head.headers.get("content-encoding", ""))

    async def _connection(self) -> _Connection:
        while self._idle:
            connection = self._idle.pop()  # the most recent: the least likely to have been closed by the server
            if connection.usable():
                return connection
            connection.close()
        origin = self.origin
        tls = self._tls() if origin.scheme == "https" else None
        try:
            if self._proxy is None:
                reader, writer = await asyncio.open_connection(
                    origin.host, origin.port, ssl=tls, server_hostname=origin.host if tls else None, limit=_HEAD_LIMIT
                )
            else:
                reader, writer = await self._through_proxy(self._proxy, tls)
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError) as exc:
            raise TransportError(_transport_words(exc)) from exc
        return _Connection(reader, writer)

    async def _through_proxy(
        self, proxy: _Proxy, tls: ssl.SSLContext | None
    ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        reader, writer = await asyncio.open_connection(proxy.host, proxy.port, limit=_HEAD_LIMIT)
        if tls is None:
            return reader, writer
        host = self.origin.host
        target = f"[{host}]:{self.origin.port}" if ":" in host else f"{host}:{self.origin.port}"
        auth = f"Proxy-Authorization: Basic {proxy.auth}\r\n" if proxy.auth else ""
        writer.write(f"CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n{auth}\r\n".encode("latin-1", "replace"))
        await writer.drain()
        head = await _read_head(reader)
        if head.status != 200:
            writer.close()
            raise TransportError(f"connection failed: the proxy {proxy.host}:{proxy.port} answered {head.status}")
        await writer.start_tls(tls, server_hostname=self.origin.host)
        return reader, writer

    def _tls(self) -> ssl.SSLContext:
        if self._ssl is None:  # the system's roots, and certifi's where present (as httpx has)
            context = ssl.create_default_context()
            try:
                import certifi

                context.load_verify_locations(certifi.where())
            except (ImportError, OSError):
                pass
            self._ssl = context
        return self._ssl


async def _read_reply(reader: asyncio.StreamReader) -> tuple[_Head, bytes, bool]:
    """The reply's head, its body, and whether the connection may carry another request."""
    head = await _read_head(reader)
    while 100 <= head.status < 200:  # 100 Continue and other interim answers precede the real one
        head = await _read_head(reader)
    headers = head.headers
    connection = headers.get("connection", "").lower()
    keep = "close" not in connection if head.version == "HTTP/1.1" else "keep-alive" in connection
    if "chunked" in headers.get("transfer-encoding", "").lower():
        return head, await _read_chunked(reader), keep
    length = headers.get("content-length")
    if length is not None:
        if not length.strip().isdigit():
            raise ValueError(f"the reply's Content-Length is {length!r}")
        return head, await reader.readexactly(int(length)), keep
    if head.status in (204, 304):
        return head, b"", keep
    return head, await reader.read(), False  # the body ends when the server closes the connection


async def _read_head(reader: asyncio.StreamReader) -> _Head:
    raw = await reader.readuntil(b"\r\n\r\n")
    lines = raw.decode("latin-1").split("\r\n")
    status_line = lines[0].split(" ", 2)
    if len(status_line) < 2 or not status_line[0].startswith("HTTP/1.") or not status_line[1].isdigit():
        raise ValueError(f"the server did not answer HTTP/1.1 (it sent {lines[0][:60]!r})")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if sep:
            key = name.strip().lower()
            headers[key] = f"{headers[key]}, {value.strip()}" if key in headers else value.strip()
    return _Head(int(status_line[1]), status_line[0], headers)


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    parts: list[bytes] = []
    while True:
        size_line = (await reader.readuntil(b"\r\n")).split(b";", 1)[0].strip()
        size = int(size_line, 16)  # a ValueError is a broken reply (a transport error)
        if size == 0:
            while await reader.readuntil(b"\r\n") != b"\r\n":  # trailers, up to the empty line
                pass
            return b"".join(parts)
        parts.append(await reader.readexactly(size))
        await reader.readexactly(2)


def _decoded(body: bytes, encoding: str) -> bytes:
    encoding = encoding.strip().lower()
    try:
        if encoding in ("gzip", "x-gzip"):
            return zlib.decompress(body, 16 + zlib.MAX_WBITS)
        if encoding == "deflate":
            try:
                return zlib.decompress(body)
            except zlib.error:  # some servers send raw deflate without the zlib wrapper
                return zlib.decompress(body, -zlib.MAX_WBITS)
    except zlib.error as exc:
        raise TransportError(f"connection failed: the reply's {encoding} body is corrupt ({exc})") from None
    return body


def _transport_words(exc: BaseException) -> str:
    """One line for a failed connection, in the words describe() has always used."""
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, ConnectionResetError | BrokenPipeError):
        return "connection reset"
    if isinstance(exc, asyncio.IncompleteReadError):
        return "connection closed before the reply ended" if exc.partial else "connection closed without a reply"
    if isinstance(exc, asyncio.LimitOverrunError):
        return "connection failed: the reply's head is too large"
    if isinstance(exc, socket.gaierror):
        return f"connection failed: cannot resolve the host ({exc.strerror or exc})"
    if isinstance(exc, ssl.SSLError):
        why = getattr(exc, "verify_message", None) or getattr(exc, "reason", None) or exc
        return f"connection failed: TLS: {why}".splitlines()[0]
    if isinstance(exc, OSError) and exc.errno is not None:
        if "refused" in str(exc).lower():
            return "connection refused"
        return f"connection failed: {exc.strerror or exc}"
    return f"connection failed: {exc}".splitlines()[0]


def _error_message(body: bytes) -> str:
    """An error reply's message: `error.message` (OpenAI), `message` (vLLM), `detail`, else the text's first line."""
    try:
        data = loads(body)
    except (ValueError, RecursionError):
        data = None
    if isinstance(data, dict):
        inner = data.get("error")
        for source in (inner if isinstance(inner, dict) else None, data):
            if source is not None:
                for key in ("message", "detail"):
                    if isinstance(source.get(key), str) and source[key]:
                        return str(source[key]).splitlines()[0][:500]
        if isinstance(inner, str) and inner:
            return inner.splitlines()[0][:500]
    text = body.decode("utf-8", "replace").strip()
    return text.splitlines()[0][:500] if text else ""


@dataclass(frozen=True)
class _Proxy:
    host: str
    port: int
    auth: str | None


def _proxy_for(origin: Origin) -> tuple[_Proxy | None, str | None]:
    """The proxy the environment names for `origin` (httpx's rules: the scheme's variable, then ALL_PROXY;
    NO_PROXY), or why it cannot be used."""
    env = {k.lower(): v for k, v in os.environ.items() if k.lower().endswith("_proxy") and v}
    url = env.get(f"{origin.scheme}_proxy") or env.get("all_proxy")
    if not url or _bypassed(origin.host, origin.port, env.get("no_proxy", "")):
        return None, None
    parts = urlsplit(url if "://" in url else f"http://{url}")
    if parts.scheme != "http" or not parts.hostname:
        return None, f"connection failed: proxy {url!r} is not an http:// proxy (the only kind supported)"
    try:
        port = parts.port or 80
    except ValueError:
        return None, f"connection failed: proxy {url!r} has an invalid port"
    auth = None
    if parts.username is not None:
        user = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
        auth = base64.b64encode(user.encode()).decode("ascii")
    return _Proxy(parts.hostname, port, auth), None


def _bypassed(host: str, port: int, no_proxy: str) -> bool:
    for entry in (e.strip().lower() for e in no_proxy.split(",")):
        if not entry:
            continue
        if entry == "*":
            return True
        name, _, entry_port = entry.rpartition(":") if entry.count(":") == 1 else (entry, "", "")
        if entry_port and entry_port != str(port):
            continue
        name = name.lstrip(".")
        if host.lower() == name or host.lower().endswith("." + name):
            return True
    return False
