"""A stand-in Gravatar server on loopback: per address hash, an image, a 404 or a slow answer."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from hashlib import md5
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

# A valid 1 x 1 PNG.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360f8cfc0f01f0005fe02fea7d6a48d0000000049454e44ae426082"
)


def digest(email: str) -> str:
    """Gravatar's hash of an address."""
    return md5(email.strip().lower().encode(), usedforsecurity=False).hexdigest()


@dataclass
class StandIn:
    """What the stand-in answers for each hash (404 for any other), and what it was asked."""

    url: str = ""
    images: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    slow: dict[str, float] = field(default_factory=dict)
    hits: Counter[str] = field(default_factory=Counter)
    queries: list[dict[str, list[str]]] = field(default_factory=list)


@contextmanager
def gravatar_standin() -> Iterator[StandIn]:
    """Serve a stand-in Gravatar on a free loopback port until the block ends."""
    state = StandIn()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            key = parts.path.rsplit("/", 1)[-1]
            state.hits[key] += 1
            state.queries.append(parse_qs(parts.query))
            if key in state.slow:
                time.sleep(state.slow[key])
            if key not in state.images:
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            body, content_type = state.images[key]
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
