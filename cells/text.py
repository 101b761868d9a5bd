"""Vietnamese text helpers shared by every app (the lowest layer)."""

import unicodedata


def nfc(value: str) -> str:
    """Normalise to NFC and fold runs of white space: spreadsheets and some keyboards send NFD."""
    return " ".join(unicodedata.normalize("NFC", value or "").split())


def fold(value: str) -> str:
    """Lower-case, accent-free form for search: "Nguyễn Thị Hằng" -> "nguyen thi hang".

    NFD plus dropping combining marks leaves đ/Đ alone (a letter, not a mark): map it by hand.
    """
    decomposed = unicodedata.normalize("NFD", value or "")
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(stripped.replace("đ", "d").replace("Đ", "D").lower().split())
