"""B3 — screening throughput: the production server (gunicorn, ``CASEAPP_ENV=production``)
on the bench database, loaded over loopback by ``loadgen`` with ``concurrency`` clients
posting varied screenings (``payloads``) for ``seconds``; afterwards every acknowledged
(201) screening id is looked up in the database.

The generator runs in this process on the same 2 cores as gunicorn and PostgreSQL; its
own CPU time is measured and reported.
"""

from __future__ import annotations

import json
import os
import random
import resource
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from benchmarks import loadgen, payloads
from benchmarks.env import PROJECT_ROOT, BenchEnv, bin_path
from benchmarks.stats import latency_summary


@dataclass(frozen=True)
class ServerConfig:
    """``sync:5`` = 5 sync workers; ``gthread:3x4`` = 3 workers of 4 threads."""

    worker_class: str
    workers: int
    threads: int = 1

    @classmethod
    def parse(cls, text: str) -> ServerConfig:
        kind, _, size = text.partition(":")
        if kind not in ("sync", "gthread") or not size:
            raise ValueError(f"server config must look like sync:5 or gthread:3x4, not {text!r}")
        workers, _, threads = size.partition("x")
        return cls(kind, int(workers), int(threads or 1))

    @property
    def label(self) -> str:
        if self.worker_class == "sync":
            return f"sync -w {self.workers}"
        return f"gthread -w {self.workers} --threads {self.threads}"

    def args(self) -> list[str]:
        out = ["-w", str(self.workers), "-k", self.worker_class]
        if self.worker_class == "gthread":
            out += ["--threads", str(self.threads)]
        return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """gunicorn started (and stopped) by this process only."""

    def __init__(self, env: BenchEnv, config: ServerConfig) -> None:
        self.port = free_port()
        self.log = open(env.instance / f"gunicorn-{self.port}.log", "w")  # noqa: SIM115
        self.process = subprocess.Popen(
            [
                bin_path("gunicorn"),
                *config.args(),
                "-b",
                f"127.0.0.1:{self.port}",
                "--timeout",
                "120",
                "--graceful-timeout",
                "10",
                "wsgi:app",
            ],
            cwd=PROJECT_ROOT,
            env=env.environ("production"),
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        self._wait_ready()

    def _wait_ready(self, limit: float = 60.0) -> None:
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.process.returncode}")
            try:
                with urllib.request.urlopen(
                    f"http://127.0.0.1:{self.port}/login", timeout=5
                ) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.3)
        raise RuntimeError("gunicorn did not answer within a minute")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.log.close()


def cpu_times() -> tuple[float, float]:
    """(busy, total) jiffies of all CPUs from /proc/stat."""
    try:
        with open("/proc/stat") as f:
            fields_ = [float(x) for x in f.readline().split()[1:]]
    except OSError:
        return (0.0, 0.0)
    idle = fields_[3] + (fields_[4] if len(fields_) > 4 else 0.0)
    total = sum(fields_)
    return (total - idle, total)


def own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


@dataclass
class LoadRun:
    config: str
    seconds: float
    requests: int
    ok: int
    errors: int
    error_statuses: dict[int, int]
    throughput: float
    latency_ms: dict[str, float]
    latencies: list[float] = field(repr=False)
    acknowledged: list[str] = field(repr=False)
    machine_busy: float = 0.0  # share of all cores busy during the run
    generator_cpu: float = 0.0  # cores used by this load generator
    retries: int = 0


def request_maker(
    token: str, seed: int
) -> Callable[[], tuple[str, str, dict[str, str], bytes | None]]:
    rng = random.Random(seed)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    def make() -> tuple[str, str, dict[str, str], bytes | None]:
        body = json.dumps(payloads.screening(rng)).encode()
        return "POST", "/api/v1/screenings", headers, body

    return make


