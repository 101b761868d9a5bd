"""Scale data, step 1 of `seed_demo --scale N`: a province-sized party tree, written in bulk.

One province → about N/25 commune/ward grassroots committees and up to four bloc committees
(enterprises, agencies, police, army) holding grassroots committees and grassroots cells → exactly
N cells of every type, about 15% split into two party groups; a term on every unit that issues
documents (two where the unit is older than the 2020–2025 term).

Rows go in with bulk_create and their audit history with simple_history's bulk helper ("bulk paths
keep history"); the derived columns that PartyUnit.save() computes (path, depth, search_name) are
set here. Later steps reuse bulk_insert() and new_uid().
"""

from __future__ import annotations

import datetime
import random
import time
import uuid
from collections import Counter
from typing import TextIO

from simple_history.utils import bulk_create_with_history

from cells.models import PATH_STEP, PartyUnit, Term, UnitSetting
from cells.seed import PROVINCE, TERM_NAME, TERM_START, UnitSpec
from cells.text import fold

Kind = PartyUnit.Kind
UnitType = PartyUnit.UnitType

PREVIOUS_TERM = ("2020–2025", datetime.date(2020, 7, 1), datetime.date(2025, 6, 30))
HISTORY_REASON = "seed_demo --scale"
BATCH_SIZE = 1000  # rows per INSERT statement
CHUNK = 10_000  # rows per progress line

PLACES = (
    "Tam Đảo Đại Đình Hợp Châu Minh Quang Đạo Trù Bồ Lý Yên Dương Tam Quan Hồ Sơn Liên Bảo Khai Quang Đồng Tâm "
    "Hội Hợp Tích Sơn Định Trung Thanh Trù Hương Canh Gia Khánh Thanh Lãng Đạo Đức Tam Hợp Bá Hiến Thiện Kế "
    "Sơn Lôi Hợp Thịnh Kim Long Hoàng An Đạo Tú Xuân Lôi Tiên Lữ Sơn Đông Thái Hòa Liên Sơn Hải Lựu Tam Sơn "
    "Đức Bác Tề Lỗ Đồng Văn Nguyệt Đức Liên Châu Tứ Trưng Thổ Tang Vĩnh Hưng Đại Đồng Tân Tiến Chấn Hưng "
    "Bình Nguyên Vĩnh Phú Lý Nhân Bình Dương Vũ Di Vĩnh Thịnh Vĩnh Ninh Ngũ Kiên Yên Bình Tân Phong Kim Xá "
    "Yên Lập Phúc Thắng Tiền Châu Nam Viêm Trưng Nhị Quang Minh Tiền Phong Tam Phúc Tam Hồng Văn Quán Xuân Hòa "
    "Đồng Thịnh Ngọc Mỹ Quang Sơn Bắc Bình Liễn Sơn Thái Bình Đình Chu Triệu Đề Văn Tiến Hồng Châu Phú Đa "
    "Vân Xuân An Tường Cao Đại Tân Lập Trung Mỹ Phú Xuân Hướng Đạo Duy Phiên Hoàng Hoa Đông Thọ Nhân Đạo"
).split()
PLACES = [" ".join(PLACES[i : i + 2]) for i in range(0, len(PLACES), 2)]
VILLAGES = (
    "Sơn Đình Đồng Bùa Làng Hà Đồng Thanh Xuân Trường Đông Thành Tân Phú Hòa Bình Đồng Tâm Trung Mầu Yên Thịnh "
    "Phú Hậu Lạc Trung Nội Điện Gia Viễn Đồng Lạc Kim Ngọc Bảo Sơn Đại Lữ Tiên Hường Thượng Lạp Hạ Lôi "
    "Đông Mai Phù Liễn Cẩm Trạch Ngọc Bảo Yên Nội An Lão Quảng Cư Phú Thịnh Xuân Mai Lũng Ngoại Đạo Nội "
    "Văn Giang Hữu Bằng Tháp Miếu Bàn Mạch Nhật Tân Hạ Chuế Vĩnh Lại Đông Cường Tân Lương Thanh Giã"
).split()
VILLAGES = [" ".join(VILLAGES[i : i + 2]) for i in range(0, len(VILLAGES), 2)]
INDUSTRIES = (
    "Môi trường|Cấp thoát nước|Xây dựng|Cơ khí|May mặc|Gạch ngói|Vận tải|Dược phẩm|Thương mại|Du lịch|Lâm nghiệp|"
    "Thủy lợi|In|Bê tông|Nhựa|Điện tử|Phụ tùng ô tô|Thực phẩm|Vật liệu xây dựng|Giống cây trồng|Chăn nuôi|Cấp điện"
).split("|")
DEPARTMENTS = (
    "Nội vụ|Tài chính|Xây dựng|Nông nghiệp và Môi trường|Công Thương|Giáo dục và Đào tạo|Y tế|Tư pháp|"
    "Văn hóa, Thể thao và Du lịch|Khoa học và Công nghệ|Dân tộc và Tôn giáo|Ngoại vụ"
).split("|")
OFFICES = ["Văn phòng", "Thanh tra", "Phòng Kế hoạch – Tài chính", "Phòng Tổ chức cán bộ", "Phòng Pháp chế"]
WARDS_OF_HOSPITAL = [
    "Khoa Nội",
    "Khoa Ngoại",
    "Khoa Sản",
    "Khoa Nhi",
    "Khoa Khám bệnh",
    "Khoa Dược",
    "Phòng Điều dưỡng",
]
POLICE_DIVISIONS = (
    "Cảnh sát giao thông|Cảnh sát hình sự|An ninh kinh tế|Cảnh sát quản lý hành chính|Cảnh sát kinh tế|"
    "Cảnh sát phòng cháy, chữa cháy|Hậu cần|Tham mưu|An ninh đối ngoại|Cảnh sát môi trường"
).split("|")
ARMY_UNITS = ["Ban Tham mưu", "Ban Chính trị", "Ban Hậu cần – Kỹ thuật"]


