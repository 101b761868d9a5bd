"""Vietnamese first: the interface, errors and dates; English on request; a complete catalogue."""

import re
from pathlib import Path

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

LOCALE = Path(settings.BASE_DIR) / "locale"


def test_sign_in_page_is_vietnamese_even_for_an_english_phone(client):
    body = client.get(reverse("members:login"), HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content.decode()
    assert 'lang="vi"' in body and "Đăng nhập" in body


def test_the_switch_shows_english(client):
    client.post(reverse("set_language"), {"language": "en", "next": "/login/"})
    body = client.get(reverse("members:login")).content.decode()
    assert 'lang="en"' in body and "Sign in" in body


def test_form_errors_are_in_vietnamese(cast, client_for):
    client = client_for(cast.secretary_user)
    response = client.post(
        reverse("members:create", args=[cast.cell_a.uid]),
        {
            "full_name": "Nguyễn Thị Hằng",
            "gender": "female",
            "birth_date": "1990-04-12",
            "admitted_on": "2015-05-19",
            "full_member_on": "2015-12-01",
            "joined_on": "2020-01-01",
        },
    )
    assert "12 tháng" in " ".join(response.context["form"].errors["full_member_on"])


def test_dates_are_written_the_vietnamese_way(cast, client_for):
    body = client_for(cast.secretary_user).get(reverse("members:detail", args=[cast.member.uid])).content.decode()
    assert "01/05/1980" in body  # the cast's date of birth, dd/mm/yyyy


def _unescape(value: str) -> str:
    return value.replace('\\"', '"').replace("\\n", "\n").replace("\\\\", "\\")


def parse_po(text: str) -> dict[str, str]:
    """msgid -> msgstr (msgstr[0] for plurals), unescaped; the header entry is left out."""
    entries: dict[str, str] = {}
    msgid = msgstr = None
    key = None
    for line in [*text.splitlines(), ""]:
        if line.startswith("msgid "):
            if msgid:
                entries[msgid] = msgstr
            msgid, msgstr, key = line[7:-1], "", "msgid"
        elif line.startswith("msgid_plural"):
            key = "plural"
        elif line.startswith(("msgstr ", "msgstr[0] ")):
            msgstr, key = line.split(" ", 1)[1][1:-1], "msgstr"
        elif line.startswith("msgstr["):
            key = "other"
        elif line.startswith('"') and key == "msgid":
            msgid += line[1:-1]
        elif line.startswith('"') and key == "msgstr":
            msgstr += line[1:-1]
    if msgid:
        entries[msgid] = msgstr
    return {_unescape(k): _unescape(v) for k, v in entries.items()}


def test_vietnamese_catalogue_is_complete_and_compiled():
    import gettext

    po = (LOCALE / "vi" / "LC_MESSAGES" / "django.po").read_text(encoding="utf-8")
    entries = parse_po(po)
    assert len(entries) > 300
    untranslated = [msgid for msgid, msgstr in entries.items() if not msgstr]
    assert not untranslated, untranslated[:5]
    assert "#, fuzzy" not in po.split("\n\n", 1)[1]
    for msgid, msgstr in entries.items():
        for placeholder in re.findall(r"%\(\w+\)[sd]", msgid):
            assert placeholder in msgstr, (msgid, msgstr)
    compiled = gettext.GNUTranslations(open(LOCALE / "vi" / "LC_MESSAGES" / "django.mo", "rb"))  # noqa: SIM115
    stale = [m for m in entries if "%(" not in m and compiled.gettext(m) == m and entries[m] != m]
    assert not stale, f"django.mo is older than django.po: {stale[:3]}"


def test_agenda_titles_are_stored_in_vietnamese_whatever_the_language(cast):
    from django.utils import translation

    from meetings import services

    with translation.override("en"):
        meeting = services.meeting_schedule(
            unit=cast.cell_a, kind="regular", scheduled_start=timezone.now(), place="Hội trường", by=cast.secretary_user
        )
    assert meeting.agenda.get(key="news").title.startswith("Thông tin")
