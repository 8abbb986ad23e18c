"""Select boxes rendered in Python, with the very markup Django's templates give.

Django renders each ``<option>`` through its own template include; a code list of a few hundred
options then costs the search page more than its whole results table. These widgets build the same
HTML with ``format_html`` (``tests/core/test_widgets.py`` compares them with Django's output).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe


def _attrs(attrs: dict[str, Any]) -> SafeString:
    """`` name="value"`` pairs as django/forms/widgets/attrs.html writes them (True: bare, False: left out)."""
    return format_html_join(
        "", "{}", ((format_html(" {}", k) if v is True else format_html(' {}="{}"', k, str(v)),)
                   for k, v in attrs.items() if v is not False)
    )  # fmt: skip


class FastSelectMixin:
    def render(self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None) -> SafeString:
        widget = self.get_context(name, value, attrs)["widget"]  # type: ignore[attr-defined]
        parts = [format_html('<select name="{}"{}>', widget["name"], _attrs(widget["attrs"]))]
        for group_name, options, _index in widget["optgroups"]:
            if group_name:
                parts.append(format_html('\n  <optgroup label="{}">', group_name))
            for option in options:
                parts.append(format_html('\n  <option value="{}"{}>{}</option>\n',
                                         str(option["value"]), _attrs(option["attrs"]), option["label"]))  # fmt: skip
            if group_name:
                parts.append(mark_safe("\n  </optgroup>"))
        parts.append(mark_safe("\n</select>"))
        return mark_safe("".join(parts))


class FastSelect(FastSelectMixin, forms.Select):
    pass


class FastSelectMultiple(FastSelectMixin, forms.SelectMultiple):
    pass
