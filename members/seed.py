"""Demo data, step 2 of seed_demo: about 150 members on the cells of cells.seed, their offices,
a few exemptions, a suspension, transfers, a death, and the demo logins.

Every write that has a service goes through members.services, so the same validation and history
hold as in the app. Dates are relative to today: probation is "admitted in the last 12 months".
"""

from __future__ import annotations

import datetime
import random
from typing import TextIO

from django.contrib.auth.hashers import make_password
from django.db.models import Q
from django.utils import timezone

from cells.models import PartyUnit
from cells.seed import COMMUNE, COMPANY, FIRST_RESIDENTIAL_CELL, PROVINCE, TERM_START, WARD
from cells.text import fold
from members import services
from members.models import Member, Membership, Position, StatusPeriod, TemporaryAttachment, User, add_months

DEMO_PASSWORD = "chibo-demo-2026"
DEMO_USERNAMES = ["bithu", "dangvien", "capuy", "bantochuc", "admin"]

UnitType = PartyUnit.UnitType
Role = Position.Role

ROLL_SIZES = {
    FIRST_RESIDENTIAL_CELL: 24,
    "Chi bộ Tổ dân phố 2": 16,
    "Chi bộ Trường THCS Tam Đảo": 12,
    "Chi bộ Cơ quan Ủy ban nhân dân phường": 15,
    "Chi bộ Công an phường Tam Đảo": 10,
    "Chi bộ thôn Sơn Đình": 18,
    "Chi bộ thôn Đồng Bùa": 11,
    "Chi bộ Trạm Y tế xã Đại Đình": 6,
    "Chi bộ Quân sự xã Đại Đình": 6,
    "Chi bộ Công ty TNHH Du lịch Tây Thiên": 5,
    "Chi bộ Xí nghiệp Vệ sinh môi trường số 1": 14,
    "Chi bộ Phòng Kỹ thuật – Kế hoạch": 7,
    "Chi bộ Công ty TNHH Cơ khí Phúc Yên": 8,
}
AGENCY_CELL = "Chi bộ Cơ quan Ủy ban nhân dân phường"

# Birth years by cell type (residential cells are mostly retirees), share of women, share working away.
BIRTH_YEARS = {
    UnitType.RESIDENTIAL: (1950, 1985),
    UnitType.PUBLIC_SERVICE: (1968, 1998),
    UnitType.STATE_AGENCY: (1966, 1996),
    UnitType.POLICE: (1978, 2000),
    UnitType.ARMY: (1983, 2000),
    UnitType.STATE_ENTERPRISE: (1965, 1995),
    UnitType.PRIVATE_ENTERPRISE: (1972, 1997),
}
FEMALE_SHARE = {
    UnitType.RESIDENTIAL: 0.45,
    UnitType.PUBLIC_SERVICE: 0.65,
    UnitType.POLICE: 0.15,
    UnitType.ARMY: 0.05,
}
WORKS_AWAY_SHARE = {
    UnitType.STATE_ENTERPRISE: 0.25,
    UnitType.PRIVATE_ENTERPRISE: 0.3,
    UnitType.ARMY: 0.15,
    UnitType.POLICE: 0.1,
}

SURNAMES = {
    "Nguyễn": 38,
    "Trần": 11,
    "Lê": 9,
    "Phạm": 7,
    "Hoàng": 5,
    "Phan": 4,
    "Vũ": 4,
    "Đặng": 2,
    "Bùi": 2,
    "Đỗ": 2,
    "Ngô": 1.5,
    "Dương": 1.5,
    "Hồ": 1,
    "Võ": 0.5,
    "Huỳnh": 0.5,
    "Lý": 0.5,
}
MIDDLE = {
    Member.Gender.FEMALE: ["Thị"] * 6 + ["Thu", "Ngọc", "Thanh", "Minh"],
    Member.Gender.MALE: ["Văn"] * 5 + ["Minh", "Quốc", "Đức", "Thanh", "Hữu"],
}
GIVEN = {
    Member.Gender.FEMALE: (
        "Hằng Hương Lan Mai Thảo Linh Phương Trang Yến Hoa Nga Hà Huyền Thủy Dung Loan Nhung Hiền Vân Oanh Hạnh Ngân"
    ).split(),
    Member.Gender.MALE: (
        "Hùng Dũng Tuấn Bảo Đức Sơn Hải Nam Quang Khánh Cường Long Thắng Hiếu Trung Việt Tùng Phong Thành Huy "
        "Mạnh Tiến Bình Toàn"
    ).split(),
}


