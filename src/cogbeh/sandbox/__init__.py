"""A bounded Jinja sandbox for templates we did not write (--template-dir): every value, loop and render has a
ceiling, and any failure is one line naming the template and line."""

from cogbeh.sandbox.environment import BoundedSandbox
from cogbeh.sandbox.limits import (
    MAX_FIELD,
    MAX_INT_BITS,
    MAX_OUTPUT,
    MAX_RANGE,
    MAX_SIZE,
    MAX_STEPS,
    MAX_WORK,
    LimitError,
)

__all__ = ["MAX_FIELD", "MAX_INT_BITS", "MAX_OUTPUT", "MAX_RANGE", "MAX_SIZE", "MAX_STEPS", "MAX_WORK",
           "BoundedSandbox", "LimitError"]
