"""Retry policy for provider calls: retryable errors only, exponential backoff with jitter, capped retry-after."""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt

from cogbeh.llm.types import ProviderError

T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try one request."""

    attempts: int = 8  # total tries, the first included
    base: float = 0.5  # first backoff, doubled each retry
    cap: float = 30.0  # longest backoff without a retry-after
    retry_after_cap: float = 60.0  # longest wait we grant a server's retry-after

    def delay(self, attempt: int, retry_after: float | None, rng: random.Random) -> float:
        """Seconds to wait before try `attempt + 1`; full jitter over the upper half avoids lockstep retries."""
        if retry_after is not None:
            return min(retry_after, self.retry_after_cap)
        ceiling = min(self.cap, self.base * 2 ** (attempt - 1))
        return ceiling * (0.5 + 0.5 * rng.random())


async def with_retries(
    call: Callable[[], Awaitable[T]],
    *,
    policy: RetryPolicy,
    on_error: Callable[[ProviderError], None] | None = None,
    rng: random.Random | None = None,
    retry_on: frozenset[str] | None = None,
) -> T:
    """Await `call()` until it succeeds, fails for good, or runs out of attempts (then its last error is raised).

    `retry_on` narrows the retried error kinds (a batch create must not be retried after a timeout: the
    first one may have gone through)."""
    jitter = rng or random.Random()

    def retryable(err: BaseException) -> bool:
        return isinstance(err, ProviderError) and err.retryable and (retry_on is None or err.kind in retry_on)

    def wait(state: RetryCallState) -> float:
        err = state.outcome.exception() if state.outcome else None
        retry_after = err.retry_after if isinstance(err, ProviderError) else None
        return policy.delay(state.attempt_number, retry_after, jitter)

    def before_sleep(state: RetryCallState) -> None:
        err = state.outcome.exception() if state.outcome else None
        if on_error is not None and isinstance(err, ProviderError):
            on_error(err)

    retrying = AsyncRetrying(
        stop=stop_after_attempt(policy.attempts),
        wait=wait,
        retry=retry_if_exception(retryable),
        before_sleep=before_sleep,
        reraise=True,
    )
    async def run() -> T:  # tenacity only awaits what is declared `async def` (a lambda is not)
        return await call()

    return await retrying(run)
