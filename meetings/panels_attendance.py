"""The member page's attendance panel: discipline counters, the last meetings, a link to the rest.

Registered by the lead in MeetingsConfig.ready() with members.panels.register_member_panel; the
member page has already fetched the member through members.access, so the viewer is in scope.
"""

from django.urls import reverse

from .views.attendance import discipline_for, member_rows

RECENT = 6


def member_attendance_panel(request, member, **context) -> dict:
    recent = list(member_rows(request.user, member).order_by("-meeting__scheduled_start")[:RECENT])
    return {
        "template": "meetings/panels/member_attendance.html",
        "discipline": discipline_for(member),
        "recent": recent,
        "url": reverse("meetings:member_attendance", args=[member.uid]),
    }
