"""A draft's text reaches other members' browsers: no script, event attribute or javascript: URL
survives the Markdown renderer and nh3, whatever the author typed; sections keep stable keys."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from resolutions import text
from resolutions.services import drafts

ATTACKS = [
    "<script>alert('xss')</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    '<img src="x" onerror="alert(1)">',
    '<a href="javascript:alert(1)">bấm</a>',
    '<a href="JaVaScRiPt:alert(1)">bấm</a>',
    '<a href="jav&#x09;ascript:alert(1)">bấm</a>',
    '<a href="&#106;avascript:alert(1)">bấm</a>',
    "[bấm vào đây](javascript:alert(1))",
    "[bấm](  javascript:alert(document.cookie) )",
    '<div onclick="alert(1)" onmouseover="alert(2)">khối</div>',
    '<p style="background:url(javascript:alert(1))" onload="x()">đoạn</p>',
    '<iframe src="https://evil.example"></iframe>',
    "<svg onload=alert(1)><circle/></svg>",
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">dữ liệu</a>',
    "<style>body{display:none}</style>",
    '<form action="https://evil.example"><input name="x"></form>',
    '<object data="x.swf"></object><embed src="x.swf">',
]


@pytest.mark.parametrize("attack", ATTACKS)
def test_sanitiser_strips_scripts_event_attributes_and_javascript_links(attack):
    html = str(text.render_markdown(f"Nội dung trước\n\n{attack}\n\nNội dung sau")).lower()
    assert "<script" not in html
    assert "javascript:" not in html
    assert "data:text" not in html
    assert " on" not in html.replace("nội dung", "")  # no onerror=, onclick=, onload= …
    for tag in ("<iframe", "<svg", "<style", "<form", "<input", "<object", "<embed", "<img"):
        assert tag not in html
    assert "nội dung trước" in html and "nội dung sau" in html


def test_markdown_keeps_the_formatting_a_resolution_needs():
    html = str(
        text.render_markdown("**Đậm** và *nghiêng*\n\n1. một\n2. hai\n\n- gạch\n\n[web](https://dangcongsan.vn)")
    )
    assert "<strong>Đậm</strong>" in html and "<em>nghiêng</em>" in html
    assert "<ol>" in html and "<ul>" in html
    assert 'href="https://dangcongsan.vn"' in html and 'rel="noopener noreferrer nofollow"' in html


def test_heading_text_is_never_rendered_as_html():
    _, sections = text.assign_keys("## <img src=x onerror=alert(1)> Mục I\nNội dung\n")
    assert sections[0].heading == "<img src=x onerror=alert(1)> Mục I"  # shown escaped by the templates


@pytest.mark.django_db
def test_the_draft_page_shows_no_script_from_the_text_or_a_comment(cast, client_for, make_draft):
    body = '## I. Mục {#muc}\n<script>alert(\'body\')</script><a href="javascript:alert(2)" onclick="x()">a</a>\n'
    draft = make_draft(title="<script>alert('title')</script>", body=body)
    drafts.comments_open(draft=draft, deadline=timezone.now() + datetime.timedelta(days=1), by=cast.secretary_user)
    drafts.comment_add(draft=draft, member=cast.member, text_="<script>alert('comment')</script>", by=cast.member_user)
    page = client_for(cast.member_user).get(reverse("resolutions:draft", args=[draft.uid])).content.decode()
    assert "alert('body')" not in page
    assert "<script>alert(" not in page
    assert "&lt;script&gt;alert(&#x27;title&#x27;)" in page
    assert "&lt;script&gt;alert(&#x27;comment&#x27;)" in page
    assert "javascript:alert" not in page and 'onclick="x()"' not in page


# --- Sections ------------------------------------------------------------------------------------------


def test_headings_without_an_anchor_get_a_key_written_into_the_body():
    body, sections = text.assign_keys(
        "Căn cứ Điều lệ;\n\n## I. Đánh giá tình hình\nTốt.\n\n## II. Nhiệm vụ {#nv}\nLàm.\n"
    )
    assert [s.key for s in sections] == ["mo-dau", "i-danh-gia-tinh-hinh", "nv"]
    assert "## I. Đánh giá tình hình {#i-danh-gia-tinh-hinh}" in body
    assert text.assign_keys(body)[0] == body  # stable: a second pass changes nothing


def test_a_renamed_heading_keeps_its_key_and_a_repeated_heading_gets_its_own():
    _, sections = text.assign_keys("## I. Kiểm điểm {#i-danh-gia}\nA\n## Nhiệm vụ\nB\n## Nhiệm vụ\nC\n")
    assert [s.key for s in sections] == ["i-danh-gia", "nhiem-vu", "nhiem-vu-2"]


def test_two_sections_with_one_anchor_are_refused():
    with pytest.raises(ValidationError):
        text.assign_keys("## A {#x}\n1\n## B {#x}\n2\n")


def test_headings_inside_fenced_code_are_text():
    sections = text.parse_sections("## A {#a}\n```\n## không phải mục\n```\n")
    assert [s.key for s in sections] == ["a"]


def test_the_diff_matches_sections_by_key_and_marks_words():
    old = text.parse_sections("## I. Đánh giá {#dg}\nHoàn thành tốt.\n## II. Cũ {#cu}\nBỏ đi.\n")
    new = text.parse_sections("## I. Kiểm điểm {#dg}\nHoàn thành rất tốt.\n## III. Mới {#moi}\nThêm.\n")
    by_key = {d.key: d for d in text.diff_sections(old, new)}
    assert by_key["dg"].state == "changed" and by_key["dg"].heading_old == "I. Đánh giá"
    changed = [line for line in by_key["dg"].lines if line.kind == "change"][0]
    assert ("insert", "rất ") in changed.segments or ("insert", " rất") in changed.segments
    assert by_key["cu"].state == "removed" and by_key["moi"].state == "added"
