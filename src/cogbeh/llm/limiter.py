"""Concurrency, request and token rate limits for async calls, tightened by what the provider reports."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from cogbeh.llm.types import RateInfo


class Pace:
    """A virtual-schedule rate limiter (GCRA): `rate` units per second with `burst` seconds of slack."""

    def __init__(self, per_minute: float, *, burst: float = 1.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute = per_minute
        self._burst = burst
        self._clock = clock
        self._next = 0.0

    def reserve(self, amount: float) -> float:
        """Book `amount` units; returns how long the caller must wait before using them."""
        now = self._clock()
        start = max(now, self._next)
        self._next = start + amount * 60.0 / self.per_minute
        return max(0.0, start - now - self._burst)


class Limiter:
    """Bounds in-flight calls and paces their start; a 429 or an empty quota pauses every new start."""

    def __init__(
        self,
        *,
        concurrency: int,
        rpm: float | None = None,
        tpm: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.concurrency = concurrency
        self._slots = asyncio.Semaphore(concurrency)
        self._clock = clock
        self._requests = Pace(rpm, clock=clock) if rpm else None
        self._tokens = Pace(tpm, clock=clock) if tpm else None
        self._paused_until = 0.0
        self.in_flight = 0

    @property
    def rpm(self) -> float | None:
        """The request pace now in force (possibly lowered from the configured one)."""
        return self._requests.per_minute if self._requests else None

    @property
    def tpm(self) -> float | None:
        """The token pace now in force."""
        return self._tokens.per_minute if self._tokens else None

    @asynccontextmanager
    async def slot(self, tokens: int = 0) -> AsyncIterator[None]:
        """Hold one concurrency slot, started no sooner than the paces and any pause allow."""
        async with self._slots:
            await self._wait_pause()
            delay = self._requests.reserve(1) if self._requests else 0.0
            if self._tokens and tokens:
                delay = max(delay, self._tokens.reserve(tokens))
            if delay > 0:
                await asyncio.sleep(delay)
            self.in_flight += 1
            try:
                yield
            finally:
                self.in_flight -= 1

    async def _wait_pause(self) -> None:
        while (left := self._paused_until - self._clock()) > 0:
            await asyncio.sleep(left)

    def pause(self, seconds: float) -> None:
        """Start nothing new for `seconds` (one 429 means every request would get one)."""
        self._paused_until = max(self._paused_until, self._clock() + seconds)

    def observe(self, rate: RateInfo, *, next_tokens: int = 0) -> None:
        """Tighten from rate-limit headers: adopt a lower advertised limit, pause when a quota is spent."""
        if rate.limit_requests:
            if self._requests is None:
                self._requests = Pace(rate.limit_requests, clock=self._clock)
            elif rate.limit_requests < self._requests.per_minute:
                self._requests.per_minute = rate.limit_requests
        if rate.limit_tokens:
            if self._tokens is None:
                self._tokens = Pace(rate.limit_tokens, clock=self._clock)
            elif rate.limit_tokens < self._tokens.per_minute:
                self._tokens.per_minute = rate.limit_tokens
        spent_requests = rate.remaining_requests is not None and rate.remaining_requests <= 0
        spent_tokens = rate.remaining_tokens is not None and rate.remaining_tokens < max(1, next_tokens)
        if (spent_requests or spent_tokens) and rate.reset_seconds:
            self.pause(min(rate.reset_seconds, 60.0))
