"""The counting rules of DOMAIN.md "Counting", in one place.

Each function takes attendance rows (meetings.models.Attendance, or anything with the same
flags) so the meeting page, the minutes PDF, the dashboards and the tests share one rule.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

PRESENT = ("present", "online")


def is_expected(row) -> bool:
    """Expected attendee: on the roll or attached here, not suspended, not attached elsewhere,
    and not an exempted member who stayed away (an exempted member who comes counts)."""
    if row.is_suspended or row.is_attached_elsewhere:
        return False
    if row.is_exempted and row.status not in PRESENT:
        return False
    return True


def is_voter(row, approved_absence_reduces: bool = True) -> bool:
    """In the voting base (Điều lệ 9.5; QĐ 24 §9.3.2): an expected full member, less those
    absent with a reason the committee approved (configurable)."""
    if not (row.is_full and is_expected(row)):
        return False
    if approved_absence_reduces and row.status == "excused" and row.reason_approved:
        return False
    return True


def passes(votes_for: int, voting_base: int) -> bool:
    """A text passes when votes for are more than half of the voting base (not of those present)."""
    return voting_base > 0 and votes_for * 2 > voting_base


def is_consultation_voter(row) -> bool:
    """In a written consultation's base (DOMAIN.md "Counting"): a full member on the cell's own roll
    at the deadline, less suspended members and members temporarily attached elsewhere. Exempted
    members stay in (they answer in writing); probationary members and guests attached here do not vote."""
    return row.is_full and not (row.is_attached_here or row.is_suspended or row.is_attached_elsewhere)


@dataclass
class Tally:
    votes_for: int = 0
    votes_against: int = 0
    votes_other: int = 0
    voting_base: int = 0

    @property
    def passed(self) -> bool:
        return passes(self.votes_for, self.voting_base)

    @property
    def not_answered(self) -> int:
        return self.voting_base - self.votes_for - self.votes_against - self.votes_other


def consultation_tally(roll: dict, choices: dict) -> Tally:
    """roll: member id -> standing flags at the deadline; choices: member id -> "for" / "against" /
    "other". Answers from members outside the base are not counted; silence counts as not for."""
    tally = Tally()
    for member_id, row in roll.items():
        if not is_consultation_voter(row):
            continue
        tally.voting_base += 1
        choice = choices.get(member_id)
        if choice == "for":
            tally.votes_for += 1
        elif choice == "against":
            tally.votes_against += 1
        elif choice == "other":
            tally.votes_other += 1
    return tally


def rate(present: int, expected: int) -> float | None:
    return present / expected if expected else None


@dataclass
class Counts:
    on_roll: int = 0  # this cell's own members on the meeting date
    full: int = 0
    probationary: int = 0
    exempted: int = 0
    suspended: int = 0
    attached_here: int = 0
    attached_elsewhere: int = 0
    expected: int = 0
    present: int = 0
    online: int = 0
    late: int = 0
    excused: int = 0
    unexcused: int = 0
    unrecorded: int = 0
    full_present: int = 0
    voting_base: int = 0
    excused_rows: list = field(default_factory=list)
    unexcused_rows: list = field(default_factory=list)

    @property
    def rate(self) -> float | None:
        return rate(self.present, self.expected)

    @property
    def rate_percent(self) -> int | None:
        r = self.rate
        return None if r is None else round(r * 100)


def count(rows: Iterable, approved_absence_reduces: bool = True) -> Counts:
    c = Counts()
    for row in rows:
        if row.is_attached_here:
            c.attached_here += 1
        else:
            c.on_roll += 1
            if row.is_full:
                c.full += 1
            else:
                c.probationary += 1
        c.exempted += row.is_exempted
        c.suspended += row.is_suspended
        c.attached_elsewhere += row.is_attached_elsewhere
        if is_expected(row):
            c.expected += 1
        if row.status in PRESENT:
            c.present += 1
            c.online += row.status == "online"
            c.late += bool(row.arrived_late)
            c.full_present += row.is_full
        elif row.status == "excused":
            if not (row.is_exempted or row.is_suspended or row.is_attached_elsewhere):
                c.excused += 1
                c.excused_rows.append(row)
        elif row.status == "unexcused":
            c.unexcused += 1
            c.unexcused_rows.append(row)
        elif is_expected(row):
            c.unrecorded += 1
        if is_voter(row, approved_absence_reduces):
            c.voting_base += 1
    return c
