"""Run wrk with Chirp's Lua driver and parse throughput and latency."""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

LUA = Path(__file__).parent / "lua" / "chirp.lua"
_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


@dataclass(frozen=True)
class LoadResult:
    """One wrk run."""

    name: str
    connections: int
    seconds: int
    requests: int
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int  # socket errors plus non-2xx/3xx responses


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text.strip())
    if not match:
        raise ValueError(f"unparsed latency {text!r}")
    return float(match.group(1)) * _UNITS[match.group(2)]


def parse(name: str, connections: int, seconds: int, output: str) -> LoadResult:
    """Extract the figures from wrk's --latency report."""
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    requests = int(re.search(r"(\d+) requests in", output).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"^\s+50%\s+(\S+)", output, re.M).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"^\s+99%\s+(\S+)", output, re.M).group(1))  # type: ignore[union-attr]
    errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", output))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors += int(non2xx.group(1)) if non2xx else 0
    return LoadResult(name, connections, seconds, requests, rps, p50, p99, errors)


def command(
    url: str,
    mode: str,
    data_dir: Path,
    *,
    seconds: int,
    connections: int,
    threads: int = 2,
    id_range: tuple[int, int] | None = None,
    pace_ms: int | None = None,
) -> list[str]:
    """Build the wrk command line for one scenario (``pace_ms``: pause between requests)."""
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install -y wrk")
    args = [mode, str(data_dir)]
    if id_range:
        args += [str(id_range[0]), str(id_range[1])]
    if pace_ms:
        args.append(f"pace={pace_ms}")
    return [
        "wrk",
        "--latency",
        "-t",
        str(threads),
        "-c",
        str(connections),
        "-d",
        f"{seconds}s",
        "--timeout",
        "10s",
        "-s",
        str(LUA),
        url,
        "--",
        *args,
    ]


def run(
    name: str,
    url: str,
    mode: str,
    data_dir: Path,
    *,
    seconds: int,
    connections: int,
    id_range: tuple[int, int] | None = None,
    pace_ms: int | None = None,
) -> LoadResult:
    """Run one scenario to completion and return its figures."""
    cmd = command(
        url,
        mode,
        data_dir,
        seconds=seconds,
        connections=connections,
        id_range=id_range,
        pace_ms=pace_ms,
    )
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    return parse(name, connections, seconds, out)
