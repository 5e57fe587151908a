"""What goes wrong with an attachment: the errors the media modules raise and publishing understands."""


class MediaError(ValueError):
    """The bytes cannot be read or made to fit; the message says so in plain words."""


OPTIMISING = "optimising"  # the error_kind of a publishing target waiting for its video's optimised copy


class MediaNotReady(Exception):
    """An attachment's optimised copy is still being made (bot.media.renditions): publish the target a
    little later, after `wait` seconds at most."""

    def __init__(self, message: str, wait: float = 30.0):
        super().__init__(message)
        self.message, self.wait = message, wait
