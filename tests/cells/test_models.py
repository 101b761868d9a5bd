import datetime

import pytest
from django.core.exceptions import ValidationError

from cells.models import PartyUnit, Term, UnitSetting
from cells.text import fold, nfc
from cells.tree_settings import DEFAULTS, get_setting, settings_for
from tests.factories import UnitFactory


def test_fold_strips_accents_and_maps_d_with_stroke():
    assert fold("Nguyễn Thị Hằng") == "nguyen thi hang"
    assert fold("ĐẶNG Đức") == "dang duc"


def test_nfc_joins_decomposed_text_and_spaces():
    decomposed = "Nguye\u0302\u0303n  Thi\u0323 "
    assert nfc(decomposed) == "Nguyễn Thị"


def test_path_prefix_gives_the_subtree(cast):
    assert set(cast.ward.subtree()) == {cast.ward, cast.cell_a, cast.cell_b, cast.group_a}
    assert list(cast.group_a.ancestors()) == [cast.province, cast.ward, cast.cell_a, cast.group_a]
    assert cast.group_a.depth == 3


def test_moving_a_unit_moves_its_whole_subtree(cast):
    other_ward = UnitFactory(kind=PartyUnit.Kind.COMMITTEE, name="Đảng bộ xã Đại Đình", parent=cast.province)
    cast.cell_a.parent = other_ward
    cast.cell_a.full_clean()
    cast.cell_a.save()
    cast.group_a.refresh_from_db()
    assert cast.group_a.path.startswith(other_ward.path)
    assert set(other_ward.subtree()) == {other_ward, cast.cell_a, cast.group_a}
    assert cast.group_a not in cast.ward.subtree()


def test_a_unit_cannot_move_under_its_own_descendant(cast):
    cast.ward.parent = cast.cell_a
    with pytest.raises(ValidationError) as exc:
        cast.ward.full_clean()
    assert "parent" in exc.value.error_dict


@pytest.mark.parametrize(
    ("kind", "parent_attr"),
    [("group", "ward"), ("cell", "group_a"), ("committee", "cell_a"), ("group", None)],
)
def test_impossible_parents_are_rejected(cast, kind, parent_attr):
    unit = PartyUnit(kind=kind, name="X", parent=getattr(cast, parent_attr) if parent_attr else None)
    with pytest.raises(ValidationError):
        unit.full_clean()


def test_dissolved_before_founded_is_rejected(cast):
    unit = PartyUnit(
        kind="cell",
        name="X",
        parent=cast.ward,
        founded_on=datetime.date(2020, 1, 1),
        dissolved_on=datetime.date(2019, 1, 1),
    )
    with pytest.raises(ValidationError):
        unit.full_clean()


def test_unit_is_active_between_its_dates():
    unit = PartyUnit(founded_on=datetime.date(2020, 1, 1), dissolved_on=datetime.date(2025, 6, 30))
    assert unit.is_active_on(datetime.date(2025, 6, 30))
    assert not unit.is_active_on(datetime.date(2025, 7, 1))
    assert not unit.is_active_on(datetime.date(2019, 12, 31))


def test_settings_are_inherited_down_the_tree_and_overridden_nearer(cast):
    assert get_setting(cast.cell_a, "attendance_warning_percent") == DEFAULTS["attendance_warning_percent"]
    UnitSetting.objects.create(unit=cast.province, key="attendance_warning_percent", value=80)
    assert get_setting(cast.cell_a, "attendance_warning_percent") == 80
    UnitSetting.objects.create(unit=cast.ward, key="attendance_warning_percent", value=90)
    assert get_setting(cast.cell_a, "attendance_warning_percent") == 90
    assert get_setting(cast.province, "attendance_warning_percent") == 80
    assert settings_for(cast.group_a)["attendance_warning_percent"] == 90


def test_unknown_or_mistyped_setting_is_rejected(cast):
    with pytest.raises(ValidationError):
        UnitSetting(unit=cast.ward, key="nope", value=1).full_clean()
    with pytest.raises(ValidationError):
        UnitSetting(unit=cast.ward, key="attendance_warning_percent", value="90").full_clean()


def test_terms_of_a_unit_cannot_overlap(cast):
    Term.objects.create(
        unit=cast.cell_a, name="2020–2025", start=datetime.date(2020, 7, 1), end=datetime.date(2025, 6, 30)
    )
    Term(unit=cast.cell_a, name="2025–2030", start=datetime.date(2025, 7, 1)).full_clean()
    with pytest.raises(ValidationError):
        Term(unit=cast.cell_a, name="bad", start=datetime.date(2025, 1, 1)).full_clean()
    term = Term.objects.create(unit=cast.cell_a, name="2025–2030", start=datetime.date(2025, 7, 1))
    assert cast.cell_a.current_term(datetime.date(2026, 3, 1)) == term


def test_a_new_unit_gets_one_history_row_with_its_path(cast):
    unit = UnitFactory(kind=PartyUnit.Kind.CELL, name="Chi bộ mới", parent=cast.ward)
    rows = list(unit.history.all())
    assert len(rows) == 1 and rows[0].history_type == "+" and rows[0].path == unit.path
