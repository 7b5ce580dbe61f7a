"""Resident identity numbers (居民身份证号码, GB 11643-1999): structure and check digit."""
from __future__ import annotations

import re
from datetime import date

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
_SHAPE = re.compile(r"^[1-9][0-9]{16}[0-9X]$")  # ASCII only: Python's \d matches every script's digits
# full-width digits and X, as Chinese input methods type them, are the same characters
_FULL_WIDTH = str.maketrans("０１２３４５６７８９Ｘｘx", "0123456789XXX")


def normalise_id_number(text: str) -> str:
    """Trimmed, full-width digits and X made ASCII, x made X; other characters left as typed
    (so that a digit of another script is refused, not silently read)."""
    return (text or "").strip().translate(_FULL_WIDTH).upper()


def has_foreign_digits(text: str) -> bool:
    """True when ``text`` holds a decimal digit that is not ASCII 0–9 (Arabic-Indic, Devanagari …)."""
    return any(c.isdecimal() and not c.isascii() for c in text)


def check_digit(first17: str) -> str:
    """The 18th character for the 17 given digits (ISO 7064 MOD 11-2)."""
    total = sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True))
    return _CHECK[total % 11]


def birth_date(number: str) -> date | None:
    """The birth date encoded in positions 7–14, or None when it is not a real date."""
    try:
        return date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return None


def is_valid_resident_id(number: str) -> bool:
    """True for an 18-character number with a real birth date and the right check digit."""
    number = normalise_id_number(number)
    return bool(_SHAPE.match(number)) and birth_date(number) is not None and (
        check_digit(number[:17]) == number[17]
    )


def mask_resident_id(number: str) -> str:
    """Show the region code and last four only: 130102********1234."""
    return number[:6] + "*" * 8 + number[-4:] if len(number) == 18 else "*" * len(number)
