"""A person's language: an ISO 639-1 code. Texts go in it where a translation exists (English otherwise),
and their calls go to a tracer who lists it (staff list languages by name on their account page).

`SHIPPED` are the languages the text templates come translated into: English, Welsh, and the main
languages other than English most spoken in Sheffield at the 2021 Census (docs/languages.md). `KNOWN`
is the wider list a person's language may be chosen from.
"""
from tts.errors import ErrorCollector

ENGLISH = "en"

SHIPPED = {
    "en": "English",
    "cy": "Welsh (Cymraeg)",
    "ar": "Arabic (العربية)",
    "ur": "Urdu (اردو)",
    "pl": "Polish (Polski)",
    "zh": "Chinese (中文)",
    "sk": "Slovak (Slovenčina)",
    "so": "Somali (Soomaali)",
}

KNOWN = {
    **SHIPPED,
    "bn": "Bengali (বাংলা)", "bg": "Bulgarian", "cs": "Czech", "fa": "Persian (فارسی)", "fr": "French",
    "de": "German", "el": "Greek", "gu": "Gujarati", "hi": "Hindi", "hu": "Hungarian", "it": "Italian",
    "ku": "Kurdish", "lv": "Latvian", "lt": "Lithuanian", "ps": "Pashto", "pa": "Panjabi", "pt": "Portuguese",
    "ro": "Romanian", "ru": "Russian", "es": "Spanish", "ta": "Tamil", "ti": "Tigrinya", "tr": "Turkish",
    "uk": "Ukrainian", "vi": "Vietnamese",
}

# Right-to-left scripts: a page in one sets dir="rtl" on the text.
RTL = frozenset({"ar", "ur", "fa", "ps"})


def name_of(code: str | None) -> str:
    """"Polish (Polski)" for "pl"; English for no language; the code itself for one not on the list."""
    if not code:
        return KNOWN[ENGLISH]
    return KNOWN.get(code, code)


def plain_name(code: str | None) -> str:
    """The English name alone ("Polish"), as staff list their languages."""
    return name_of(code).split(" (")[0]


def code_for(value: str | None) -> str | None:
    """A code from what was entered: a code ("pl"), or a name in English ("Polish", "polish")."""
    text = (value or "").strip()
    if not text:
        return None
    if text.lower() in KNOWN:
        return text.lower()
    for code, name in KNOWN.items():
        if text.lower() in (name.lower(), name.split(" (")[0].lower()):
            return code
    return None


def check_language(errors: ErrorCollector, field: str, value: str | None) -> str | None:
    """The code for `value`, or an error naming the field."""
    if value is None or not str(value).strip():
        return None
    code = code_for(value)
    if code is None:
        errors.add(field, "Enter a language as a two-letter ISO 639-1 code, like pl for Polish, or its name")
    return code


def speaks(user_languages: list[str], code: str | None) -> bool:
    """Does a member of staff (languages listed by name, like "Polish, Urdu") speak this language?"""
    if not code or code == ENGLISH:
        return True
    return any(code_for(name) == code for name in user_languages)
