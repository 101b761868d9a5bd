"""Irreversible or destructive buttons of the meetings pages ask first (STYLE/brief: confirmation
before destructive actions)."""

from django.urls import reverse


def test_removing_an_agenda_item_asks_with_the_items_title(cast, client_for, schedule):
    meeting = schedule()
    item = meeting.agenda.get(order=2)
    html = client_for(cast.secretary_user).get(reverse("meetings:agenda", args=[meeting.uid])).content.decode()
    assert f'hx-confirm="Xóa mục “{item.title}” khỏi chương trình sinh hoạt?"' in html


def test_a_title_with_quotes_cannot_break_out_of_the_question(cast, client_for, schedule):
    from meetings import services

    meeting = schedule()
    services.agenda_item_add(meeting=meeting, title='Mục "đặc biệt" <b>', by=cast.secretary_user)
    html = client_for(cast.secretary_user).get(reverse("meetings:agenda", args=[meeting.uid])).content.decode()
    assert "Xóa mục “Mục &quot;đặc biệt&quot; &lt;b&gt;” khỏi" in html
