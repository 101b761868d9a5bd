"""Scale data, step 2 of `seed_demo --scale N`: about 25 members on every cell of cells.seed_scale.

Statuses (about 10% probationary, a few % exempted, a few suspended), memberships with a transfer
history for about one member in twelve, a secretary (+ deputy, + a committee where there are 9 or more
full members) on every cell and a committee on every committee, logins for the secretaries only (one
shared password hash), and the demo logins mapped into the big tree. Everything is planned in memory,
then written in bulk with its audit history (cells.seed_scale.bulk_insert).
"""

from __future__ import annotations

import datetime
import random
from collections import Counter
from dataclasses import dataclass
from typing import TextIO

from django.contrib.auth.hashers import make_password
from django.utils import timezone

from cells.models import PartyUnit
from cells.seed import TERM_START
from cells.seed_scale import PREVIOUS_TERM, bulk_insert, new_uid
from cells.text import fold, nfc
from members.models import Member, Membership, Position, StatusPeriod, TemporaryAttachment, Transfer, User, add_months
from members.seed import DEMO_PASSWORD, People

Kind = PartyUnit.Kind
Role = Position.Role

PROBATIONARY_SHARE = 0.10
TRANSFER_SHARE = 0.08  # of full members: an earlier membership in another cell
SUSPENDED_SHARE = 0.004
ILL_SHARE = 0.012  # exempted for health for some months (past or current)
AGED_EXEMPTED_SHARE = 0.6  # of members aged 75 or more: exempted for age
ATTACHED_SHARE = 0.05  # of members working away: attending another cell for a while
TRANSFER_REASONS = ["Chuyển nơi cư trú", "Điều động công tác", "Chuyển công tác", "Nghỉ hưu, về nơi cư trú"]


@dataclass
class Person:
    member: Member
    cell: PartyUnit
    group: PartyUnit | None
    start: datetime.date  # on the current cell's roll from
    previous: tuple[PartyUnit, datetime.date] | None = None  # earlier cell and its start; it ended on `start`
    busy: bool = False  # holds an office or is set aside for a demo login: no exemption or suspension

    @property
    def full(self) -> bool:
        return self.member.full_member_on is not None

    @property
    def eligible_from(self) -> datetime.date:
        return max(self.member.full_member_on, self.start)


def _roll_size(rng: random.Random) -> int:
    # Mean 25 (DOMAIN.md: a bloc of 315 cells had 4,587 members; residential cells run larger).
    return round(rng.triangular(6, 50, 19))


def _committee_roles(unit: PartyUnit, cells_below: int) -> list[str]:
    """The elected committee of a committee-level unit: secretary, one deputy, standing and other members."""
    if unit.depth == 0:
        standing, others = 13, 35  # a provincial executive committee of about 50
    elif unit.kind == Kind.COMMITTEE:
        standing, others = 3, 10  # a bloc committee
    elif unit.depth == 1:
        standing, others = 3, 8  # a commune or ward committee
    else:
        standing, others = 0, 3 if cells_below <= 5 else 5  # a company or department committee
    return (
        [Role.SECRETARY, Role.DEPUTY_SECRETARY] + [Role.STANDING_MEMBER] * standing + [Role.COMMITTEE_MEMBER] * others
    )