def new_uid(rng: random.Random) -> uuid.UUID:
    """A version-4 UUID drawn from the seeded rng, so a scale seed is reproducible."""
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def _day(rng: random.Random, first_year: int, last_year: int) -> datetime.date:
    first, last = datetime.date(first_year, 1, 1), datetime.date(last_year, 12, 31)
    return first + datetime.timedelta(days=rng.randint(0, (last - first).days))


def _spread(rng: random.Random, total: int, parts: int, least: int) -> list[int]:
    """Split total into parts of at least `least` each, unevenly (some committees are twice others)."""
    counts = [least] * parts
    weights = [rng.uniform(0.5, 1.5) for _ in range(parts)]
    for i, n in Counter(rng.choices(range(parts), weights=weights, k=max(0, total - least * parts))).items():
        counts[i] += n
    return counts


def _names(rng: random.Random, pool: list[str], k: int) -> list[str]:
    """k distinct names from a pool, numbered once the pool runs out."""
    names = rng.sample(pool, min(k, len(pool)))
    return names + [f"{pool[i % len(pool)]} {i // len(pool) + 1}" for i in range(len(names), k)]


def _cell(name: str, unit_type: str, founded: datetime.date, place: str) -> UnitSpec:
    return UnitSpec(name, Kind.CELL, founded, place, unit_type)


