"""Append-only, content-addressed cache of paid responses: each one is on disk before anything uses it."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from cogbeh.llm.types import Completion

CACHE_FILE = "responses.jsonl"


def cache_key(
    *,
    provider: str,
    model: str,
    system: str,
    user: str,
    params: dict[str, Any],
    template_hash: str,
    problem_id: str,
    sample_index: int,
) -> str:
    """sha256 over everything that shapes an answer; the sample index keeps repeated problems apart."""
    payload = {
        "provider": provider,
        "model": model,
        "system": system,
        "user": user,
        "params": params,
        "template_hash": template_hash,
        "problem_id": problem_id,
        "sample_index": sample_index,
    }
    text = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


class ResponseCache:
    """Entries by key, loaded from and appended to one JSONL file (fsynced per entry)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._entries: dict[str, dict[str, Any]] = {}
        self.skipped = 0  # unreadable lines (a torn tail after kill -9, or hand-edited damage)
        self._cost = 0.0  # running total: the progress bar and --max-cost ask for it on every response
        self._written = self._synced = 0  # lines appended / lines known to be fsynced, in this process
        self._flush: asyncio.Future[None] | None = None
        self._load()
        self._handle = path.open("a", encoding="utf-8")

    def _load(self) -> None:
        if not self.path.exists():
            self.path.parent.mkdir(parents=True, exist_ok=True)
            return
        data = self.path.read_bytes()
        keep = len(data)
        if data and not data.endswith(b"\n"):
            # A torn last line: cut it off so the next append starts on a line of its own.
            keep = data.rfind(b"\n") + 1
            self.skipped += 1
            with self.path.open("r+b") as handle:
                handle.truncate(keep)
        for line in data[:keep].decode("utf-8", errors="replace").splitlines():
            if not line.strip():
                continue
            try:
                entry = json.loads(line)
                Completion.from_dict(entry["completion"])
                self._entries[entry["key"]] = entry
                self._cost += float(entry.get("cost_usd") or 0.0)
            except (ValueError, KeyError, TypeError):
                self.skipped += 1

    def __contains__(self, key: str) -> bool:
        return key in self._entries

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: str) -> Completion | None:
        """The cached completion for `key`, if any."""
        entry = self._entries.get(key)
        return Completion.from_dict(entry["completion"]) if entry else None

    def entry(self, key: str) -> dict[str, Any] | None:
        """The whole cache line for `key` (completion plus cost and provenance)."""
        return self._entries.get(key)

    def _append(self, key: str, completion: Completion, meta: dict[str, Any]) -> None:
        entry = {"key": key, **meta, "completion": completion.to_dict()}
        # flush() hands the line to the OS: from here it survives kill -9; fsync adds power loss.
        self._handle.write(json.dumps(entry, ensure_ascii=False, separators=(",", ":")) + "\n")
        self._handle.flush()
        self._entries[key] = entry
        self._cost += float(meta.get("cost_usd") or 0.0)
        self._written += 1

    def put(self, key: str, completion: Completion, *, sync: bool = True, **meta: Any) -> None:
        """Append one response and fsync it (or leave that to a later `sync()`); use it only after that."""
        self._append(key, completion, meta)
        if sync:
            self.sync()

    def sync(self) -> None:
        """fsync everything appended so far."""
        os.fsync(self._handle.fileno())
        self._synced = self._written

    async def put_durable(self, key: str, completion: Completion, **meta: Any) -> None:
        """Append and await the fsync; concurrent callers share one fsync (group commit) run off the loop."""
        self._append(key, completion, meta)
        mine = self._written
        while self._synced < mine:
            if self._flush is None or self._flush.done():
                self._flush = asyncio.ensure_future(self._fsync_upto(self._written))
            await asyncio.shield(self._flush)

    async def _fsync_upto(self, upto: int) -> None:
        await asyncio.to_thread(os.fsync, self._handle.fileno())
        self._synced = max(self._synced, upto)

    def completions(self) -> Iterator[Completion]:
        """Every cached completion, in file order."""
        for entry in self._entries.values():
            yield Completion.from_dict(entry["completion"])

    def total_cost(self) -> float:
        """Dollars paid for every response in the cache (what this run folder has cost so far)."""
        return self._cost

    def close(self) -> None:
        """Close the append handle."""
        self._handle.close()
