"""Run real ``chirp serve`` and ``chirp worker`` processes: start, wait until healthy, stop.

Shared by the end-to-end tests (tests/e2e) and the fault runs (bench/faults.py). Every
process gets its own process group, so stopping it reaches uvicorn's children too, and
writes its output to a log file that a failing test can show.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import httpx

CHIRP = str(Path(sys.executable).parent / "chirp")
# Few connections per process: PostgreSQL is shared by every suite on the machine.
POOL_SIZE = "4"


def free_port() -> int:
    """A TCP port nothing listens on right now, on loopback."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def chirp_env(
    database_url: str, *, redis_url: str | None = None, port: int | None = None, **extra: str
) -> dict[str, str]:
    """The environment of a Chirp process: this process's own, the stores, and ``extra``."""
    # Nothing from the caller's own CHIRP_* settings: the process gets exactly these.
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHIRP_")}
    env.update(
        {
            "CHIRP_ENVIRONMENT": "test",
            "CHIRP_DATABASE_URL": database_url,
            "CHIRP_SECRET_KEY": "e2e-secret-key-that-is-long-enough-0123456789",
            "CHIRP_DEMO_DATA": "false",
            "CHIRP_DATABASE_POOL_SIZE": POOL_SIZE,
        }
    )
    if redis_url:
        env["CHIRP_REDIS_URL"] = redis_url
    if port:
        env["CHIRP_DOMAIN"] = f"127.0.0.1:{port}"
    env.update(extra)
    return env


@dataclass
class ChirpProcess:
    """One ``chirp`` command running in its own process group, its output in ``log_path``."""

    name: str
    proc: subprocess.Popen[bytes]
    log_path: Path
    url: str | None = None
    log_file: IO[bytes] | None = field(default=None, repr=False)

    @property
    def pid(self) -> int:
        """Its process id (the group's leader)."""
        return self.proc.pid

    def alive(self) -> bool:
        """Whether it is still running."""
        return self.proc.poll() is None

    def children(self) -> list[int]:
        """Process ids of its children (uvicorn's web processes), from /proc."""
        found = []
        for task in Path(f"/proc/{self.pid}/task").glob("*"):
            with contextlib.suppress(OSError):
                found += [int(p) for p in (task / "children").read_text().split()]
        return sorted(found)

    def log(self, tail: int = 4000) -> str:
        """The last ``tail`` characters of its output."""
        try:
            return self.log_path.read_text(errors="replace")[-tail:]
        except OSError:
            return ""

    def signal(self, sig: signal.Signals) -> None:
        """Send ``sig`` to its whole process group."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, sig)

    def kill(self) -> None:
        """SIGKILL it (and its children) and reap it."""
        self.signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self, grace: float = 10.0) -> int | None:
        """SIGTERM, wait up to ``grace`` seconds, then SIGKILL; return its exit code."""
        if self.alive():
            self.signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                self.signal(signal.SIGKILL)
                self.proc.wait(timeout=10)
        self.signal(signal.SIGKILL)  # children that outlived their parent
        if self.log_file is not None:
            self.log_file.close()
        return self.proc.returncode

    def wait_healthy(self, timeout: float = 60.0) -> None:
        """Wait until ``/health`` answers 200; raise with its log if it dies or never does."""
        assert self.url is not None, "only a web server has a health check"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.alive():
                raise RuntimeError(f"{self.name} exited early:\n{self.log()}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.url}/health", timeout=2).status_code == 200:
                    return
            time.sleep(0.1)
        raise RuntimeError(f"{self.name} did not become healthy in {timeout:.0f} s:\n{self.log()}")


def _spawn(name: str, args: list[str], env: Mapping[str, str], log_dir: Path) -> ChirpProcess:
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"{name}.log"
    log = log_path.open("ab")
    proc = subprocess.Popen(
        [CHIRP, *args],
        env=dict(env),
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,  # its own process group: stop() reaches uvicorn's children
    )
    return ChirpProcess(name=name, proc=proc, log_path=log_path, log_file=log)


def start_server(
    env: Mapping[str, str],
    *,
    port: int,
    log_dir: Path,
    workers: int = 1,
    name: str = "web",
    wait: float = 60.0,
) -> ChirpProcess:
    """Start ``chirp serve`` on 127.0.0.1:``port`` and wait until it is healthy."""
    server = _spawn(
        name,
        ["serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)],
        env,
        log_dir,
    )
    server.url = f"http://127.0.0.1:{port}"
    try:
        server.wait_healthy(wait)
    except BaseException:
        server.stop()
        raise
    return server


def start_worker(
    env: Mapping[str, str], *, log_dir: Path, concurrency: int = 4, name: str = "worker"
) -> ChirpProcess:
    """Start ``chirp worker`` (it has no health check: it claims jobs when it is ready)."""
    return _spawn(name, ["worker", "--concurrency", str(concurrency)], env, log_dir)


@contextlib.contextmanager
def stopped_at_exit(*procs: ChirpProcess) -> Iterator[list[ChirpProcess]]:
    """Stop the processes (and any appended to the list) when the block ends."""
    running = list(procs)
    try:
        yield running
    finally:
        for proc in reversed(running):
            proc.stop()
