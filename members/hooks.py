"""Hooks on roll changes: meetings registers in its AppConfig.ready(), so members never imports it
(STYLE.md: registries, not upward imports)."""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable

_roll_changed: list[Callable] = []
_member_changed: list[Callable] = []


def register_roll_changed(fn: Callable) -> None:
    if fn not in _roll_changed:
        _roll_changed.append(fn)


def roll_changed(*, cell_ids: Iterable[int], since: datetime.date) -> None:
    """A member joined or left the roll of these cells (or changed standing) from `since` on."""
    ids = [pk for pk in cell_ids if pk]
    for fn in _roll_changed:
        fn(cell_ids=ids, since=since)


def register_member_changed(fn: Callable) -> None:
    if fn not in _member_changed:
        _member_changed.append(fn)


def member_changed(*, member_ids: Iterable[int]) -> None:
    """Dues recorded or removed, a member added, or a member's admission or end dates or name changed."""
    ids = [pk for pk in member_ids if pk]
    for fn in _member_changed:
        fn(member_ids=ids)
