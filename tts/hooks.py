"""Hooks: named points where one feature's work sets off another's, without the first importing the second.

A feature lower down declares a hook (the queue: "a call was queued"); features above it register
handlers on it when their module is imported (telephony: "send the introduction text"). Firing runs every
handler in the order they registered, in the caller's transaction, and passes on any exception, so a
handler's failure rolls back the work that fired it. create_app imports every module that registers
handlers (`REACTIONS` in tts/__init__.py), so a handler cannot be missing because nothing imported it.
"""
from collections.abc import Callable


class Hook:
    def __init__(self, name: str, doc: str) -> None:
        self.name = name
        self.__doc__ = doc
        self.handlers: list[Callable] = []

    def register(self, handler: Callable) -> Callable:
        """Decorator: run `handler` whenever the hook fires (once, however often its module is imported)."""
        key = (handler.__module__, handler.__qualname__)
        for i, known in enumerate(self.handlers):
            if (known.__module__, known.__qualname__) == key:
                self.handlers[i] = handler
                return handler
        self.handlers.append(handler)
        return handler

    def fire(self, *args, **kwargs) -> None:
        for handler in list(self.handlers):
            handler(*args, **kwargs)

    def __repr__(self) -> str:
        return f"<Hook {self.name}: {[h.__qualname__ for h in self.handlers]}>"
