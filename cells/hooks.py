"""Hooks on writes to the tree: higher apps (meetings' dashboard summaries) register here in their
AppConfig.ready(), so cells never imports them (STYLE.md: registries, not upward imports)."""

from __future__ import annotations

from collections.abc import Callable

_unit_changed: list[Callable] = []


def register_unit_changed(fn: Callable) -> None:
    if fn not in _unit_changed:
        _unit_changed.append(fn)


def unit_changed(unit, before: dict) -> None:
    """Called by cells.services inside the write's transaction; `before` is empty for a new unit."""
    for fn in _unit_changed:
        fn(unit, before)
