"""Start and stop Chirp web and worker processes for a benchmark run."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

BIN = Path(sys.executable).parent


@dataclass
class Processes:
    """Running server and worker processes."""

    server: subprocess.Popen[bytes]
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def rss_mb(self) -> float:
        """Resident memory of the web server's processes (parent and children), in MiB."""
        pids = [self.server.pid, *_children(self.server.pid)]
        total_kb = 0
        for pid in pids:
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        total_kb += int(line.split()[1])
            except FileNotFoundError:
                continue
        return total_kb / 1024

    def stop(self) -> None:
        """Stop everything, gently first; whole process groups, so no worker is left behind."""
        for proc in [self.server, *self.workers]:
            _signal_group(proc, signal.SIGTERM)
        for proc in [self.server, *self.workers]:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                _signal_group(proc, signal.SIGKILL)
                proc.wait()
            _signal_group(proc, signal.SIGKILL)  # children that outlived their parent


def _signal_group(proc: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, sig)


def _port_in_use(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _children(pid: int) -> list[int]:
    try:
        out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    except FileNotFoundError:
        return []
    kids = [int(p) for p in out.split()]
    return kids + [g for k in kids for g in _children(k)]


def server_command(kind: str, *, port: int, workers: int) -> list[str]:
    """The command line for one ASGI server choice."""
    if kind == "uvicorn":
        return [
            str(BIN / "chirp"),
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(workers),
        ]
    if kind == "granian":
        return [
            str(BIN / "granian"),
            "--interface",
            "asgi",
            "--factory",
            "--loop",
            "uvloop",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--no-access-log",
            "chirp.main:create_app",
        ]
    raise ValueError(kind)


def start(
    kind: str, env: dict[str, str], *, port: int, web_workers: int, job_workers: int, log_dir: Path
) -> Processes:
    """Start the web server (and job workers) and wait until /health answers."""
    if _port_in_use(port):
        # A server left over from an earlier run would be measured instead of this one.
        raise SystemExit(f"port {port} is already in use; stop whatever listens there first")
    log_dir.mkdir(parents=True, exist_ok=True)
    full_env = {**os.environ, **env}
    log = (log_dir / f"server-{kind}.log").open("wb")
    server = subprocess.Popen(
        server_command(kind, port=port, workers=web_workers),
        env=full_env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group, so stop() reaches its children
    )
    workers = []
    for i in range(job_workers):
        wlog = (log_dir / f"worker-{i}.log").open("wb")
        workers.append(
            subprocess.Popen(
                [str(BIN / "chirp"), "worker", "--concurrency", "4"],
                env=full_env,
                stdout=wlog,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        )
    procs = Processes(server, workers)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"{kind} exited early; see {log.name}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                return procs
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    procs.stop()
    raise SystemExit(f"{kind} did not become healthy; see {log.name}")
