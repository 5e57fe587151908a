"""Encryption of tokens at rest (Fernet), and the key that does it.

The key comes from PICMIM_SECRET_KEY (several, comma-separated, to rotate: the first encrypts, all
decrypt), or from a file beside the database created once with mode 0600. Column types below
encrypt on write and decrypt on read, so no plaintext token reaches the database.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy import Text
from sqlalchemy.types import TypeDecorator

from bot.secret import Secret

log = logging.getLogger(__name__)

KEY_FILE_NAME = "picmim.key"

_cipher: MultiFernet | None = None


class SecretKeyError(Exception):
    """The key cannot be read or created; the message says what to do."""


def generate_key() -> str:
    return Fernet.generate_key().decode()


def load_or_create_key_file(directory: Path) -> tuple[str, bool]:
    """Return (key, created). Creates `picmim.key` (0600) in `directory` if it is not there."""
    path = directory / KEY_FILE_NAME
    try:
        if path.exists():
            key = path.read_text().strip()
            Fernet(key.encode())
            return key, False
    except (OSError, ValueError) as exc:
        raise SecretKeyError(f"The key file {path} cannot be read ({_reason(exc)}); fix its permissions, or set "
                        "PICMIM_SECRET_KEY to the key it held.") from None
    if not directory.is_dir():
        raise SecretKeyError(f"The folder {directory} for the database and key file does not exist; create it "
                        "or point DATABASE_URL elsewhere.")
    key = generate_key()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(key + "\n")
    except OSError as exc:
        raise SecretKeyError(f"Cannot create the key file {path} ({_reason(exc)}); make the folder writable, or "
                        "set PICMIM_SECRET_KEY (create one with `python -m bot gen-key`).") from None
    return key, True


def _reason(exc: Exception) -> str:
    return getattr(exc, "strerror", None) or exc.__class__.__name__


def configure(keys: tuple[str, ...] | list[str]) -> None:
    """Install the process-wide cipher. The first key encrypts; every key can decrypt."""
    global _cipher
    _cipher = MultiFernet([Fernet(k.encode()) for k in keys])


def encrypt(plaintext: str) -> str:
    return _require().encrypt(plaintext.encode()).decode()


def decrypt(ciphertext: str) -> str:
    try:
        return _require().decrypt(ciphertext.encode()).decode()
    except InvalidToken:
        raise SecretKeyError("A stored token cannot be decrypted with the current PICMIM_SECRET_KEY; the key "
                        "changed. Restore the old key (you may list it after the new one, comma-separated) "
                        "or reconnect the accounts.") from None


def _require() -> MultiFernet:
    if _cipher is None:
        raise RuntimeError("crypto.configure() has not been called")
    return _cipher


class EncryptedText(TypeDecorator):
    """A text column holding a Fernet token; Python sees the plain string (used for Slack's own
    installation store, whose code expects `str`)."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if isinstance(value, Secret):
            value = value.reveal()
        return encrypt(value)

    def process_result_value(self, value, dialect):
        return None if value is None else decrypt(value)


class EncryptedSecret(EncryptedText):
    """As EncryptedText, but Python sees a `Secret`, so the token cannot leak through a repr or log."""

    cache_ok = True

    def process_result_value(self, value, dialect):
        return None if value is None else Secret(decrypt(value))
