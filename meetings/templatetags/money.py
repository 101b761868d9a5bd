"""Money in Vietnamese form: "50.000 đ" (dots between thousands, the đồng sign after a space).

A filter rather than USE_THOUSAND_SEPARATOR, which would also print years and ids as "2.026".
The dot is Vietnamese usage whatever the interface language: these are amounts in đồng.
"""

from django import template

register = template.Library()

NBSP = "\u00a0"  # the amount and its sign never wrap apart on a narrow phone


def _grouped(value) -> str:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return ""
    return f"{number:,}".replace(",", ".")


@register.filter
def thousands(value) -> str:
    """50000 → "50.000"; not a number → ""."""
    return _grouped(value)


@register.filter
def vnd(value) -> str:
    """50000 → "50.000 đ"; not a number → ""."""
    grouped = _grouped(value)
    return f"{grouped}{NBSP}đ" if grouped else ""
