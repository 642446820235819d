"""A loopback server speaking enough of the Anthropic and OpenAI APIs for the real SDKs, with fault injection."""

from __future__ import annotations

import email.parser
import hashlib
import json
import random
import re
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Answer = Callable[[str, str], str]


def default_answer(system: str, user: str) -> str:
    """A correct, well-formed trace for the Countdown query in `user` (solved exactly)."""
    from cogbeh.countdown import solve

    nums = [int(x) for x in re.findall(r"\d+", user.split("write", 1)[0])]
    target = int(re.search(r"equals (\d+)", user).group(1))  # type: ignore[union-attr]
    found = solve(nums, target, limit=1)
    expr = found[0] if found else " + ".join(map(str, nums))
    return f"<think>I combine the numbers step by step until they make the target.</think>\n<answer>{expr}</answer>"


@dataclass
class Faults:
    """Probabilities per completion request (online) or per batch request."""

    rate_limit: float = 0.0  # 429 with retry-after
    server_error: float = 0.0  # 500
    overloaded: float = 0.0  # 529
    timeout: float = 0.0  # answer only after `hang` seconds
    truncated: float = 0.0  # Content-Length promises more than is sent
    malformed: float = 0.0  # a body that is not JSON
    batch_errored: float = 0.0
    batch_expired: float = 0.0
    retry_after: float = 0.05
    hang: float = 1.5
    script: list[str | None] = field(default_factory=list)  # served first, in order ("ok" or None: no fault)

    def pick(self, rng: random.Random) -> str | None:
        """One fault kind, or None for a clean answer."""
        if self.script:
            kind = self.script.pop(0)
            return None if kind in (None, "ok") else kind
        roll = rng.random()
        for name in ("rate_limit", "server_error", "overloaded", "timeout", "truncated", "malformed"):
            roll -= getattr(self, name)
            if roll < 0:
                return name
        return None


class _Server(ThreadingHTTPServer):
    # The default listen backlog of 5 drops SYNs when 32 clients connect at once (a 1 s retransmit stall).
    request_queue_size = 1024
    daemon_threads = True


def _tokens(text: str) -> int:
    return max(1, len(text) // 4)


class FakeServer:
    """Start with `with FakeServer(...) as server:`; point SDKs at `server.url`."""

    def __init__(self, *, answer: Answer | None = None, latency: float = 0.0, faults: Faults | None = None,
                 seed: int = 0, batch_polls: int = 1, require_key: str | None = None,
                 rate_headers: dict[str, str] | None = None) -> None:
        self.answer = answer or default_answer
        self.latency = latency
        self.faults = faults or Faults()
        self.batch_polls = batch_polls
        self.require_key = require_key
        self.rate_headers = rate_headers or {}
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self.requests = 0  # every HTTP request
        self.answered = 0  # completions delivered intact (paid), online and in batches
        self.lost = 0  # completions computed but sent truncated or malformed
        self.by_prompt: Counter[str] = Counter()
        self.faults_served: Counter[str] = Counter()
        self.paths: Counter[str] = Counter()
        self._seen_systems: set[str] = set()
        self.files: dict[str, bytes] = {}
        self.batches: dict[str, dict[str, Any]] = {}
        self._ids = 0
        self._server = _Server(("127.0.0.1", 0), _handler(self))
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.02,), daemon=True)

    # -- lifecycle ---------------------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        """Base URL, e.g. http://127.0.0.1:PORT (the OpenAI SDK wants /v1 appended)."""
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> FakeServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def duplicates(self) -> int:
        """Completions delivered more than once for the same prompt (answers paid twice)."""
        return sum(count - 1 for count in self.by_prompt.values() if count > 1)

    # -- helpers used by the handler ---------------------------------------------------------------------------
    def next_id(self, prefix: str) -> str:
        with self._lock:
            self._ids += 1
            return f"{prefix}_{self._ids}"

    def fault(self) -> str | None:
        with self._lock:
            kind = self.faults.pick(self._rng)
            if kind:
                self.faults_served[kind] += 1
            return kind

    def complete(self, system: str, user: str, cache_system: bool, *, delivered: bool = True
                 ) -> tuple[str, dict[str, int]]:
        """Answer one prompt and account for it; usage mimics prompt caching of the system prompt.

        `delivered=False`: the answer is lost on the way (truncated or malformed body), so no client has it."""
        text = self.answer(system, user)
        with self._lock:
            if not delivered:
                self.lost += 1
                return text, {}
            self.answered += 1
            self.by_prompt[hashlib.sha256((system + "\0" + user).encode()).hexdigest()] += 1
            seen = system in self._seen_systems
            self._seen_systems.add(system)
        usage = {"input": _tokens(user), "output": _tokens(text), "cache_read": 0, "cache_write": 0}
        if cache_system:
            usage["cache_read" if seen else "cache_write"] = _tokens(system)
        else:
            usage["input"] += _tokens(system)
        return text, usage

    def batch_roll(self) -> str | None:
        with self._lock:
            roll = self._rng.random()
        if roll < self.faults.batch_errored:
            return "errored"
        if roll < self.faults.batch_errored + self.faults.batch_expired:
            return "expired"
        return None


def _handler(server: FakeServer) -> type[BaseHTTPRequestHandler]:
    import fake_routes  # a sibling module: tests/llm is on sys.path under pytest and the benchmark

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body go out in two writes; with Nagle on, delayed ACKs add ~40 ms to every response.
        disable_nagle_algorithm = True

        def log_message(self, *args: Any) -> None:  # quiet
            pass

        def _body(self) -> bytes:
            length = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(length) if length else b""

        def send_json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
            self.send_bytes(status, json.dumps(payload).encode(), "application/json", headers)

        def send_bytes(self, status: int, data: bytes, kind: str, headers: dict[str, str] | None = None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def multipart(self, data: bytes) -> dict[str, bytes]:
            head = f"Content-Type: {self.headers.get('Content-Type')}\r\n\r\n".encode()
            message = email.parser.BytesParser().parsebytes(head + data)
            return {part.get_param("name", header="content-disposition"): part.get_payload(decode=True)
                    for part in message.get_payload()}

        def _dispatch(self, method: str) -> None:
            with server._lock:
                server.requests += 1
                server.paths[f"{method} {self.path}"] += 1
            body = self._body() if method == "POST" else b""
            if server.require_key is not None and self.headers.get("Authorization") != f"Bearer {server.require_key}":
                # A careless server that echoes the credential it got: our errors must not repeat it.
                self.send_json(401, {"type": "error", "error": {"type": "authentication_error",
                               "message": f"invalid key: {self.headers.get('Authorization')}"}})
                return
            try:
                fake_routes.route(server, self, method, self.path.split("?")[0], body)
            except (BrokenPipeError, ConnectionResetError):
                pass

        def do_GET(self) -> None:
            self._dispatch("GET")

        def do_POST(self) -> None:
            self._dispatch("POST")

    return Handler


def serve_in_child(connection: Any, options: dict[str, Any]) -> None:
    """multiprocessing target: serve until told to stop, so the server does not share the client's GIL."""
    with FakeServer(**options) as server:
        connection.send(server.url)
        connection.recv()


def cheap_answer(system: str, user: str) -> str:
    """A fixed well-formed answer: no solver work on the server side (for throughput measurements)."""
    return "<think>I add them up.</think>\n<answer>1 + 2 + 3</answer>"
