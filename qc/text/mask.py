"""Mask customers' personal data in every export: phone, ID card and bank card numbers, addresses.

Numbers are read out on calls, so ASR writes them in Arabic digits or in Chinese (幺三八…); any run
of seven or more digits in either form is masked (工号 are shorter and stay). Addresses keep the
province, city and district and lose the street, building and door number.
"""

from __future__ import annotations

import re

_DIGIT = "0-9０-９〇零幺一二两三四五六七八九"
# 7+ digits, optionally separated by spaces or dashes: phone, ID card (with X), bank card, waybill.
_LONG_NUMBER = re.compile(f"[{_DIGIT}](?:[\\s\\-]?[{_DIGIT}]){{6,}}[xX]?")
_ADDRESS = re.compile(
    r"(?P<keep>(?:[\u4e00-\u9fff]{2,7}(?:省|自治区))?(?:[\u4e00-\u9fff]{2,7}市)?(?:[\u4e00-\u9fff]{1,7}(?:区|县|旗))?)"
    r"(?P<mask>[\u4e00-\u9fff0-9〇零幺一二两三四五六七八九十]{1,14}"
    r"(?:路|街|巷|弄|大道|小区|大厦|花园|公寓|新村)"
    r"[0-9〇零幺一二两三四五六七八九十百号栋幢单元室楼层\-]{0,16})"
)


def _stars(match: re.Match[str]) -> str:
    return "*" * len(match.group(0))


def mask_text(text: str | None) -> str | None:
    """The text with personal numbers and street addresses replaced by asterisks (same length)."""
    if not text:
        return text
    text = _LONG_NUMBER.sub(_stars, text)
    return _ADDRESS.sub(lambda m: m.group("keep") + "*" * len(m.group("mask")), text)
