"""Identity numbers of parties: normalising, validating and masking them for display.

The validators check the canonical form only; callers normalise first, so that what is stored
is exactly what was checked. Pure; table-tested.
"""

from __future__ import annotations

import re
from datetime import date

# GB 11643-1999 weights for the first 17 digits, and the check character for each remainder.
_RESIDENT_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_RESIDENT_ID_CHECK = "10X98765432"

# Explicit [0-9] rather than \d or str.isdigit(): both also accept full-width and other
# Unicode digits, which would pass here and then break every downstream system.
_RESIDENT_ID_SHAPE = re.compile(r"[0-9]{17}[0-9Xx]")

# Province-level codes in use: mainland provinces, 71 Taiwan, 81/82 Hong Kong and Macao,
# 83 residence permits for Taiwan residents, 91 the newer foreigner permanent residence card.
_PROVINCE_CODES = frozenset(
    {*range(11, 16), *range(21, 24), *range(31, 38), *range(41, 47), *range(50, 55)}
    | {*range(61, 66), 71, 81, 82, 83, 91}
)
_EARLIEST_BIRTH_YEAR = 1900

# GB 32100-2015: the 31-character alphabet (I, O, Z, S, V left out as easily misread).
_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_VALUE = {ch: i for i, ch in enumerate(_USCC_ALPHABET)}
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
# Registration authorities: 1 organisation staffing, 5 civil affairs, 9 market regulation,
# Y others, and those added after the standard (2-4, 6-8 sectoral registrars, A military, N
# agriculture). Rejecting a real authority would lock a legitimate organisation out of filing.
_USCC_AUTHORITIES = frozenset("123456789ANY")
_USCC_SHAPE = re.compile(r"[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}")

_MOBILE_SHAPE = re.compile(r"1[3-9][0-9]{9}")
_ELEVEN_DIGITS = re.compile(r"[0-9]{11}")
_MOBILE_SEPARATORS = re.compile(r"[\s\-]+")

# A fixed-width mask for e-mail local parts, so the display does not leak their length.
_EMAIL_LOCAL_MASK = "*******"
# Fewer hidden characters than this and head + tail would give away most of the value.
_MIN_HIDDEN = 4


def normalise_resident_id(value: str) -> str:
    return "".join(value.split()).upper()


def resident_id_check_char(first17: str) -> str:
    if len(first17) != 17 or not first17.isascii() or not first17.isdigit():
        raise ValueError("expected the first 17 digits of a resident ID")
    total = sum(int(d) * w for d, w in zip(first17, _RESIDENT_ID_WEIGHTS, strict=True))
    return _RESIDENT_ID_CHECK[total % 11]


def _birth_date(digits: str) -> date | None:
    try:
        return date(int(digits[0:4]), int(digits[4:6]), int(digits[6:8]))
    except ValueError:
        return None


def is_valid_resident_id(value: str, *, today: date | None = None) -> bool:
    """Whether `value` is an 18-character resident ID number; `today` is for tests."""
    if not _RESIDENT_ID_SHAPE.fullmatch(value):
        return False
    if int(value[:2]) not in _PROVINCE_CODES:
        return False
    born = _birth_date(value[6:14])
    # Server-local date: a birth "tomorrow" near midnight is off by at most a day, harmlessly.
    if born is None or born.year < _EARLIEST_BIRTH_YEAR or born > (today or date.today()):
        return False
    return resident_id_check_char(value[:17]) == value[17].upper()


def normalise_uscc(value: str) -> str:
    return "".join(value.split()).upper()


def uscc_check_char(first17: str) -> str:
    if len(first17) != 17 or any(ch not in _USCC_VALUE for ch in first17):
        raise ValueError("expected the first 17 characters of a unified social credit code")
    total = sum(_USCC_VALUE[ch] * w for ch, w in zip(first17, _USCC_WEIGHTS, strict=True))
    return _USCC_ALPHABET[(31 - total % 31) % 31]


def is_valid_uscc(value: str) -> bool:
    if not _USCC_SHAPE.fullmatch(value) or value[0] not in _USCC_AUTHORITIES:
        return False
    return uscc_check_char(value[:17]) == value[17]


def normalise_mobile(value: str) -> str:
    """The bare 11 digits of a mainland number, or `value` stripped when it is not one."""
    stripped = value.strip()
    compact = _MOBILE_SEPARATORS.sub("", stripped)
    if compact.startswith("+86"):
        compact = compact[3:]
    elif compact.startswith("86") and len(compact) == 13:
        # Only with 13 digits: an 11-digit number is never itself prefixed.
        compact = compact[2:]
    return compact if _ELEVEN_DIGITS.fullmatch(compact) else stripped


def is_valid_mainland_mobile(value: str) -> bool:
    return _MOBILE_SHAPE.fullmatch(value) is not None


def _mask_all_but_first(value: str) -> str:
    # A one-character value would be shown whole, so it is hidden entirely.
    if len(value) <= 1:
        return "*" * len(value)
    return value[0] + "*" * (len(value) - 1)


def _mask_middle(value: str, head: int, tail: int) -> str:
    hidden = len(value) - head - tail
    if hidden < _MIN_HIDDEN:
        return _mask_all_but_first(value)
    return value[:head] + "*" * hidden + value[len(value) - tail :]


def mask_resident_id(value: str) -> str:
    return _mask_middle(normalise_resident_id(value), 4, 4)


def mask_uscc(value: str) -> str:
    return _mask_middle(normalise_uscc(value), 4, 4)


def mask_mobile(value: str) -> str:
    return _mask_middle(normalise_mobile(value), 3, 4)


def mask_email(value: str) -> str:
    stripped = value.strip()
    local, at, domain = stripped.rpartition("@")
    if not at or not local or not domain:
        return _mask_all_but_first(stripped)
    shown = local[0] if len(local) > 1 else ""
    return f"{shown}{_EMAIL_LOCAL_MASK}@{domain}"


def mask_name(value: str) -> str:
    return _mask_all_but_first(value.strip())
