"""Discipline counters (QĐ 24-QĐ/TW §8.1, carried into 294-QĐ/TW).

Within one calendar year, a member who misses regular meetings, or does not pay dues, in 3
months without valid reason is to be considered for removal. The two are counted apart:
months with an unexcused absence from the regular meeting; months whose dues are unpaid once
the month has ended. Warn at 2, alert at 3 (tree settings).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.utils import timezone

from members.models import DuesPayment, Member, Membership

from .models import Attendance, Meeting


@dataclass(frozen=True)
class DisciplineCount:
    year: int
    absence_months: tuple[int, ...]
    unpaid_months: tuple[int, ...]

    def level(self, warning: int = 2, alert: int = 3) -> str:
        worst = max(len(self.absence_months), len(self.unpaid_months))
        return "alert" if worst >= alert else "warning" if worst >= warning else "ok"


def _month_end(year: int, month: int) -> datetime.date:
    first_next = datetime.date(year + (month == 12), month % 12 + 1, 1)
    return first_next - datetime.timedelta(days=1)


def discipline_count(member: Member, year: int, today: datetime.date | None = None) -> DisciplineCount:
    today = today or timezone.localdate()
    absence_months = sorted(
        set(
            Attendance.objects.filter(
                member=member,
                status=Attendance.Status.ABSENT_UNEXCUSED,
                meeting__kind=Meeting.Kind.REGULAR,
                meeting__period_year=year,
                meeting__status__in=Meeting.HELD_STATUSES,
            ).values_list("meeting__period_month", flat=True)
        )
    )
    paid = set(DuesPayment.objects.filter(member=member, year=year).values_list("month", flat=True))
    memberships = list(Membership.objects.filter(member=member).values_list("start", "end"))
    unpaid = []
    for month in range(1, 13):
        end = _month_end(year, month)
        if end >= today or month in paid:
            continue  # a month counts as unpaid only once it has ended without a payment
        on_roll = any(start <= end and (stop is None or stop > end) for start, stop in memberships)
        if on_roll and member.admitted_on <= end and (member.ended_on is None or member.ended_on > end):
            unpaid.append(month)
    return DisciplineCount(year, tuple(absence_months), tuple(unpaid))
