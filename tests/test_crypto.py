from __future__ import annotations

import stat
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from bot.storage import crypto


def test_secret_never_shows_itself():
    s = crypto.Secret("xoxb-very-secret")
    assert "very-secret" not in repr(s) and "very-secret" not in str(s) and "very-secret" not in f"{s}"
    assert s.reveal() == "xoxb-very-secret"


def test_roundtrip_and_ciphertext_hides_the_token():
    crypto.configure([Fernet.generate_key().decode()])
    ciphertext = crypto.encrypt("token-123")
    assert "token-123" not in ciphertext
    assert crypto.decrypt(ciphertext) == "token-123"


def test_rotation_keeps_old_tokens_readable():
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    crypto.configure([old])
    stored = crypto.encrypt("token")
    crypto.configure([new, old])
    assert crypto.decrypt(stored) == "token"
    crypto.configure([new])
    with pytest.raises(crypto.SecretKeyError, match="the key changed"):
        crypto.decrypt(stored)


def test_key_file_is_created_once_with_mode_0600(tmp_path):
    key, created = crypto.load_or_create_key_file(tmp_path)
    assert created
    path = tmp_path / crypto.KEY_FILE_NAME
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    again, created_again = crypto.load_or_create_key_file(tmp_path)
    assert (again, created_again) == (key, False)
    Fernet(key.encode())


def test_missing_folder_is_explained(tmp_path):
    with pytest.raises(crypto.SecretKeyError, match="does not exist"):
        crypto.load_or_create_key_file(tmp_path / "nope")


def test_unwritable_folder_is_explained():
    # /proc refuses new files even to root, so this holds whoever runs the tests.
    with pytest.raises(crypto.SecretKeyError, match="Cannot create the key file /proc/picmim.key"):
        crypto.load_or_create_key_file(Path("/proc"))


def test_corrupt_key_file_is_explained(tmp_path):
    (tmp_path / crypto.KEY_FILE_NAME).write_text("not a key")
    with pytest.raises(crypto.SecretKeyError, match="cannot be read"):
        crypto.load_or_create_key_file(tmp_path)
