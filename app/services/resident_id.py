"""Resident identity numbers (居民身份证号码, GB 11643-1999): structure and check digit."""
from __future__ import annotations

import re
from datetime import date

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
_SHAPE = re.compile(r"^[1-9]\d{16}[\dX]$")


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
    number = number.strip().upper()
    return bool(_SHAPE.match(number)) and birth_date(number) is not None and (
        check_digit(number[:17]) == number[17]
    )


def mask_resident_id(number: str) -> str:
    """Show the region code and last four only: 130102********1234."""
    return number[:6] + "*" * 8 + number[-4:] if len(number) == 18 else "*" * len(number)
