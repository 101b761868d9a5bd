"""Small formatting filters of the dashboard pages and report."""

from django import template
from django.utils.formats import get_format

register = template.Library()

LEVEL_CLASS = {"ok": "success", "warn": "warning", "bad": "danger", "none": "secondary"}
METRIC_ATTR = {"premeeting": "premeeting_rate"}


def pct_text(value, separator: str) -> str:
    """0.8571 -> "85,7%" with the language's decimal separator (a dash when there is nothing to
    divide by). Values are at most 100: no thousands separator to place."""
    if value is None:
        return "—"
    return f"{value * 100:.1f}".replace(".", separator) + "%"


@register.filter
def pct(value):
    return pct_text(value, get_format("DECIMAL_SEPARATOR"))


@register.filter
def metric(figures, key):
    return getattr(figures, METRIC_ATTR.get(key, key))


@register.filter
def level_class(level):
    return LEVEL_CLASS.get(level, "secondary")


@register.filter
def level_of(figures, key):
    return figures.level(key)
