"""Resolutions URLs for someone of another cell (404) and for a read-only higher committee member (403)."""

import pytest
from django.urls import reverse

from tests.resolutions.scope import resolution_objects
from tests.test_url_scope import object_urls


def _names():
    return [name for name, _ in object_urls() if name.startswith("resolutions:")]


@pytest.mark.django_db
def test_every_draft_and_issuing_url_is_in_the_scope_objects(cast):
    from resolutions import urls_drafts, urls_issuing

    mine = {f"resolutions:{p.name}" for p in urls_drafts.urlpatterns + urls_issuing.urlpatterns}
    mine.discard("resolutions:home")  # takes no id
    known = resolution_objects(cast)
    assert mine <= set(known)
    assert mine <= set(_names())


@pytest.mark.django_db
def test_member_of_other_cell_gets_404_on_every_resolutions_url(cast, client):
    known = resolution_objects(cast)
    client.force_login(cast.outsider_user)
    for name in known:
        url = reverse(name, kwargs=known[name])
        assert client.get(url).status_code in (404, 405), f"GET {name}"
        assert client.post(url).status_code == 404, f"POST {name}"


WRITE_URLS = [
    "resolutions:draft_create",
    "resolutions:draft_edit",
    "resolutions:version_new",
    "resolutions:comments_open",
    "resolutions:comments_close",
    "resolutions:voting_start",
    "resolutions:voting_close",
    "resolutions:meeting_vote",
    "resolutions:issue",
    "resolutions:response",
]


@pytest.mark.django_db
def test_higher_committee_member_reads_but_gets_403_on_every_write(cast, client):
    known = resolution_objects(cast)
    client.force_login(cast.ward_user)
    for name in ("resolutions:draft", "resolutions:resolution", "resolutions:resolution_pdf", "resolutions:diff"):
        assert client.get(reverse(name, kwargs=known[name])).status_code == 200, name
    for name in WRITE_URLS:
        assert client.post(reverse(name, kwargs=known[name])).status_code == 403, name