class People:
    """Draws plausible people (the demo and seed_scale); all randomness comes from the seeded rng."""

    def __init__(self, rng: random.Random, today: datetime.date, cards: int = 400, unique_names: bool = True):
        # unique_names: the demo's ~150 people are told apart by name; 50,000 (seed_scale) cannot be.
        self.rng, self.today, self.unique_names = rng, today, unique_names
        self.names: set[str] = set()
        self.phones: set[str] = set()
        self.emails: set[str] = set()
        self.cards = iter(rng.sample(range(10_000_000, 100_000_000), cards))

    def name(self, gender: str) -> str:
        rng = self.rng
        while True:
            surname = rng.choices(list(SURNAMES), weights=list(SURNAMES.values()))[0]
            middle, given = rng.choice(MIDDLE[gender]), rng.choice(GIVEN[gender])
            full = f"{surname} {middle} {given}"
            if middle != given and not (self.unique_names and full in self.names):
                self.names.add(full)
                return full

    def phone(self) -> str:
        while (phone := f"09{self.rng.randrange(100_000_000):08d}") in self.phones:
            pass
        self.phones.add(phone)
        return phone

    def email(self, full_name: str, birth: datetime.date) -> str:
        # example.com is reserved (RFC 2606): a demo install that sends mail reaches nobody.
        *_, given = fold(full_name).split()
        base = f"{given}.{fold(full_name).split()[0]}{birth.year % 100:02d}"
        email, n = f"{base}@example.com", 1
        while email in self.emails:
            n += 1
            email = f"{base}{n}@example.com"
        self.emails.add(email)
        return email

    def fields(self, cell: PartyUnit, probationary: bool) -> dict:
        rng, today = self.rng, self.today
        lo, hi = BIRTH_YEARS.get(cell.unit_type, (1960, 1995))
        if probationary:
            lo = max(lo, 1985)  # people admitted this year are mostly young
        year = min(rng.randint(lo, hi), rng.randint(lo, hi)) if cell.unit_type == UnitType.RESIDENTIAL else None
        birth = datetime.date(year or rng.randint(lo, hi), rng.randint(1, 12), rng.randint(1, 28))
        gender = Member.Gender.FEMALE if rng.random() < FEMALE_SHARE.get(cell.unit_type, 0.35) else Member.Gender.MALE
        if probationary:
            admitted = today - datetime.timedelta(days=rng.randint(20, 330))
            full_on = None
        else:
            # Admitted between 18½ and 45 (never under 18: Điều lệ art. 1), early enough to be full now.
            first = add_months(birth, 18 * 12 + 6)
            last = min(add_months(birth, 45 * 12), add_months(today, -14))
            admitted = first + datetime.timedelta(days=rng.randint(0, max(0, (last - first).days)))
            full_on = min(add_months(admitted, 12) + datetime.timedelta(days=rng.randint(0, 45)), today)
        full_name = self.name(gender)
        return {
            "full_name": full_name,
            "gender": gender,
            "birth_date": birth,
            "admitted_on": admitted,
            "full_member_on": full_on,
            # The party card is issued on becoming a full member.
            "card_number": f"{next(self.cards)}" if full_on else None,
            "phone": self.phone(),
            "email": self.email(full_name, birth) if rng.random() < 0.4 else "",
            "works_away": rng.random() < WORKS_AWAY_SHARE.get(cell.unit_type, 0.05),
        }


def _login(username: str, password_hash: str, member: Member | None = None, **fields) -> User:
    user = User(username=username, password=password_hash, **fields)
    if member is not None:
        user.first_name, user.email = member.full_name, member.email
    user.full_clean()
    user.save()
    if member is not None:
        member.user = user
        member.save(update_fields=["user"])
    return user


