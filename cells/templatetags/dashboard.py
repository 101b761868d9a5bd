"""Small formatting filters of the dashboard pages and report."""

from django import template
from django.utils.formats import number_format

register = template.Library()

LEVEL_CLASS = {"ok": "success", "warn": "warning", "bad": "danger", "none": "secondary"}
METRIC_ATTR = {"premeeting": "premeeting_rate"}


@register.filter
def pct(value):
    """0.8571 -> "85,7%" (a dash when there is nothing to divide by)."""
    if value is None:
        return "—"
    return f"{number_format(round(value * 100, 1), 1)}%"


@register.filter
def metric(figures, key):
    return getattr(figures, METRIC_ATTR.get(key, key))


@register.filter
def level_class(level):
    return LEVEL_CLASS.get(level, "secondary")


@register.filter
def level_of(figures, key):
    return figures.level(key)
