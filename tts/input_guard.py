"""Input the app never stores or acts on: NUL characters and unpaired surrogates anywhere in a request (path,
query, form, file names, JSON), and JSON nested deeper than any request body needs. Refused at the door with
a 400 that says what was wrong, for every route at once, so no database ever sees them (PostgreSQL refuses
NUL in text and psycopg cannot encode a lone surrogate: both were 500s)."""
import re

from flask import Flask, jsonify, render_template, request
from flask.json.provider import DefaultJSONProvider

MAX_JSON_DEPTH = 32  # the deepest body the API takes is 3 levels
_SURROGATE = re.compile("[\ud800-\udfff]")


def text_problem(value: str | None) -> str | None:
    if not value:
        return None
    if "\x00" in value:
        return "contains a NUL character"
    if _SURROGATE.search(value):
        return "contains an unpaired surrogate, which is not valid Unicode text"
    return None


def _check_tree(data) -> None:
    """Every key and string in a parsed JSON document is storable text, and it nests at most MAX_JSON_DEPTH
    deep; else ValueError naming where. Iterative: a hostile document cannot exhaust the stack here."""
    stack = [(data, "body", 0)]
    while stack:
        value, where, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            raise ValueError(f"The JSON nests more than {MAX_JSON_DEPTH} levels deep")
        if isinstance(value, str):
            problem = text_problem(value)
            if problem:
                raise ValueError(f"{where} {problem}")
        elif isinstance(value, dict):
            for key, item in value.items():
                problem = text_problem(key)
                if problem:
                    raise ValueError(f"A key in {where} {problem}")
                stack.append((item, f"{where}.{key}" if where != "body" else key, depth + 1))
        elif isinstance(value, list):
            stack.extend((item, f"{where}.{n}", depth + 1) for n, item in enumerate(value))


class GuardedJSONProvider(DefaultJSONProvider):
    """The app's JSON: parsing refuses what _check_tree refuses, and a parser recursion error is a bad request,
    not a crash."""

    def loads(self, s, **kwargs):
        try:
            data = super().loads(s, **kwargs)
        except RecursionError:
            raise ValueError(f"The JSON nests more than {MAX_JSON_DEPTH} levels deep") from None
        _check_tree(data)
        return data


def _request_problem() -> str | None:
    problem = text_problem(request.path)
    if problem:
        return f"The web address {problem}"
    for source, label in ((request.args, "query parameter"), (request.form, "form field")):
        for key, value in source.items(multi=True):
            problem = text_problem(key) or text_problem(value)
            if problem:
                return f"The {label} {key.replace(chr(0), '')!r} {problem}"
    for key, upload in request.files.items(multi=True):
        problem = text_problem(upload.filename or "")
        if problem:
            return f"The file name in {key!r} {problem}"
    if request.is_json and request.method in ("POST", "PUT", "PATCH"):
        raw = request.get_data(cache=True)
        if raw:
            try:
                request.environ["tts.json"] = _loads(raw)
            except ValueError as exc:
                message = str(exc)
                if isinstance(exc, UnicodeDecodeError) or message.startswith(("Expecting", "Extra data", "Invalid",
                                                                            "Unterminated")):
                    message = f"The body is not valid JSON ({message})"
                return message
    return None


def _loads(raw: bytes):
    from flask import current_app

    return current_app.json.loads(raw)


def init_app(app: Flask) -> None:
    app.json = GuardedJSONProvider(app)

    @app.before_request
    def _refuse_unstorable_input():
        problem = _request_problem()
        if problem is None:
            return None
        if request.path.startswith("/api/"):
            return jsonify({"error": problem, "errors": {"body": [problem]}}), 400
        return render_template("errors/error.html", code=400, title="Bad request", detail=problem), 400


# --- Whole numbers from query strings and forms -----------------------------------------------------------
INT32_MAX = 2**31 - 1  # the database's integer columns
_DIGITS = re.compile(r"-?[0-9]{1,10}")  # ASCII digits only: str.isdigit() also passes "²", which int() refuses


def bounded_int(value, low: int = -INT32_MAX, high: int = INT32_MAX) -> int | None:
    """`value` as a whole number within [low, high] (default: what an integer column holds), else None."""
    text = (value or "").strip() if isinstance(value, str) else ""
    if not _DIGITS.fullmatch(text):
        return None
    number = int(text)
    return number if low <= number <= high else None


def record_id(value) -> int:
    """For `request.args.get(name, type=record_id)`: a record id (1 to INT32_MAX), else ValueError (werkzeug
    then gives the default), so an id no column can hold never reaches a query."""
    number = bounded_int(value, 1)
    if number is None:
        raise ValueError("not a record id")
    return number
