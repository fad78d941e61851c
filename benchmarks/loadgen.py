"""A light HTTP/1.1 load generator on ``asyncio.open_connection`` (no dependency).

``concurrency`` clients each keep one keep-alive connection (reopened when the server
closes it, as gunicorn's sync workers do after every response) and send requests back to
back until the deadline or the request cap. Loopback only.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Sample:
    started: float  # seconds since the run began
    latency: float  # seconds
    status: int  # 0 = transport error or timeout
    body: Any = None  # parsed JSON of a 201/200 when kept


@dataclass
class LoadResult:
    samples: list[Sample] = field(default_factory=list)
    duration: float = 0.0
    reconnects: int = 0
    retries: int = 0  # resent once after the server closed an idle keep-alive

    @property
    def ok(self) -> list[Sample]:
        return [s for s in self.samples if 200 <= s.status < 300]

    @property
    def errors(self) -> list[Sample]:
        return [s for s in self.samples if not 200 <= s.status < 300]

    @property
    def throughput(self) -> float:
        return len(self.ok) / self.duration if self.duration else 0.0


def build_request(
    method: str, path: str, host: str, headers: dict[str, str], body: bytes | None
) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}", "Connection: keep-alive"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    if body is not None:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + (body or b"")


def parse_head(head: bytes) -> tuple[int, dict[str, str]]:
    """Status code and lower-cased headers of a response head (without the blank line)."""
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/1."):
        raise ValueError(f"not an HTTP/1.x status line: {lines[0]!r}")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name:
            headers[name.strip().lower()] = value.strip()
    return int(parts[1]), headers


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, dict[str, str], bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    status, headers = parse_head(head[:-4])
    if headers.get("transfer-encoding", "").lower() == "chunked":
        chunks = []
        while True:
            size = int((await reader.readuntil(b"\r\n"))[:-2].split(b";")[0], 16)
            data = await reader.readexactly(size + 2)
            if size == 0:
                break
            chunks.append(data[:-2])
        body = b"".join(chunks)
    else:
        body = await reader.readexactly(int(headers.get("content-length", "0")))
    return status, headers, body


async def _client(
    host: str,
    port: int,
    make: Callable[[], tuple[str, str, dict[str, str], bytes | None]],
    start: float,
    deadline: float,
    result: LoadResult,
    budget: list[int],
    timeout: float,
    keep_body: bool,
) -> None:
    reader: asyncio.StreamReader | None = None
    writer: asyncio.StreamWriter | None = None
    while time.perf_counter() < deadline and budget[0] > 0:
        budget[0] -= 1
        method, path, headers, body = make()
        request = build_request(method, path, f"{host}:{port}", headers, body)
        t0 = time.perf_counter()
        for attempt in (1, 2):
            reused = writer is not None
            try:
                if writer is None:
                    reader, writer = await asyncio.open_connection(host, port)
                    result.reconnects += 1
                assert reader is not None
                writer.write(request)
                status, rheaders, rbody = await asyncio.wait_for(_read_response(reader), timeout)
                latency = time.perf_counter() - t0
                parsed = json.loads(rbody) if keep_body and rbody and status < 300 else None
                result.samples.append(Sample(t0 - start, latency, status, parsed))
                if rheaders.get("connection", "").lower() == "close":
                    writer.close()
                    writer = None
                break
            except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError) as exc:
                if writer is not None:
                    writer.close()
                writer = None
                # A kept-alive connection the server had already closed (no byte of an
                # answer): send again once on a new connection, as HTTP clients do.
                silent = isinstance(exc, asyncio.IncompleteReadError) and not exc.partial
                if attempt == 1 and reused and (silent or isinstance(exc, ConnectionError)):
                    result.retries += 1
                    continue
                result.samples.append(Sample(t0 - start, time.perf_counter() - t0, 0))
                break
    if writer is not None:
        writer.close()


async def _run(
    host: str,
    port: int,
    make: Callable[[], tuple[str, str, dict[str, str], bytes | None]],
    concurrency: int,
    seconds: float,
    max_requests: int,
    timeout: float,
    keep_body: bool,
) -> LoadResult:
    result = LoadResult()
    start = time.perf_counter()
    deadline = start + seconds
    budget = [max_requests]
    await asyncio.gather(
        *(
            _client(host, port, make, start, deadline, result, budget, timeout, keep_body)
            for _ in range(concurrency)
        )
    )
    result.duration = time.perf_counter() - start
    return result


def run(
    host: str,
    port: int,
    make: Callable[[], tuple[str, str, dict[str, str], bytes | None]],
    *,
    concurrency: int,
    seconds: float,
    max_requests: int = 1_000_000,
    timeout: float = 30.0,
    keep_body: bool = False,
) -> LoadResult:
    """Run the load; ``make()`` returns (method, path, headers, body) for each request.
    Bounded by ``seconds`` (requests in flight at the deadline still finish, each within
    ``timeout``) and ``max_requests``."""
    if host not in ("127.0.0.1", "localhost", "::1"):
        raise ValueError("the load generator only targets loopback")
    return asyncio.run(
        _run(host, port, make, concurrency, seconds, max_requests, timeout, keep_body)
    )
