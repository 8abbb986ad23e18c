"""The Python-rendered select boxes write exactly what Django's templates write."""

from __future__ import annotations

from typing import Any

import pytest
from django import forms

from wrapup_portal.core.widgets import FastSelect, FastSelectMultiple

CHOICES = [("", "(choose)"), ("a", "Sale <b>&</b>"), ("b\"q", "Quote's"), (3, "Three"),
           ("Group & co", [("g1", "One"), ("g2", "Two")])]  # fmt: skip


@pytest.mark.parametrize(("fast", "django", "value"), [
    (FastSelect, forms.Select, "a"),
    (FastSelect, forms.Select, None),
    (FastSelect, forms.Select, "g2"),
    (FastSelectMultiple, forms.SelectMultiple, ["a", "g1", "3"]),
    (FastSelectMultiple, forms.SelectMultiple, []),
])
@pytest.mark.parametrize("attrs", [None, {"id": "id_x", "required": True, "aria-describedby": "x-errors", "disabled": False}])
def test_same_markup_as_djangos_templates(fast: Any, django: Any, value: Any, attrs: dict[str, Any] | None) -> None:
    assert str(fast(choices=CHOICES).render("code", value, attrs)) == str(django(choices=CHOICES).render("code", value, attrs))


def test_a_form_field_renders_the_same_through_the_bound_field() -> None:
    class Plain(forms.Form):
        code = forms.ChoiceField(choices=CHOICES[:4], required=False)

    class Fast(forms.Form):
        code = forms.ChoiceField(choices=CHOICES[:4], required=False, widget=FastSelect)

    assert str(Fast({"code": "a"})["code"]) == str(Plain({"code": "a"})["code"])
