"""Filters that remember themselves, for every list page.

It lives in `audit`, the lowest app, so that every app with a list page (audit included) may
import it without importing `core`, which sits above audit (README, "Architecture").
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect


def remembered_filter(request: HttpRequest, key: str) -> HttpResponse | None:
    """A bare visit goes back to this page's last filter; `?clear=1` forgets it.

    None when the request carries its own filter: the view goes on, and stores the query it
    used under `key` (without cursors or page numbers) for next time.
    """
    if "clear" in request.GET:
        request.session.pop(key, None)
        return redirect(request.path)
    if not request.GET and (saved := request.session.get(key)):
        return redirect(f"{request.path}?{saved}")
    return None
