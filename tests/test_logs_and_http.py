from __future__ import annotations

import logging

import httpx
from aiohttp import web

from bot.http import OriginOverrideTransport, build_client
from bot.logs import RedactingFilter, redact


def test_redaction_masks_tokens_in_every_shape():
    line = ('bot xoxb-123-456-abc user xoxp-9-9 app xapp-1-A-2 Authorization: Bearer eyJhbGciOi.JIUz.I1 '
            'body access_token=abc123&refresh_token=def456 json {"access_token": "tok-1"} DPoP abcdefghijk '
            'GET /oauth/access_token?fb_exchange_token=fbx-9&x=1 callback?state=s&code=authcode-7')
    cleaned = redact(line)
    for secret in ("xoxb-123", "xoxp-9", "xapp-1", "eyJhbGciOi", "abc123", "def456", "tok-1", "abcdefghijk",
                   "fbx-9", "authcode-7"):
        assert secret not in cleaned


def test_log_records_and_tracebacks_are_redacted(caplog):
    logger = logging.getLogger("test.redaction")
    logger.addFilter(RedactingFilter())
    try:
        raise RuntimeError("refresh failed for refresh_token=zzz-secret")
    except RuntimeError:
        logger.exception("token %s rejected", "xoxb-abc-def")
    record = caplog.records[-1]
    assert "xoxb-abc-def" not in record.getMessage()
    assert "zzz-secret" not in (record.exc_text or "")
    assert "RuntimeError" in record.exc_text


async def test_origin_overrides_send_platform_requests_to_the_local_server(unused_tcp_port):
    seen = []

    async def handler(request: web.Request) -> web.Response:
        seen.append((request.path_qs, request.headers.get("Authorization")))
        return web.json_response({"id": "17841400000"})

    app = web.Application()
    app.router.add_get("/{tail:.*}", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", unused_tcp_port).start()
    client = build_client({"https://graph.facebook.com": f"http://127.0.0.1:{unused_tcp_port}"})
    try:
        r = await client.get("https://graph.facebook.com/v26.0/me?fields=id",
                             headers={"Authorization": "Bearer t"})
        assert r.json() == {"id": "17841400000"}
        assert seen == [("/v26.0/me?fields=id", "Bearer t")]
    finally:
        await client.aclose()
        await runner.cleanup()


def test_unlisted_origins_are_left_alone():
    transport = OriginOverrideTransport({"https://api.x.com": "http://127.0.0.1:9"})
    assert transport.rewrite(httpx.URL("https://upload.x.com/1.1/media")) == httpx.URL(
        "https://upload.x.com/1.1/media")
    assert transport.rewrite(httpx.URL("https://api.x.com/2/tweets?a=1")) == httpx.URL(
        "http://127.0.0.1:9/2/tweets?a=1")


def test_secrets_in_dict_and_json_forms_are_redacted():
    # slack_sdk logs the OAuth exchange at DEBUG as a dict: body_params: {'code': ..., 'client_secret': ...}
    line = ("Sending a request - url: https://slack.com/api/oauth.v2.access, body_params: {'code': 'slack-code-1', "
            "'client_id': '111.222', 'client_secret': 'shh-2'} json {\"code\": \"slack-code-3\", "
            "\"refresh_token\":\"rt-4\"}")
    cleaned = redact(line)
    for secret in ("slack-code-1", "shh-2", "slack-code-3", "rt-4"):
        assert secret not in cleaned
    assert "'client_id': '111.222'" in cleaned


def _with_logging(level: str, fmt: str):
    from bot import logs

    root = logging.getLogger()
    saved = root.handlers[:], root.level
    logs.setup(level, fmt)
    return lambda: (root.handlers.__setitem__(slice(None), saved[0]), root.setLevel(saved[1]))


def test_log_format_json_writes_one_object_a_line_with_the_traceback(capsys):
    import json

    restore = _with_logging("INFO", "json")
    try:
        logger = logging.getLogger("bot.test")
        logger.info("hello %s", "xoxb-1-2-secret")
        try:
            raise ValueError("boom")
        except ValueError:
            logger.exception("it failed")
    finally:
        restore()
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    assert [(e["level"], e["logger"], e["message"]) for e in lines] == [
        ("INFO", "bot.test", "hello ***"), ("ERROR", "bot.test", "it failed")]
    assert "ValueError: boom" in lines[1]["exception"] and lines[0]["time"].endswith("Z")


def test_apscheduler_and_other_chatter_is_quiet_at_info():
    restore = _with_logging("INFO", "text")
    try:
        assert not logging.getLogger("apscheduler.scheduler").isEnabledFor(logging.INFO)
        assert not logging.getLogger("apscheduler.executors.default").isEnabledFor(logging.INFO)
        assert logging.getLogger("bot").isEnabledFor(logging.INFO)
    finally:
        restore()
