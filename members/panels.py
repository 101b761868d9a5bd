"""Registries through which higher apps add panels to members' pages (meetings, resolutions).

A panel is a function (request, context) -> {"template": ..., ...} or None; higher apps
register theirs in AppConfig.ready(), so `members` never imports them.
"""

from collections.abc import Callable

Panel = Callable[..., dict | None]
_home: list[Panel] = []
_member: list[Panel] = []


def register_home_panel(panel: Panel) -> None:
    if panel not in _home:
        _home.append(panel)


def register_member_panel(panel: Panel) -> None:
    if panel not in _member:
        _member.append(panel)


def home_panels(request, **context) -> list[dict]:
    return [p for p in (panel(request, **context) for panel in _home) if p]


def member_panels(request, member, **context) -> list[dict]:
    return [p for p in (panel(request, member, **context) for panel in _member) if p]
