from django.template import Context, Template

from meetings.templatetags.money import thousands, vnd


def test_vnd_groups_thousands_with_dots_and_keeps_the_sign_on_the_same_line():
    assert vnd(50_000) == "50.000\u00a0đ"
    assert vnd(1_250_000) == "1.250.000\u00a0đ"
    assert vnd(0) == "0\u00a0đ"
    assert vnd("12000") == "12.000\u00a0đ"


def test_not_a_number_shows_nothing_rather_than_a_wrong_amount():
    assert vnd(None) == "" and vnd("abc") == "" and thousands("") == ""


def test_years_printed_next_to_an_amount_are_not_grouped():
    html = Template("{% load money %}{{ month }}/{{ year }}: {{ amount|vnd }}").render(
        Context({"month": 3, "year": 2026, "amount": 10_000})
    )
    assert html == "3/2026: 10.000\u00a0đ"
