"""Password rules after current NCSC guidance: long, no composition rules, not common, not personal."""
from functools import lru_cache
from pathlib import Path

MIN_LENGTH = 12


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    path = Path(__file__).with_name("common_passwords.txt")
    return frozenset(line.strip().lower() for line in path.read_text().splitlines()
                     if line.strip() and not line.startswith("#"))


def password_problems(password: str, *, name: str | None = None, email: str | None = None) -> list[str]:
    if len(password) < MIN_LENGTH:
        return [f"Password must be at least {MIN_LENGTH} characters"]
    lowered = password.lower()
    problems = []
    if lowered in common_passwords() or len(set(lowered)) <= 2:
        problems.append("This password is too common: choose a few unrelated words instead")
    personal = [part for part in (name or "").lower().split() if len(part) >= 3]
    if email:
        personal.append(email.lower().split("@")[0])
    if any(part and part in lowered for part in personal):
        problems.append("Password must not contain your name or email address")
    return problems
