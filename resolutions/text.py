"""A draft's text: sections with stable keys, Markdown rendered and sanitised, diffs between versions.

Sections: a line starting with `#` or `##` opens a section. Its key is the anchor written at the end
of the heading, `## II. Nhiệm vụ và giải pháp {#nhiem-vu}`; a heading without one gets a slug of its
text (unique in the draft) written into the stored body, so the key survives a renamed heading in the
next version. Text before the first heading is the preamble (key "mo-dau").

Rendering: Python-Markdown turns a section's body into HTML and nh3 (the Rust ammonia sanitiser)
keeps only an allow-list of tags and attributes, and only http(s)/mailto links: no script, style,
event attribute or javascript: URL reaches another member's browser, whatever the author typed.
Headings are never rendered from Markdown: templates print them escaped.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field

import markdown as markdown_lib
import nh3
from django.core.exceptions import ValidationError
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import slugify
from django.utils.translation import gettext as _

from cells.text import fold

PREAMBLE_KEY = "mo-dau"
KEY_MAX_LENGTH = 48
HEADING_RE = re.compile(r"^(#{1,2})[ \t]+(.*?)[ \t]*(?:\{#([A-Za-z0-9_-]+)\})?[ \t]*#*[ \t]*$")
FENCE_RE = re.compile(r"^[ \t]*(```|~~~)")

ALLOWED_TAGS = {
    "p", "br", "strong", "em", "b", "i", "u", "s", "sub", "sup", "code", "pre", "blockquote", "hr",
    "ul", "ol", "li", "h3", "h4", "h5", "h6", "table", "thead", "tbody", "tr", "th", "td", "a",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "th": {"colspan", "rowspan"}, "td": {"colspan", "rowspan"}}
ALLOWED_URL_SCHEMES = {"http", "https", "mailto"}


@dataclass
class Section:
    key: str
    heading: str  # empty for the preamble
    body: str
    order: int = 0


def parse_sections(body: str) -> list[Section]:
    """Split a body into sections; headings inside fenced code are text."""
    sections: list[Section] = []
    current = Section(PREAMBLE_KEY, "", "")
    lines: list[str] = []
    in_fence = False

    def flush():
        current.body = "\n".join(lines).strip("\n")
        if current.heading or current.body.strip():
            current.order = len(sections)
            sections.append(current)

    for line in body.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        if FENCE_RE.match(line):
            in_fence = not in_fence
        match = None if in_fence else HEADING_RE.match(line)
        if match and match.group(2).strip():
            flush()
            current, lines = Section(match.group(3) or "", match.group(2).strip(), ""), []
        else:
            lines.append(line)
    flush()
    return sections


def _slug(heading: str) -> str:
    return slugify(fold(heading))[:KEY_MAX_LENGTH].strip("-") or "muc"


def assign_keys(body: str) -> tuple[str, list[Section]]:
    """Give every heading without an anchor a key; return the body with the anchors written in."""
    sections = parse_sections(body)
    seen: set[str] = set()
    for section in sections:
        if not section.key:
            continue
        if section.key in seen or section.key == PREAMBLE_KEY and section.heading:
            raise ValidationError(
                _("Two sections have the same key {#%(key)s}; remove one of them to get a new key.")
                % {"key": section.key}
            )
        seen.add(section.key)
    for section in sections:
        if not section.key:
            base = _slug(section.heading)
            key, n = base, 2
            while key in seen or key == PREAMBLE_KEY:
                key, n = f"{base[: KEY_MAX_LENGTH - 4]}-{n}", n + 1
            section.key = key
            seen.add(key)
    return join_sections(sections), sections


def join_sections(sections: list[Section]) -> str:
    parts = []
    for section in sections:
        if section.heading:
            parts.append(f"## {section.heading} {{#{section.key}}}")
        if section.body.strip():
            parts.append(section.body.strip("\n"))
        parts.append("")
    return "\n".join(parts).strip() + "\n"


def sanitise(html: str) -> str:
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=ALLOWED_URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )


def render_markdown(text: str) -> SafeString:
    """Markdown to HTML that is safe to show to any member (see the module docstring)."""
    html = markdown_lib.markdown(text or "", extensions=["tables", "sane_lists"], output_format="html")
    return mark_safe(sanitise(html))  # noqa: S308 - sanitised by nh3 just above


# --- Differences between two versions ---------------------------------------------------------------

TOKEN_RE = re.compile(r"\s+|[^\s]+")


@dataclass
class DiffLine:
    kind: str  # "equal", "insert", "delete", "change"
    segments: list[tuple[str, str]] = field(default_factory=list)  # (op, text): equal / insert / delete


@dataclass
class SectionDiff:
    key: str
    heading_old: str
    heading_new: str
    state: str  # "unchanged", "changed", "added", "removed"
    lines: list[DiffLine] = field(default_factory=list)

    @property
    def heading(self) -> str:
        return self.heading_new or self.heading_old


def _words(old: str, new: str) -> list[tuple[str, str]]:
    a, b = TOKEN_RE.findall(old), TOKEN_RE.findall(new)
    segments: list[tuple[str, str]] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            segments.append(("equal", "".join(a[i1:i2])))
        else:
            if i2 > i1:
                segments.append(("delete", "".join(a[i1:i2])))
            if j2 > j1:
                segments.append(("insert", "".join(b[j1:j2])))
    return segments


def diff_text(old: str, new: str) -> list[DiffLine]:
    """Line by line; a changed line shows the words taken out and put in."""
    a = old.split("\n") if old else []
    b = new.split("\n") if new else []
    out: list[DiffLine] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            out.extend(DiffLine("equal", [("equal", line)]) for line in a[i1:i2])
        elif op == "delete":
            out.extend(DiffLine("delete", [("delete", line)]) for line in a[i1:i2])
        elif op == "insert":
            out.extend(DiffLine("insert", [("insert", line)]) for line in b[j1:j2])
        else:
            pairs = max(i2 - i1, j2 - j1)
            for k in range(pairs):
                old_line = a[i1 + k] if i1 + k < i2 else None
                new_line = b[j1 + k] if j1 + k < j2 else None
                if old_line is None:
                    out.append(DiffLine("insert", [("insert", new_line)]))
                elif new_line is None:
                    out.append(DiffLine("delete", [("delete", old_line)]))
                else:
                    out.append(DiffLine("change", _words(old_line, new_line)))
    return out


def diff_sections(old: list[Section], new: list[Section]) -> list[SectionDiff]:
    """Sections matched by key, in the new version's order; removed ones after the one they followed."""
    old_by_key = {s.key: s for s in old}
    new_keys = {s.key for s in new}
    result: list[SectionDiff] = []
    for section in new:
        before = old_by_key.get(section.key)
        if before is None:
            result.append(SectionDiff(section.key, "", section.heading, "added", diff_text("", section.body)))
            continue
        same = before.body.strip() == section.body.strip() and before.heading == section.heading
        lines = diff_text(before.body.strip("\n"), section.body.strip("\n"))
        result.append(
            SectionDiff(section.key, before.heading, section.heading, "unchanged" if same else "changed", lines)
        )
    for index, section in enumerate(old):
        if section.key not in new_keys:
            previous = old[index - 1].key if index else None
            position = next((i + 1 for i, d in enumerate(result) if d.key == previous), 0)
            result.insert(
                position, SectionDiff(section.key, section.heading, "", "removed", diff_text(section.body, ""))
            )
    return result
