"""Numbers as agents say them: the one definition of Chinese digit characters in qc.

工号 and phone numbers are read digit by digit (幺零二四, 一三八…), amounts and 工号 sometimes as
numerals (一千零二十四). Every module that recognises spoken numbers (normalisation, the pattern
``#``, the 工号 check, masking) takes its character classes from here.
"""

from __future__ import annotations

import cn2an

# Characters read as single digits; 幺 is 1 and 两 is 2 on the phone.
CN_DIGITS = "〇零幺一二两三四五六七八九"
CN_DIGIT_VALUES = "001122345678" + "9"
# Digits plus the place words of a numeral (一千零二十四).
CN_NUMERAL_CHARS = CN_DIGITS + "十百千"
# A run of digits in either script, as a regex.
DIGIT_RUN = f"[0-9{CN_DIGITS}]+"
SPOKEN_NUMBER = f"[0-9{CN_NUMERAL_CHARS}]+"


def spoken_number(text: str) -> str:
    """'1024', '幺零二四', '一零二四' or '一千零二十四' → '1024' (cn2an reads the Chinese forms)."""
    if text.isdigit() and text.isascii():
        return text
    try:
        return str(cn2an.cn2an(text.replace("幺", "一"), "smart"))
    except (ValueError, KeyError):
        return text
