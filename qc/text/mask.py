"""Mask customers' personal data in every export: phone, ID card and bank card numbers, addresses.

Numbers are read out on calls, so ASR writes them in Arabic digits or in Chinese (幺三八…), and
splits them as people say them: ``138 1234 5678``, ``138，1234，5678``, ``一三八，幺二三四，五六七八``.
Any run of seven or more digits in either form is masked, whether the groups are joined by spaces,
dashes, commas, dots or 、 (工号 are shorter and stay). A comma or dot only joins groups of two or more
digits, so a spoken list (一，二，三…) is not read as one number, and dates, times and amounts
(2026-11-03, 10:30, 1,250,000元) are left alone.

Addresses keep the province, city, district and town and lose the street, the residential
compound and every door number (…院3号楼2单元501, …小区5栋1单元302室, …村12号, B座1502). A place
word alone (路, 村, 小区) is only taken for an address when a door number follows it or an
administrative area precedes it, so ordinary speech (快递还在路上, 到小区门口) stays readable.

Masking replaces each masked character by one asterisk, so the text keeps its length and every
quoted hit still lines up with its context.
"""

from __future__ import annotations

import re

from qc.text.numbers import CN_DIGITS, CN_NUMERAL_CHARS

# --- long numbers -----------------------------------------------------------------------------------

_DIGIT = f"0-9０-９{CN_DIGITS}"
_D = f"[{_DIGIT}]"
_SOFT = r"[ \t\u3000\-－–—]"  # may sit between any two digits: 1 3 8… or 138-1234-5678
_HARD = r"[ \u3000]*[,，、.．。·][ \u3000]*"  # joins groups of two or more digits: 138，1234，5678
_GROUP = f"{_D}(?:{_SOFT}?{_D})+"
_DATE = r"(?:19|20)[0-9]{2}(?P<sep>[-/.])[0-9]{1,2}(?P=sep)[0-9]{1,2}(?![0-9])"
_NUMBER = re.compile(f"(?P<date>{_DATE})|(?P<run>{_GROUP}(?:{_HARD}{_GROUP})*[xX]?)")
_MIN_DIGITS = 7
_COUNTED = re.compile(_D)
# what makes a long number an amount, not a personal number: 1,250,000元, ￥3,000,000
_CURRENCY_AFTER = re.compile(r"\s*(?:元|块|圆|万|亿|角|毛|美元|人民币)")
_CURRENCY_BEFORE = ("¥", "￥", "$", "＄")


def _mask_number(match: re.Match[str]) -> str:
    run = match.group("run")
    if run is None or len(_COUNTED.findall(run)) < _MIN_DIGITS:
        return match.group(0)
    text, start, end = match.string, match.start(), match.end()
    if _CURRENCY_AFTER.match(text, end) or text[max(0, start - 1) : start] in _CURRENCY_BEFORE:
        return run  # an amount
    return "*" * len(run)


# --- addresses --------------------------------------------------------------------------------------

# Characters a street or compound name may hold: Chinese, but not the administrative areas (kept),
# nor the words that surround an address in speech (在, 到, 住, 寄, 我…), so 我住在曹安路 keeps 我住在.
_ADMIN = "省市区县镇乡"
_NOT_NAME = _ADMIN + "在到住寄送是的了我你您他她从往去把给及或就还也请帮麻烦址这那个"
_NAME = f"(?:(?![{_NOT_NAME}])[\u4e00-\u9fff])"
# A place word that makes an address on its own after an administrative area (嘉定区曹安路) …
_STREET = "大街|大道|胡同|小区|新村|花园|公寓|大厦|家园|路|街|巷|弄|村|庄|屯|苑"
# … and one that needs a door number after it (医院, 知道, 公园 are not addresses).
_PLACE = "社区|广场|中心|大院|院|园|里|道|城|府|湾"
_NUM = f"[0-9０-９{CN_NUMERAL_CHARS}]+"
_LETTER = "[A-Za-zＡ-Ｚａ-ｚ]"
# Units of a door number, longest first; 号 alone is also a date (11月3号), 层 a count (两层).
_STRONG_UNIT = "号楼|号院|栋|幢|单元|室"
_WEAK_UNIT = "号门|号|楼|层|座|户|组|期"
_PART = f"[甲乙丙丁]?(?:{_NUM}|{_LETTER})(?:{_STRONG_UNIT}|{_WEAK_UNIT})"
_STRONG_PART = f"[甲乙丙丁]?(?:(?:{_NUM}|{_LETTER})(?:{_STRONG_UNIT})|{_LETTER}座)"
_DASHED = f"{_NUM}(?:[-－]{_NUM})+"  # 3-2-501: building, unit, room
_ROOM = f"(?:{_DASHED}|{_NUM})"  # the bare room number after the unit: 2单元501
# After a street or compound a bare number of two or more digits is a door too: 曹安路3818, 阳光小区501.
_DOOR = f"(?:(?:{_PART})+{_ROOM}?|{_DASHED}|[0-9０-９]{{2,}})"
# A door number that cannot be a date or a count: a strong unit (3号楼, 5栋, 302室, B座) or two parts.
_SURE_DOOR = f"(?:(?:{_PART})*{_STRONG_PART}(?:{_PART})*{_ROOM}?|(?:{_PART}){{2,}}{_ROOM}?)"
_ADDRESS = re.compile(
    f"(?<=[{_ADMIN}]){_NAME}{{2,10}}(?:{_STREET})(?:{_DOOR})?"
    f"|{_NAME}{{2,10}}(?:{_STREET}){_DOOR}"
    f"|{_NAME}{{2,10}}(?:{_PLACE})(?:{_SURE_DOOR}|{_DASHED})"
)
# Door numbers without a place name: 3号楼2单元501, 5栋1单元302室, B座1502 — but not 11月3号.
_DOOR_ALONE = re.compile(_SURE_DOOR)


def _stars(match: re.Match[str]) -> str:
    return "*" * len(match.group(0))


def mask_text(text: str | None) -> str | None:
    """The text with personal numbers and street addresses replaced by asterisks (same length)."""
    if not text:
        return text
    text = _NUMBER.sub(_mask_number, text)
    text = _ADDRESS.sub(_stars, text)
    return _DOOR_ALONE.sub(_stars, text)
