"""Logging set-up. A filter masks anything shaped like a token, as a last line of defence: code never
logs tokens on purpose (they live in `Secret` objects), but a library's debug line might."""

from __future__ import annotations

import json
import logging
import re
import time

_TOKEN_PATTERNS = re.compile(
    r"(xox[abposer]-[A-Za-z0-9-]+|xapp-[A-Za-z0-9-]+|xoxe\.[A-Za-z0-9.-]+"  # Slack tokens
    r"|(?<=[Bb]earer )[A-Za-z0-9._~+/=-]{8,}"  # Authorization headers
    r"|(?<=DPoP )[A-Za-z0-9._~+/=-]{8,}"
    r"|(?<=access_token=)[^&\s\"']+|(?<=refresh_token=)[^&\s\"']+|(?<=client_secret=)[^&\s\"']+"
    r"|(?<=code_verifier=)[^&\s\"']+|(?<=fb_exchange_token=)[^&\s\"']+|(?<=[?&]code=)[^&\s\"']+"
    r"|(?<=\"access_token\": \")[^\"]+|(?<=\"refresh_token\": \")[^\"]+)"
)

# The same secrets in a dict or JSON as libraries log them at DEBUG: {'code': '...', "client_secret": "..."}.
_SECRET_FIELDS = re.compile(
    r"""((['"])(?:code|client_secret|access_token|refresh_token|code_verifier|fb_exchange_token|token"""
    r"""|id_token|app_secret)\2\s*:\s*(['"]))[^'"]+""")


def redact(text: str) -> str:
    return _SECRET_FIELDS.sub(r"\1***", _TOKEN_PATTERNS.sub("***", text))


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


class _BadRequestsInOneLine(logging.Filter):
    # aiohttp logs a request it cannot parse (a 20 KB query string, a broken header) as an ERROR with a
    # traceback: anyone could fill the logs. It is the sender's fault: one warning line says it.
    def filter(self, record: logging.LogRecord) -> bool:
        from aiohttp.http_exceptions import HttpProcessingError

        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, HttpProcessingError):
            record.levelno, record.levelname = logging.WARNING, "WARNING"
            record.msg, record.args, record.exc_info, record.exc_text = (
                "Refused a malformed HTTP request: %s", (exc.__class__.__name__,), None, None)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line, for log collectors (LOG_FORMAT=json)."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {"time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
                 "level": record.levelname, "logger": record.name, "message": record.getMessage()}
        if record.exc_info:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        return json.dumps(entry, ensure_ascii=False)


def setup(level: str, fmt: str = "text") -> None:
    handler = logging.StreamHandler()
    if fmt == "json":
        formatter: logging.Formatter = JsonFormatter()
        formatter.converter = time.gmtime
    else:
        formatter = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    handler.setFormatter(formatter)
    handler.addFilter(RedactingFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("slack_bolt.AsyncApp").addFilter(_DropBoltTokenWarning())
    logging.getLogger("aiohttp.server").addFilter(_BadRequestsInOneLine())
    # Third-party chatter at INFO (every HTTP request line, APScheduler's lines every tick) is noise.
    for noisy in ("aiohttp.access", "httpx", "sqlalchemy.engine", "alembic.runtime.migration", "apscheduler"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLevelName(level)))
