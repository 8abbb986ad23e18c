from __future__ import annotations

import math


def pages(count: int, size: int = 100) -> int:
    """Requests needed to list `count` entities at page size `size` (an empty list is one page)."""
    return max(1, math.ceil(count / size))
