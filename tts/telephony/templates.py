"""SMS templates: placeholders, rendering, and GSM-7 / UCS-2 segment counting."""
import math
import re

from tts.errors import ErrorCollector

PLACEHOLDERS = {
    "first_name": "the person's first name",
    "team_phone": "the team's phone number",
    "end_date": "the isolation or quarantine end date",
    "case_reference": "the case reference (cases only)",
    "link": "their personal link, to tell us their contacts online (cases) or confirm the advice (contacts)",
}
_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")
_GSM_BASIC = set("@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                 "ÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà")
_GSM_EXTENDED = set("^{}\\[~]|€\f")

def check_template(body: str, errors: ErrorCollector, field: str = "body") -> None:
    if not body or not body.strip():
        errors.add(field, "Enter the message text")
        return
    unknown = sorted(set(_PLACEHOLDER.findall(body)) - set(PLACEHOLDERS))
    if unknown:
        errors.add(field, "Unknown placeholder " + ", ".join("{" + u + "}" for u in unknown)
                   + ". Use " + ", ".join("{" + p + "}" for p in PLACEHOLDERS))
    if len(body) > 1000:
        errors.add(field, "Keep the message under 1,000 characters")


def render(body: str, values: dict[str, str]) -> str:
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), ""), body)


def segments(text: str) -> tuple[str, int]:
    """('GSM-7', n) or ('UCS-2', n): what a phone network will bill and split the text into."""
    if all(ch in _GSM_BASIC or ch in _GSM_EXTENDED for ch in text):
        septets = sum(2 if ch in _GSM_EXTENDED else 1 for ch in text)
        return "GSM-7", 1 if septets <= 160 else math.ceil(septets / 153)
    units = len(text.encode("utf-16-le")) // 2
    return "UCS-2", 1 if units <= 70 else math.ceil(units / 67)
