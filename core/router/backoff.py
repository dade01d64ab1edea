"""How long to wait before retrying the same model.

Exponential with jitter: ``min(max_s, base_s · 2^(n-1)) · (0.5 + 0.5 · r)`` for the n-th retry,
``r`` uniform in [0, 1). A provider's Retry-After wins when it gives one: we wait exactly that
long — unless it is longer than ``max_s``, in which case we do not wait at all and fall back to
the next model instead (``None``).
"""

from __future__ import annotations

from collections.abc import Callable


def backoff_delay(
    retry: int,
    *,
    base_s: float,
    max_s: float,
    random: Callable[[], float],
    retry_after_s: float | None = None,
) -> float | None:
    """Seconds to sleep before retry number ``retry`` (1-based), or ``None`` to stop retrying."""
    if retry_after_s is not None:
        return retry_after_s if retry_after_s <= max_s else None
    ceiling = min(max_s, base_s * 2 ** (retry - 1))
    return ceiling * (0.5 + 0.5 * random())
