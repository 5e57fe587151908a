"""`Secret`, a token that never shows itself; free of storage, so platforms may hold tokens without
importing the database (bot.storage.crypto encrypts it at rest)."""


class Secret:
    """A token that does not show itself: repr, str and f-strings print stars. Use `.reveal()`
    at the one place the value must go over the wire."""

    __slots__ = ("_value",)

    def __init__(self, value: str):
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)
