"""Text no database of the portal can store: U+0000 (PostgreSQL refuses it) and lone surrogates
(not encodable as UTF-8). Input that carries them is refused with a message, before any write."""

from __future__ import annotations

import re
from typing import Any

UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def has_unstorable_text(data: Any) -> bool:
    """Whether any text in ``data`` (a string, or JSON-like lists and dicts, keys included) holds
    U+0000 or a lone surrogate; walked without recursion, as nesting is the sender's choice."""
    stack = [data]
    while stack:
        value = stack.pop()
        if isinstance(value, str):
            if UNSTORABLE.search(value):
                return True
        elif isinstance(value, dict):
            stack.extend(value.keys())
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
    return False