def seed(stdout: TextIO, rng: random.Random) -> None:
    today = timezone.localdate()
    # One hash for every demo login: PBKDF2 costs ~0.3 s per call, the seed must stay fast.
    password_hash = make_password(DEMO_PASSWORD)
    admin = _login("admin", password_hash, first_name="Quản trị hệ thống", is_staff=True, is_superuser=True)
    people = People(rng, today)

    tree = list(PartyUnit.objects.order_by("depth", "pk"))
    # Cells and committees have unique names here; groups do not ("Tổ đảng số 1" in several cells).
    units = {unit.name: unit for unit in tree if unit.kind != PartyUnit.Kind.GROUP}
    cells = [unit for unit in tree if unit.kind == PartyUnit.Kind.CELL]
    groups: dict[int, list[PartyUnit]] = {}
    for unit in tree:
        if unit.kind == PartyUnit.Kind.GROUP:
            groups.setdefault(unit.parent_id, []).append(unit)

    rolls: dict[str, list[Member]] = {}
    joined: dict[int, datetime.date] = {}
    for cell in cells:
        size = ROLL_SIZES.get(cell.name, 8)
        # About one in ten is probationary; small cells keep their full members (at least 3).
        probationary = set(rng.sample(range(size), round(size * 0.1) if size >= 6 else 0))
        cell_groups = groups.get(cell.pk, [])
        rolls[cell.name] = []
        for i in range(size):
            fields = people.fields(cell, i in probationary)
            joined_on = max(fields["admitted_on"], cell.founded_on or fields["admitted_on"])
            group = cell_groups[i % len(cell_groups)] if cell_groups else None
            member = services.member_create(cell=cell, group=group, joined_on=joined_on, by=admin, **fields)
            joined[member.pk] = joined_on
            rolls[cell.name].append(member)

    used: set[int] = set()

    def office_start(member: Member) -> datetime.date:
        return max(TERM_START, member.full_member_on, joined[member.pk])

    def candidates(cell_names: list[str]) -> list[Member]:
        # Office holders: full members under 70; most long-standing, shuffled for variety.
        found = [
            m
            for name in cell_names
            for m in rolls[name]
            if m.pk not in used and m.full_member_on and m.birth_date.year > today.year - 70
        ]
        found.sort(key=lambda m: (office_start(m) > TERM_START, rng.random()))
        return found

    def appoint(unit: PartyUnit, roles: list[str], pool: list[Member]) -> list[Member]:
        holders = []
        for role, member in zip(roles, pool, strict=False):
            services.position_add(unit=unit, role=role, start=office_start(member), member=member, by=admin)
            used.add(member.pk)
            holders.append(member)
        return holders

    # Cells: a secretary and deputy; 9 or more full members elect a committee of 3 or 5 (Điều lệ art. 24).
    secretaries: dict[str, Member] = {}
    for cell in cells:
        full = sum(1 for m in rolls[cell.name] if m.full_member_on)
        size = 2 if full < 9 else 3 if full < 15 else 5
        roles = [Role.SECRETARY, Role.DEPUTY_SECRETARY] + [Role.COMMITTEE_MEMBER] * (size - 2)
        secretaries[cell.name] = appoint(cell, roles, candidates([cell.name]))[0]

    def ordinary(cell_name: str, **filters) -> Member:
        for m in rolls[cell_name]:
            if m.pk not in used and m.full_member_on and all(getattr(m, k) == v for k, v in filters.items()):
                used.add(m.pk)
                return m
        raise LookupError(cell_name)

    # The demo logins: before anything else picks them, an ordinary member and a ward committee member.
    member_demo = ordinary(FIRST_RESIDENTIAL_CELL, works_away=False)
    ward_demo = ordinary(AGENCY_CELL, works_away=False)

    def subtree_cells(unit_name: str) -> list[str]:
        path = units[unit_name].path
        return [c.name for c in cells if c.path.startswith(path)]

    secretary_roles = [Role.SECRETARY, Role.DEPUTY_SECRETARY]
    appoint(units[WARD], secretary_roles + [Role.COMMITTEE_MEMBER] * 2, candidates(subtree_cells(WARD)))
    appoint(units[WARD], [Role.COMMITTEE_MEMBER], [ward_demo])
    appoint(units[COMMUNE], secretary_roles + [Role.COMMITTEE_MEMBER] * 3, candidates(subtree_cells(COMMUNE)))
    company_heads = appoint(
        units[COMPANY], secretary_roles + [Role.COMMITTEE_MEMBER], candidates(subtree_cells(COMPANY))
    )
    bloc = units[COMPANY].parent
    services.position_add(
        unit=bloc, role=Role.COMMITTEE_MEMBER, start=office_start(company_heads[0]), member=company_heads[0], by=admin
    )
    staff = _login("bantochuc", password_hash, first_name="Ban Tổ chức Tỉnh ủy")
    services.position_add(unit=units[PROVINCE], role=Role.STAFF, start=TERM_START, user=staff, by=admin)

    # Exemptions (age, health), one suspension, one death: on members holding no office.
    def oldest(cell_names: list[str]) -> Member:
        pool = [m for name in cell_names for m in rolls[name] if m.pk not in used and m.full_member_on]
        member = min(pool, key=lambda m: m.birth_date)
        used.add(member.pk)
        return member

    for cell_name in (FIRST_RESIDENTIAL_CELL, "Chi bộ thôn Sơn Đình"):
        member = oldest([cell_name])
        start = min(add_months(member.birth_date, 70 * 12), today - datetime.timedelta(days=30))
        services.status_period_add(
            member=member, kind=StatusPeriod.Kind.EXEMPTED, start=start, reason="Tuổi cao (trên 70 tuổi)", by=admin
        )
    services.status_period_add(
        member=ordinary("Chi bộ Tổ dân phố 2"),
        kind=StatusPeriod.Kind.EXEMPTED,
        start=today - datetime.timedelta(days=120),
        end=today + datetime.timedelta(days=60),
        reason="Sức khỏe yếu, điều trị bệnh dài ngày",
        by=admin,
    )
    services.status_period_add(
        member=ordinary("Chi bộ thôn Đồng Bùa"),
        kind=StatusPeriod.Kind.EXEMPTED,
        start=datetime.date(2024, 3, 1),
        end=datetime.date(2024, 8, 31),
        reason="Phẫu thuật, điều dưỡng sau mổ",
        by=admin,
    )
    services.status_period_add(
        member=ordinary("Chi bộ Xí nghiệp Vệ sinh môi trường số 1"),
        kind=StatusPeriod.Kind.SUSPENDED,
        start=today - datetime.timedelta(days=30),
        end=today + datetime.timedelta(days=59),
        reason="Đình chỉ sinh hoạt đảng trong thời gian xem xét kỷ luật",
        by=admin,
    )
    services.member_end(
        member=oldest(["Chi bộ Tổ dân phố 2"]),
        on=today - datetime.timedelta(days=70),
        reason=Member.EndReason.DIED,
        by=admin,
    )

    # Transfers: three accepted (the receiving roll starts on acceptance, today), one still pending.
    moves = [
        ("Chi bộ Tổ dân phố 2", FIRST_RESIDENTIAL_CELL, 40, "Chuyển nơi cư trú"),
        ("Chi bộ Trường THCS Tam Đảo", AGENCY_CELL, 25, "Điều động công tác"),
        ("Chi bộ Xí nghiệp Vệ sinh môi trường số 1", "Chi bộ Phòng Kỹ thuật – Kế hoạch", 60, "Điều động công tác"),
        ("Chi bộ thôn Đồng Bùa", "Chi bộ Tổ dân phố 2", 5, "Chuyển nơi cư trú"),
    ]
    for n, (from_name, to_name, days_ago, reason) in enumerate(moves):
        to_cell = units[to_name]
        transfer = services.transfer_out(
            member=ordinary(from_name),
            to_cell=to_cell,
            date=today - datetime.timedelta(days=days_ago),
            reason=reason,
            by=admin,
        )
        if n < 3:
            group = groups.get(to_cell.pk, [None])[0]
            services.transfer_accept(transfer=transfer, group=group, by=admin)

    # Working on a site in another commune: attends that cell for a while (no service for this yet).
    attachment = TemporaryAttachment(
        member=ordinary("Chi bộ Công ty TNHH Cơ khí Phúc Yên"),
        cell=units["Chi bộ thôn Sơn Đình"],
        start=today - datetime.timedelta(days=60),
        end=today + datetime.timedelta(days=120),
        note="Thi công công trình tại xã Đại Đình",
    )
    attachment.full_clean()
    attachment.save()

    _login("bithu", password_hash, secretaries[FIRST_RESIDENTIAL_CELL])
    _login("dangvien", password_hash, member_demo)
    _login("capuy", password_hash, ward_demo)
    members = sum(len(roll) for roll in rolls.values())
    stdout.write(f"Members: {members} on {len(rolls)} cells, logins: {', '.join(DEMO_USERNAMES)}.\n")


def demo_logins() -> list[tuple[str, str]]:
    """(username, what the login can do) for the demo logins present in the database."""
    today = timezone.localdate()
    rows = []
    for user in User.objects.filter(username__in=DEMO_USERNAMES):
        member = Member.objects.filter(user=user).first()
        holder = Q(user=user) | Q(member=member) if member else Q(user=user)
        what = [
            f"{p.get_role_display()}, {p.unit.display_name}"
            for p in Position.objects.filter(holder, Position.active_on(today)).select_related("unit")
        ]
        if member:
            cells = Membership.objects.filter(Membership.active_on(today), member=member).select_related("cell")
            what += [f"member of {m.cell.name} ({member.full_name})" for m in cells]
        if user.is_superuser:
            what.append("system administrator (Django admin)")
        rows.append((user.username, "; ".join(what)))
    rows.sort(key=lambda row: DEMO_USERNAMES.index(row[0]))
    return rows