def load(
    server: Server, config: ServerConfig, token: str, *, concurrency: int, seconds: float, seed: int
) -> LoadRun:
    busy0, total0 = cpu_times()
    own0 = own_cpu()
    result = loadgen.run(
        "127.0.0.1",
        server.port,
        request_maker(token, seed),
        concurrency=concurrency,
        seconds=seconds,
        keep_body=True,
    )
    busy1, total1 = cpu_times()
    own1 = own_cpu()
    statuses: dict[int, int] = {}
    for s in result.errors:
        statuses[s.status] = statuses.get(s.status, 0) + 1
    latencies = [s.latency * 1000 for s in result.samples]
    return LoadRun(
        config=config.label,
        seconds=result.duration,
        requests=len(result.samples),
        ok=len(result.ok),
        errors=len(result.errors),
        error_statuses=statuses,
        throughput=result.throughput,
        latency_ms=latency_summary(latencies),
        latencies=latencies,
        acknowledged=[s.body["id"] for s in result.ok if s.status == 201 and s.body],
        machine_busy=(busy1 - busy0) / (total1 - total0) if total1 > total0 else 0.0,
        generator_cpu=(own1 - own0) / result.duration if result.duration else 0.0,
        retries=result.retries,
    )


def missing_ids(app: Any, ids: list[str]) -> list[str]:
    """Acknowledged screening ids that are not in the database."""
    from caseapp.extensions import db
    from caseapp.screening.models import Screening

    found: set[str] = set()
    with app.app_context():
        for start in range(0, len(ids), 5000):
            chunk = ids[start : start + 5000]
            found.update(
                db.session.scalars(sa.select(Screening.uuid).where(Screening.uuid.in_(chunk)))
            )
        db.session.rollback()
    return [i for i in ids if i not in found]


def run(
    env: BenchEnv,
    app: Any,
    token: str,
    configs: list[ServerConfig],
    *,
    runs: int,
    seconds: float,
    concurrency: int,
    log: Callable[[str], None],
    trial_seconds: float = 0.0,
) -> tuple[ServerConfig, list[LoadRun], list[LoadRun]]:
    """Optionally try every config for ``trial_seconds`` and keep the fastest (fewest
    errors first, then throughput); then ``runs`` timed runs of ``seconds`` with it."""
    trials: list[LoadRun] = []
    chosen = configs[0]
    if len(configs) > 1 and trial_seconds > 0:
        best: tuple[Any, ...] | None = None
        for i, config in enumerate(configs):
            server = Server(env, config)
            try:
                load(server, config, token, concurrency=concurrency, seconds=3, seed=90 + i)
                trial = load(
                    server,
                    config,
                    token,
                    concurrency=concurrency,
                    seconds=trial_seconds,
                    seed=100 + i,
                )
            finally:
                server.stop()
            trials.append(trial)
            log(
                f"  trial {config.label}: {trial.throughput:.0f} req/s, "
                f"p95 {trial.latency_ms['p95']:.0f} ms, errors {trial.errors}"
            )
            key = (trial.errors, -trial.throughput)
            if best is None or key < best:
                best, chosen = key, config
    server = Server(env, chosen)
    out: list[LoadRun] = []
    try:
        load(server, chosen, token, concurrency=concurrency, seconds=3, seed=7)  # warm-up
        for i in range(runs):
            out.append(
                load(server, chosen, token, concurrency=concurrency, seconds=seconds, seed=200 + i)
            )
            r = out[-1]
            log(
                f"  {chosen.label} run {i + 1}: {r.throughput:.0f} req/s, p50 "
                f"{r.latency_ms['p50']:.0f} / p95 {r.latency_ms['p95']:.0f} / p99 "
                f"{r.latency_ms['p99']:.0f} ms, errors {r.errors}, machine busy "
                f"{r.machine_busy:.0%}, generator {r.generator_cpu:.2f} cores"
            )
    finally:
        server.stop()
    return chosen, trials, out


def worker_count_hint() -> int:
    return os.cpu_count() or 1