def _commune(rng: random.Random, place: str, ward: bool, cells: int) -> UnitSpec:
    level = "phường" if ward else "xã"
    old = lambda: _day(rng, 1976, 2015)  # noqa: E731
    # Every commune has its agency, police and school cells; larger ones the rest of the list.
    institutions = [
        (f"Chi bộ Cơ quan Ủy ban nhân dân {level}", UnitType.STATE_AGENCY, TERM_START),
        (f"Chi bộ Công an {level} {place}", UnitType.POLICE, _day(rng, 2019, 2020)),
        (f"Chi bộ Trường Tiểu học {place}", UnitType.PUBLIC_SERVICE, old()),
        (f"Chi bộ Quân sự {level} {place}", UnitType.ARMY, old()),
        (
            f"Chi bộ Ban Quản lý chợ {place}" if ward else f"Chi bộ Hợp tác xã Nông nghiệp {place}",
            UnitType.OTHER,
            old(),
        ),
        (f"Chi bộ Trạm Y tế {level} {place}", UnitType.PUBLIC_SERVICE, old()),
        (f"Chi bộ Trường THCS {place}", UnitType.PUBLIC_SERVICE, old()),
        (f"Chi bộ Công ty TNHH {rng.choice(INDUSTRIES)} {place}", UnitType.PRIVATE_ENTERPRISE, _day(rng, 2005, 2020)),
        (f"Chi bộ Trường Mầm non {place}", UnitType.PUBLIC_SERVICE, old()),
    ]
    institutions = institutions[: min(len(institutions), cells // 3 + 1)]
    residential = cells - len(institutions)
    if ward:
        homes = [f"Chi bộ Tổ dân phố {n}" for n in range(1, residential + 1)]
    else:
        homes = [f"Chi bộ thôn {name}" for name in _names(rng, VILLAGES, residential)]
    children = [_cell(name, UnitType.RESIDENTIAL, old(), place) for name in homes]
    children += [_cell(name, unit_type, founded, place) for name, unit_type, founded in institutions]
    return UnitSpec(
        f"Đảng bộ {level} {place}",
        Kind.GRASSROOTS_COMMITTEE,
        TERM_START,  # commune-level committees were formed on 1/7/2025 (Quy định 294-QĐ/TW)
        place,
        short_name=f"Đảng ủy {level} {place}",
        children=children,
    )


def _enterprise(rng, n):
    industry, place = rng.choice(INDUSTRIES), rng.choice(PLACES)
    committee = (f"Đảng bộ Công ty CP {industry} {place}", UnitType.STATE_ENTERPRISE)
    units = ["Văn phòng Công ty", "Phòng Kế toán – Tài vụ", "Phòng Kỹ thuật – Kế hoạch"]
    units += [f"Xí nghiệp số {k}" for k in range(1, 12)]
    # Two in three grassroots company cells are private (so even a small tree has one).
    form, own = ("CP", UnitType.STATE_ENTERPRISE) if n % 3 == 0 else ("TNHH", UnitType.PRIVATE_ENTERPRISE)
    return committee, units, UnitType.STATE_ENTERPRISE, (f"Công ty {form} {industry} {place}", own)


def _agency(rng, n):
    if n % 3:
        department = DEPARTMENTS[n % len(DEPARTMENTS)]
        committee = (f"Đảng bộ Sở {department}" + (f" ({n})" if n > len(DEPARTMENTS) else ""), UnitType.STATE_AGENCY)
        units, unit_type = OFFICES + [f"Phòng Nghiệp vụ {k}" for k in range(1, 8)], UnitType.STATE_AGENCY
    else:
        committee = (f"Đảng bộ Bệnh viện Đa khoa {rng.choice(PLACES)}", UnitType.PUBLIC_SERVICE)
        units, unit_type = WARDS_OF_HOSPITAL + ["Khoa Hồi sức cấp cứu", "Khoa Xét nghiệm"], UnitType.PUBLIC_SERVICE
    return committee, units, unit_type, (f"Trường THPT {rng.choice(PLACES)}", UnitType.PUBLIC_SERVICE)


def _police(rng, n):
    division = POLICE_DIVISIONS[n % len(POLICE_DIVISIONS)]
    committee = (f"Đảng bộ Phòng {division}" + (f" ({n})" if n > len(POLICE_DIVISIONS) else ""), UnitType.POLICE)
    return (
        committee,
        [f"Đội {k}" for k in range(1, 12)],
        UnitType.POLICE,
        (f"Đội Cảnh sát cơ động số {n}", UnitType.POLICE),
    )


def _army(rng, n):
    committee = (f"Đảng bộ Ban Chỉ huy Phòng thủ khu vực {n}", UnitType.ARMY)
    units = ARMY_UNITS + [f"Đại đội {k}" for k in range(1, 10)]
    return committee, units, UnitType.ARMY, (f"Kho K{n}", UnitType.ARMY)


# (name, short name, founded, maker of its grassroots organisations)
BLOCS = [
    ("Đảng bộ Khối Doanh nghiệp tỉnh", "Đảng ủy Khối Doanh nghiệp", datetime.date(2006, 8, 1), _enterprise),
    ("Đảng bộ Khối các cơ quan tỉnh", "Đảng ủy Khối các cơ quan", datetime.date(2006, 8, 1), _agency),
    ("Đảng bộ Công an tỉnh", "Đảng ủy Công an tỉnh", datetime.date(1997, 1, 1), _police),
    ("Đảng bộ Quân sự tỉnh", "Đảng ủy Quân sự tỉnh", datetime.date(1997, 1, 1), _army),
]

BLOC_SHARES = [0.35, 0.35, 0.18, 0.12]


def _bloc(rng: random.Random, index: int, cells: int) -> UnitSpec:
    name, short_name, founded, make = BLOCS[index]
    children: list[UnitSpec] = []
    # Two thirds of the cells sit in grassroots committees of 3–8 cells, the rest are grassroots cells.
    in_committees, n = round(cells * 2 / 3), 0
    while in_committees > 0:
        n += 1
        size = min(in_committees, rng.randint(3, 8))
        if 0 < in_committees - size < 3:
            size = in_committees
        in_committees -= size
        (committee_name, committee_type), units, unit_type, _ = make(rng, n)
        since = _day(rng, 1990, 2015)
        committee = UnitSpec(committee_name, Kind.GRASSROOTS_COMMITTEE, since, "Vĩnh Yên", committee_type)
        committee.children = [_cell(f"Chi bộ {unit}", unit_type, since, "Vĩnh Yên") for unit in units[:size]]
        children.append(committee)
    for _ in range(cells - sum(len(c.children) for c in children)):
        n += 1
        cell_name, cell_type = make(rng, n)[3]
        children.append(_cell(f"Chi bộ {cell_name}", cell_type, _day(rng, 1995, 2020), "Vĩnh Yên"))
    return UnitSpec(name, Kind.COMMITTEE, founded, "Vĩnh Yên", short_name=short_name, children=children)


def plan(rng: random.Random, scale: int) -> UnitSpec:
    """The tree of a province with `scale` cells, as UnitSpecs (nothing written yet)."""
    committees = max(2, round(scale / 25))
    blocs = min(len(BLOCS), max(1, round(committees / 20)))
    # Enterprises and agencies hold most of the blocs' cells, then police and army.
    shares = BLOC_SHARES[:blocs]
    bloc_cells = [max(3, round(scale * 0.3 * share / sum(shares))) for share in shares]
    commune_cells = _spread(rng, scale - sum(bloc_cells), committees - blocs, 3)
    places = _names(rng, PLACES, len(commune_cells))
    children = [
        _commune(rng, place, i % 3 == 0, n) for i, (place, n) in enumerate(zip(places, commune_cells, strict=True))
    ]
    children += [_bloc(rng, i, n) for i, n in enumerate(bloc_cells)]
    root = UnitSpec(PROVINCE, Kind.COMMITTEE, datetime.date(1997, 1, 1), "Vĩnh Yên", short_name="Tỉnh ủy Vĩnh Phúc")
    root.children = children
    cells = [cell for spec in _walk(root) for cell in spec.children if cell.kind == Kind.CELL]
    for i, cell in enumerate(cells):
        # About 15% of cells are split into two party groups; always the first (the demo logins' cell).
        if i == 0 or rng.random() < 0.15:
            cell.children = [
                UnitSpec(f"Tổ đảng số {k}", Kind.GROUP, cell.founded, cell.place, cell.unit_type) for k in (1, 2)
            ]
    return root


def _walk(spec: UnitSpec):
    yield spec
    for child in spec.children:
        yield from _walk(child)


def bulk_insert(stdout: TextIO, label: str, model, objs: list, *, history: bool = True) -> list:
    """Insert rows in batches (with their audit history), printing progress; returns them with pks."""
    started, total = time.perf_counter(), len(objs)
    for done in range(0, total, CHUNK):
        part = objs[done : done + CHUNK]
        if history:
            bulk_create_with_history(part, model, batch_size=BATCH_SIZE, default_change_reason=HISTORY_REASON)
        else:
            model._default_manager.bulk_create(part, batch_size=BATCH_SIZE)
        if total > CHUNK:
            end = done + len(part)
            stdout.write(f"  {label}: {end:,}/{total:,} ({end * 100 // total}%)")
            stdout.flush()
    what = f"{total:,} + history ({total * 2:,} rows)" if history else f"{total:,} rows"
    stdout.write(f"  {label}: {what} in {time.perf_counter() - started:.1f} s")
    return objs


def seed(stdout: TextIO, rng: random.Random, scale: int) -> None:
    root = plan(rng, scale)
    # Insert level by level: a level's parent ids exist once the level above is in.
    level: list[tuple[UnitSpec, PartyUnit | None]] = [(root, None)]
    units: list[PartyUnit] = []
    while level:
        rows = []
        for spec, parent in level:
            uid = new_uid(rng)
            path = (parent.path if parent else "") + f"{uid.hex[:PATH_STEP]}."
            rows.append(
                PartyUnit(
                    uid=uid,
                    kind=spec.kind,
                    unit_type=spec.unit_type,
                    # A cell directly under a (non-grassroots) committee is a grassroots cell (chi bộ cơ sở).
                    is_grassroots=spec.kind == Kind.CELL and parent is not None and parent.kind == Kind.COMMITTEE,
                    name=spec.name,
                    short_name=spec.short_name,
                    document_symbol="" if spec.kind == Kind.GROUP else ("CB" if spec.kind == Kind.CELL else "ĐU"),
                    place_name=spec.place,
                    founded_on=spec.founded,
                    parent=parent,
                    path=path,
                    depth=path.count(".") - 1,
                    search_name=fold(spec.name),
                )
            )
        bulk_insert(stdout, f"units at depth {rows[0].depth}", PartyUnit, rows)
        units += rows
        level = [(child, unit) for (spec, _), unit in zip(level, rows, strict=True) for child in spec.children]

    # Documents are numbered per term: every unit that issues them has the current one, older units the last.
    previous_name, previous_start, previous_end = PREVIOUS_TERM
    terms = []
    for unit in units:
        if unit.kind == Kind.GROUP:
            continue
        if unit.founded_on <= previous_start:
            terms.append(Term(unit=unit, name=previous_name, start=previous_start, end=previous_end))
        terms.append(Term(unit=unit, name=TERM_NAME, start=TERM_START))
    bulk_insert(stdout, "terms", Term, terms)
    # The province raised its attendance target to 90% (as in the demo).
    setting = UnitSetting(unit=units[0], key="attendance_warning_percent", value=90)
    setting.full_clean()
    setting.save()

    kinds = Counter(unit.kind for unit in units)
    stdout.write(
        f"Party tree: {len(units):,} units ({kinds[Kind.COMMITTEE]} committees, "
        f"{kinds[Kind.GRASSROOTS_COMMITTEE]} grassroots committees, {kinds[Kind.CELL]:,} cells, "
        f"{kinds[Kind.GROUP]} groups), {len(terms):,} terms."
    )
