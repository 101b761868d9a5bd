"""Demo data, step 1 of seed_demo: a party tree shaped like Vĩnh Phúc's after the 2025 reform.

Province → commune/ward grassroots committees (no district level since 1/7/2025), plus the older
bloc shape (Khối Doanh nghiệp → a company's grassroots committee, and a grassroots cell directly
under the bloc). Cells of every type the dashboards compare, two of them split into party groups.
"""

from __future__ import annotations

import datetime
import random
from dataclasses import dataclass, field
from typing import TextIO

from cells.models import PartyUnit, Term, UnitSetting

Kind = PartyUnit.Kind
UnitType = PartyUnit.UnitType

TERM_NAME = "2025–2030"
TERM_START = datetime.date(2025, 7, 1)

PROVINCE = "Đảng bộ tỉnh Vĩnh Phúc"
WARD = "Đảng bộ phường Tam Đảo"
COMMUNE = "Đảng bộ xã Đại Đình"
COMPANY = "Đảng bộ Công ty CP Môi trường Vĩnh Phúc"
# The demo logins (members.seed) live in this cell and its grassroots committee.
FIRST_RESIDENTIAL_CELL = "Chi bộ Tổ dân phố 1"


@dataclass
class UnitSpec:
    name: str
    kind: str
    founded: datetime.date
    place: str
    unit_type: str = UnitType.OTHER
    short_name: str = ""
    children: list[UnitSpec] = field(default_factory=list)


def _cell(name: str, unit_type: str, founded: datetime.date, place: str, groups: int = 0) -> UnitSpec:
    children = [UnitSpec(f"Tổ đảng số {n}", Kind.GROUP, founded, place, unit_type) for n in range(1, groups + 1)]
    return UnitSpec(name, Kind.CELL, founded, place, unit_type, children=children)


D = datetime.date
TREE = UnitSpec(
    PROVINCE,
    Kind.COMMITTEE,
    D(1997, 1, 1),  # the province was re-established on 1/1/1997
    "Vĩnh Yên",
    short_name="Tỉnh ủy Vĩnh Phúc",
    children=[
        UnitSpec(
            WARD,
            Kind.GRASSROOTS_COMMITTEE,
            TERM_START,  # commune-level committees were formed on 1/7/2025 (Quy định 294-QĐ/TW)
            "Tam Đảo",
            short_name="Đảng ủy phường Tam Đảo",
            children=[
                _cell(FIRST_RESIDENTIAL_CELL, UnitType.RESIDENTIAL, D(1998, 3, 3), "Tam Đảo", groups=2),
                _cell("Chi bộ Tổ dân phố 2", UnitType.RESIDENTIAL, D(1998, 3, 3), "Tam Đảo"),
                _cell("Chi bộ Trường THCS Tam Đảo", UnitType.PUBLIC_SERVICE, D(2003, 9, 5), "Tam Đảo"),
                _cell("Chi bộ Cơ quan Ủy ban nhân dân phường", UnitType.STATE_AGENCY, TERM_START, "Tam Đảo"),
                _cell("Chi bộ Công an phường Tam Đảo", UnitType.POLICE, D(2019, 1, 15), "Tam Đảo"),
            ],
        ),
        UnitSpec(
            COMMUNE,
            Kind.GRASSROOTS_COMMITTEE,
            TERM_START,
            "Đại Đình",
            short_name="Đảng ủy xã Đại Đình",
            children=[
                _cell("Chi bộ thôn Sơn Đình", UnitType.RESIDENTIAL, D(1997, 6, 12), "Đại Đình", groups=2),
                _cell("Chi bộ thôn Đồng Bùa", UnitType.RESIDENTIAL, D(1997, 6, 12), "Đại Đình"),
                _cell("Chi bộ Trạm Y tế xã Đại Đình", UnitType.PUBLIC_SERVICE, D(2008, 4, 20), "Đại Đình"),
                _cell("Chi bộ Quân sự xã Đại Đình", UnitType.ARMY, D(2005, 12, 22), "Đại Đình"),
                _cell("Chi bộ Công ty TNHH Du lịch Tây Thiên", UnitType.PRIVATE_ENTERPRISE, D(2016, 5, 19), "Đại Đình"),
            ],
        ),
        UnitSpec(
            "Đảng bộ Khối Doanh nghiệp tỉnh",
            Kind.COMMITTEE,
            D(2006, 8, 1),
            "Vĩnh Yên",
            short_name="Đảng ủy Khối Doanh nghiệp",
            children=[
                UnitSpec(
                    COMPANY,
                    Kind.GRASSROOTS_COMMITTEE,
                    D(2007, 2, 3),
                    "Vĩnh Yên",
                    UnitType.STATE_ENTERPRISE,
                    short_name="Đảng ủy Công ty Môi trường",
                    children=[
                        _cell(
                            "Chi bộ Xí nghiệp Vệ sinh môi trường số 1",
                            UnitType.STATE_ENTERPRISE,
                            D(2007, 2, 3),
                            "Vĩnh Yên",
                        ),
                        _cell("Chi bộ Phòng Kỹ thuật – Kế hoạch", UnitType.STATE_ENTERPRISE, D(2007, 2, 3), "Vĩnh Yên"),
                    ],
                ),
                # A grassroots cell (chi bộ cơ sở) directly under the bloc committee.
                _cell("Chi bộ Công ty TNHH Cơ khí Phúc Yên", UnitType.PRIVATE_ENTERPRISE, D(2012, 10, 10), "Phúc Yên"),
            ],
        ),
    ],
)


def _create(spec: UnitSpec, parent: PartyUnit | None, created: list[PartyUnit]) -> None:
    unit = PartyUnit(
        kind=spec.kind,
        unit_type=spec.unit_type,
        name=spec.name,
        short_name=spec.short_name,
        document_symbol="" if spec.kind == Kind.GROUP else ("CB" if spec.kind == Kind.CELL else "ĐU"),
        place_name=spec.place,
        founded_on=spec.founded,
        parent=parent,
    )
    unit.full_clean()
    unit.save()
    created.append(unit)
    if spec.kind != Kind.GROUP:
        # Documents are numbered per term, so every unit that issues them needs one.
        term = Term(unit=unit, name=TERM_NAME, start=TERM_START)
        term.full_clean()
        term.save()
    for child in spec.children:
        _create(child, unit, created)


def seed(stdout: TextIO, rng: random.Random) -> None:
    created: list[PartyUnit] = []
    _create(TREE, None, created)
    # The province raised its attendance target to 90% (DOMAIN.md "Targets from practice").
    setting = UnitSetting(unit=created[0], key="attendance_warning_percent", value=90)
    setting.full_clean()
    setting.save()
    cells = sum(unit.kind == Kind.CELL for unit in created)
    stdout.write(f"Party tree: {len(created)} units, {cells} of them cells.\n")
