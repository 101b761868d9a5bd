"""The home page's "Drafts awaiting my comment" card (members.panels registry, filled in apps.py)."""

from .access import member_of
from .services.drafts import awaiting_comment

SHOWN = 5


def awaiting_comment_panel(request, **context) -> dict | None:
    member = member_of(request.user)
    if member is None:
        return None
    rows = list(awaiting_comment(member)[: SHOWN + 1])
    if not rows:
        return None
    return {"template": "resolutions/drafts/panel_awaiting.html", "drafts": rows[:SHOWN], "more": len(rows) > SHOWN}
