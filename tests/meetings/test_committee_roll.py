"""Who a committee meeting lists (DOMAIN.md "Cadence"): the cell committee of that day, nobody else."""

import datetime

from meetings import services
from meetings.models import Attendance
from members.models import Position, TemporaryAttachment
from tests.factories import MemberFactory, PositionFactory
from tests.meetings.conftest import at

D = datetime.date


def test_a_temporarily_attached_member_is_not_on_the_committee_meetings_roll(cast, schedule):
    visitor = MemberFactory(full_name="Vũ Tạm Thời", cell=cast.cell_b)
    TemporaryAttachment.objects.create(member=visitor, cell=cast.cell_a, start=D(2026, 1, 1))
    deputy = MemberFactory(full_name="Hoàng Văn Phó", cell=cast.cell_a)
    PositionFactory(unit=cast.cell_a, role=Position.Role.DEPUTY_SECRETARY, member=deputy, start=D(2025, 10, 1))

    roll = services.roll_on(cast.cell_a, D(2026, 3, 5), committee_only=True)
    assert set(roll) == {cast.secretary.pk, deputy.pk}
    assert not any(flags["is_attached_here"] for flags in roll.values())

    meeting = schedule(kind="committee", start=at(2026, 3, 5))
    services.meeting_open(meeting=meeting, by=cast.secretary_user)
    listed = set(Attendance.objects.filter(meeting=meeting).values_list("member", flat=True))
    assert listed == {cast.secretary.pk, deputy.pk}
    # The regular meeting of the same cell still lists the attached member, as one attached here.
    regular = services.roll_on(cast.cell_a, D(2026, 3, 12))
    assert regular[visitor.pk]["is_attached_here"] and cast.member.pk in regular


def test_a_committee_member_attached_to_another_cell_stays_on_the_committee_roll_marked_so(cast, schedule):
    # Holding an office here while attending another cell for a while: listed, and flagged as away.
    TemporaryAttachment.objects.create(member=cast.secretary, cell=cast.cell_b, start=D(2026, 2, 1))
    roll = services.roll_on(cast.cell_a, D(2026, 3, 5), committee_only=True)
    assert set(roll) == {cast.secretary.pk} and roll[cast.secretary.pk]["is_attached_elsewhere"]
