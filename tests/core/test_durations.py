"""`duration`: a timedelta in words, for pages people read."""

from __future__ import annotations

from datetime import timedelta

import pytest

from wrapup_portal.core.templatetags.durations import duration


@pytest.mark.parametrize(("delta", "words"), [
    (timedelta(minutes=15), "15 minutes"),
    (timedelta(minutes=1), "1 minute"),
    (timedelta(minutes=90), "1 hour 30 minutes"),
    (timedelta(hours=2), "2 hours"),
    (timedelta(days=1, hours=3, minutes=5), "1 day 3 hours"),
    (timedelta(seconds=45), "45 seconds"),
    (timedelta(0), "0 seconds"),
])
def test_duration_in_words(delta: timedelta, words: str) -> None:
    assert duration(delta) == words


def test_duration_of_nothing_is_empty() -> None:
    assert duration(None) == ""
