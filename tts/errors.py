"""Domain errors raised by services, and the app's HTTP error pages."""
from flask import Flask, jsonify, render_template, request


class DomainError(Exception):
    """A broken business rule; views and the API report it and roll back."""


class ValidationFailed(DomainError):
    """Field errors keyed by dotted field name (`person.phone`), each a list of messages."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__("; ".join(f"{k}: {', '.join(v)}" for k, v in errors.items()))
        self.errors = errors


class ErrorCollector:
    """Gathers field errors so a service reports every problem at once, then raises."""

    def __init__(self) -> None:
        self.errors: dict[str, list[str]] = {}

    def add(self, field: str, message: str) -> None:
        self.errors.setdefault(field, []).append(message)

    def __contains__(self, field: str) -> bool:
        return field in self.errors

    def raise_if_any(self) -> None:
        if self.errors:
            raise ValidationFailed(self.errors)


def _wants_json() -> bool:
    return request.path.startswith("/api/")


def init_app(app: Flask) -> None:
    def page(code: int, title: str):
        def handler(error):
            if _wants_json():
                return jsonify({"error": title}), code
            return render_template("errors/error.html", code=code, title=title), code

        return handler

    app.register_error_handler(400, page(400, "Bad request"))
    app.register_error_handler(403, page(403, "You do not have permission to see this page"))
    app.register_error_handler(404, page(404, "Page not found"))
    app.register_error_handler(405, page(405, "Method not allowed"))
    app.register_error_handler(413, page(413, "The request is too large"))
    app.register_error_handler(429, page(429, "Too many requests: wait a minute and try again"))
    app.register_error_handler(500, page(500, "Sorry, there is a problem with the service"))
