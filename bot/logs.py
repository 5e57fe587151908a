"""Logging set-up. A filter masks anything shaped like a token, as a last line of defence: code never
logs tokens on purpose (they live in `Secret` objects), but a library's debug line might."""

from __future__ import annotations

import logging
import re

_TOKEN_PATTERNS = re.compile(
    r"(xox[abposer]-[A-Za-z0-9-]+|xapp-[A-Za-z0-9-]+|xoxe\.[A-Za-z0-9.-]+"  # Slack tokens
    r"|(?<=[Bb]earer )[A-Za-z0-9._~+/=-]{8,}"  # Authorization headers
    r"|(?<=DPoP )[A-Za-z0-9._~+/=-]{8,}"
    r"|(?<=access_token=)[^&\s\"']+|(?<=refresh_token=)[^&\s\"']+|(?<=client_secret=)[^&\s\"']+"
    r"|(?<=code_verifier=)[^&\s\"']+|(?<=fb_exchange_token=)[^&\s\"']+|(?<=[?&]code=)[^&\s\"']+"
    r"|(?<=\"access_token\": \")[^\"]+|(?<=\"refresh_token\": \")[^\"]+)"
)


def redact(text: str) -> str:
    return _TOKEN_PATTERNS.sub("***", text)


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and record.exc_info[1] is not None:
            # Tracebacks are formatted later; keep the exception but mask its text.
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True


class _DropBoltTokenWarning(logging.Filter):
    # bolt reads SLACK_BOT_TOKEN from the environment by itself and then warns that our client and
    # authorization (which carry that same token) win; the warning would only confuse operators.
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        return "`token` will be unused" not in message and "will be ignored" not in message


def setup(level: str) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("slack_bolt.AsyncApp").addFilter(_DropBoltTokenWarning())
    # Third-party chatter at INFO (every HTTP request line) is noise for operators.
    for noisy in ("aiohttp.access", "httpx", "sqlalchemy.engine", "alembic.runtime.migration"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLevelName(level)))