def seed(stdout: TextIO, rng: random.Random, scale: int) -> None:
    today = timezone.localdate()
    tree = list(PartyUnit.objects.order_by("depth", "pk"))
    cells = [unit for unit in tree if unit.kind == Kind.CELL]
    groups: dict[int, list[PartyUnit]] = {}
    for unit in tree:
        if unit.kind == Kind.GROUP:
            groups.setdefault(unit.parent_id, []).append(unit)

    # --- People and their rolls -------------------------------------------------------------------
    sizes = [_roll_size(rng) for _ in cells]
    people = People(rng, today, cards=sum(sizes), unique_names=False)
    rolls: dict[int, list[Person]] = {}
    for cell, size in zip(cells, sizes, strict=True):
        # Small cells keep at least 3 full members (Điều lệ art. 24).
        probationary = sum(rng.random() < PROBATIONARY_SHARE for _ in range(size))
        probationary = set(rng.sample(range(size), min(probationary, size - 3)))
        cell_groups = groups.get(cell.pk, [])
        roll = rolls[cell.pk] = []
        for i in range(size):
            fields = people.fields(cell, i in probationary)
            fields["full_name"] = nfc(fields["full_name"])
            member = Member(uid=new_uid(rng), search_name=fold(fields["full_name"]), home_unit=cell, **fields)
            start = max(member.admitted_on, cell.founded_on)
            person = Person(member, cell, cell_groups[i % len(cell_groups)] if cell_groups else None, start)
            if person.full and rng.random() < TRANSFER_SHARE:
                _give_transfer_history(rng, person, rng.choice(cells), today)
            roll.append(person)
    everyone = [person for roll in rolls.values() for person in roll]

    # --- Offices --------------------------------------------------------------------------------------
    positions: list[Position] = []
    holders: dict[int, list[tuple[str, Person]]] = {}

    def appoint(unit: PartyUnit, role: str, person: Person, start: datetime.date, end=None) -> None:
        positions.append(Position(uid=new_uid(rng), unit=unit, role=role, start=start, end=end, member=person.member))
        holders.setdefault(unit.pk, []).append((role, person))
        person.busy = True

    _, previous_start, previous_end = PREVIOUS_TERM
    for cell in cells:
        roll = rolls[cell.pk]
        full = [p for p in roll if p.full]
        # Office holders: full members under 70 first (an old residential cell may have too few), those
        # at home before those working away, most of them long-standing.
        pool = sorted(
            full,
            key=lambda p: (
                p.member.birth_date.year <= today.year - 70,
                p.member.works_away,
                p.eligible_from > TERM_START,
                rng.random(),
            ),
        )
        size = 2 if len(full) < 9 else 3 if len(full) < 15 else 5
        roles = [Role.SECRETARY, Role.DEPUTY_SECRETARY] + [Role.COMMITTEE_MEMBER] * (size - 2)
        for role, person in zip(roles, pool, strict=False):
            start = max(TERM_START, person.eligible_from)
            older_cell = cell.founded_on <= previous_start
            if role == Role.SECRETARY and older_cell:
                if person.eligible_from < TERM_START and rng.random() < 0.7:
                    start = max(previous_start, person.eligible_from)  # re-elected for a second term
                else:
                    # A former secretary, who served the 2020–2025 term and now holds no office.
                    latest = previous_end - datetime.timedelta(days=180)
                    former = next((p for p in pool[size:] if p.eligible_from <= latest), None)
                    if former is not None:
                        appoint(cell, role, former, max(previous_start, former.eligible_from), previous_end)
            appoint(cell, role, person, start)

    # The demo logins' cell: the first residential cell of the first ward (cells.seed_scale.plan).
    demo_cell = cells[0]
    ordinary = next(p for p in rolls[demo_cell.pk] if p.full and not p.busy and not p.member.works_away)
    ordinary.busy = True

    # Committees above the cells, smallest subtrees first so that their members come from their own cells.
    committees = [unit for unit in reversed(tree) if unit.kind in (Kind.COMMITTEE, Kind.GRASSROOTS_COMMITTEE)]
    for unit in committees:
        below = [cell for cell in cells if cell.path.startswith(unit.path)]
        pool = [
            p
            for cell in below
            for p in rolls[cell.pk]
            if p.full and not p.busy and not p.member.works_away and p.member.birth_date.year > today.year - 65
        ]
        roles = _committee_roles(unit, len(below))
        pool = rng.sample(pool, min(len(pool), len(roles)))
        for role, person in zip(roles, pool, strict=False):
            appoint(unit, role, person, max(TERM_START, person.eligible_from, unit.founded_on))

    # --- Exemptions, suspensions, temporary attachments ------------------------------------------
    periods: list[StatusPeriod] = []
    attachments: list[TemporaryAttachment] = []
    for person in everyone:
        if person.busy:
            continue
        member, draw = person.member, rng.random()
        if draw < SUSPENDED_SHARE:
            start = today - datetime.timedelta(days=rng.randint(5, 80))
            periods.append(
                StatusPeriod(
                    member=member,
                    kind=StatusPeriod.Kind.SUSPENDED,
                    start=start,
                    end=start + datetime.timedelta(days=89),  # suspension lasts at most 90 days
                    reason="Đình chỉ sinh hoạt đảng trong thời gian xem xét kỷ luật",
                )
            )
        elif draw < SUSPENDED_SHARE + ILL_SHARE:
            start = today - datetime.timedelta(days=rng.randint(30, 540))
            periods.append(
                StatusPeriod(
                    member=member,
                    kind=StatusPeriod.Kind.EXEMPTED,
                    start=max(start, person.start),
                    end=max(start, person.start) + datetime.timedelta(days=rng.randint(60, 270)),
                    reason="Sức khỏe yếu, điều trị bệnh dài ngày",
                )
            )
        elif person.full and member.birth_date.year <= today.year - 75 and rng.random() < AGED_EXEMPTED_SHARE:
            start = min(add_months(member.birth_date, 70 * 12 + rng.randint(0, 72)), today - datetime.timedelta(30))
            periods.append(
                StatusPeriod(
                    member=member,
                    kind=StatusPeriod.Kind.EXEMPTED,
                    start=max(start, person.start),
                    reason="Tuổi cao (trên 70 tuổi)",
                )
            )
        elif member.works_away and rng.random() < ATTACHED_SHARE:
            start = today - datetime.timedelta(days=rng.randint(10, 200))
            host = rng.choice(cells)
            if host.pk != person.cell.pk:
                attachments.append(
                    TemporaryAttachment(
                        member=member,
                        cell=host,
                        start=start,
                        end=start + datetime.timedelta(days=rng.randint(60, 240)),
                        note=f"Làm việc tại địa bàn {host.place_name}",
                    )
                )

    # --- Logins: the secretaries and the demo accounts, one password hash for all ---------------
    # One hash for every login: PBKDF2 costs ~0.3 s per call, two thousand would cost ten minutes.
    password = make_password(DEMO_PASSWORD)
    admin = User(username="admin", password=password, first_name="Quản trị hệ thống", is_staff=True, is_superuser=True)
    staff = User(username="bantochuc", password=password, first_name="Ban Tổ chức Tỉnh ủy")
    logins: list[tuple[User, Person | None]] = [(admin, None), (staff, None)]
    committee_member = next(p for role, p in holders[demo_cell.parent_id] if role == Role.COMMITTEE_MEMBER)
    demo_names = {id(ordinary): "dangvien", id(committee_member): "capuy"}
    for position in positions:
        if position.role == Role.SECRETARY and position.end is None:
            person = next(p for role, p in holders[position.unit_id] if p.member is position.member)
            demo_names.setdefault(id(person), "bithu" if position.unit_id == demo_cell.pk else "")
    by_id = {id(p): p for p in everyone}
    for key, username in demo_names.items():
        member = by_id[key].member
        login = User(
            username=username or f"m-{member.uid.hex[:12]}",  # as members.accounts names a member's login
            password=password,
            first_name=member.full_name,
            email=member.email,
        )
        logins.append((login, by_id[key]))
    bulk_insert(stdout, "logins", User, [user for user, _ in logins], history=False)
    for user, person in logins:
        if person is not None:
            person.member.user = user
    positions.append(Position(uid=new_uid(rng), unit=tree[0], role=Role.STAFF, start=TERM_START, user=staff))

    # --- Write ------------------------------------------------------------------------------------
    bulk_insert(stdout, "members", Member, [p.member for p in everyone])
    memberships, transfers = [], []
    for p in everyone:
        if p.previous is not None:
            earlier, earlier_start = p.previous
            memberships.append(Membership(member=p.member, cell=earlier, start=earlier_start, end=p.start))
            transfers.append(
                Transfer(
                    uid=new_uid(rng),
                    member=p.member,
                    from_cell=earlier,
                    to_cell=p.cell,
                    date=p.start,
                    reason=rng.choice(TRANSFER_REASONS),
                    state=Transfer.State.ACCEPTED,
                    requested_by=admin,
                    decided_by=admin,
                    decided_at=datetime.datetime.combine(p.start, datetime.time(9), tzinfo=datetime.UTC),
                )
            )
        memberships.append(Membership(member=p.member, cell=p.cell, group=p.group, start=p.start))
    bulk_insert(stdout, "memberships", Membership, memberships)
    bulk_insert(stdout, "transfers", Transfer, transfers)
    bulk_insert(stdout, "exemptions and suspensions", StatusPeriod, periods)
    bulk_insert(stdout, "temporary attachments", TemporaryAttachment, attachments)
    bulk_insert(stdout, "positions", Position, positions)

    kinds = Counter(period.kind for period in periods if period.covers(today))
    probationary = sum(not p.full for p in everyone)
    stdout.write(
        f"Members: {len(everyone):,} on {len(cells):,} cells ({probationary:,} probationary, "
        f"{kinds[StatusPeriod.Kind.EXEMPTED]:,} exempted and {kinds[StatusPeriod.Kind.SUSPENDED]:,} suspended "
        f"today), {len(memberships):,} memberships ({len(transfers):,} after a transfer), "
        f"{len(positions):,} positions, {len(logins):,} logins."
    )


def _give_transfer_history(rng: random.Random, person: Person, earlier: PartyUnit, today: datetime.date) -> None:
    """An earlier membership in another cell, ended by a transfer to the current one."""
    if earlier.pk == person.cell.pk:
        return
    earlier_start = max(person.member.admitted_on, earlier.founded_on)
    first = max(earlier_start + datetime.timedelta(days=180), person.cell.founded_on)
    last = today - datetime.timedelta(days=30)
    if first <= last:
        person.previous = (earlier, earlier_start)
        person.start = first + datetime.timedelta(days=rng.randint(0, (last - first).days))
