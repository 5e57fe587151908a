"""Sign-in links are bearer links: whoever opens one could attach their own account to the workspace of whoever
asked for it. So a link first opens Picmim's own page, naming the workspace and the person who asked, with a
Continue button to the platform; the result page and the alerts channel say which account was connected, with
whose link, into which workspace. End to end: the real server, the fake Slack and the fake X, a browser."""

from __future__ import annotations

import hashlib
import html
import re
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import update

from bot.storage import db
from bot.storage.models import OAuthState, Workspace, utcnow
from tests import journeys
from tests.journeys import ALERTS, X_SUPPORT, alerts_posted, blocks_of, consent, continue_link, private_link, shown

fake_x, connect_server, x, browser = journeys.fake_x, journeys.connect_server, journeys.x, journeys.browser
sender = journeys.connect_sender

TITLE = "Connect an X account to Acme’s Picmim for Maria"


def _seen(page: httpx.Response) -> str:
    """The page as a person reads it: no markup, entities decoded."""
    body = page.text.split("<body>", 1)[-1]
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", body)).split()).replace(" .", ".")


def _title(page: httpx.Response) -> str:
    return html.unescape(page.text.split("<h1>", 1)[1].split("</h1>", 1)[0])


def _state_of(link: str) -> str:
    return httpx.URL(link).path.rsplit("/", 1)[1]


def _has_no_continue(page: httpx.Response) -> bool:
    return "Continue to" not in page.text and "x.com" not in page.text


async def _database(module_database, statement) -> None:
    engine = db.create_engine(module_database.url)
    try:
        async with db.session_factory(engine)() as session:
            await session.execute(statement)
            await session.commit()
    finally:
        await engine.dispose()


@pytest.fixture
async def alerts_channel(module_database, connect_server):
    """The workspace's alerts channel set (as in /picmim settings), for one test."""
    await _database(module_database, update(Workspace).where(Workspace.team_id == "T0001")
                    .values(alerts_channel_id=ALERTS))
    yield ALERTS
    await _database(module_database, update(Workspace).where(Workspace.team_id == "T0001")
                    .values(alerts_channel_id=None))


async def test_the_link_opens_a_page_naming_the_workspace_and_who_asked_then_continues_to_x(
        sender, slack, browser, x, connect_server):
    assert sender.command("connect x", response_url=slack.response_url("landing")).status_code == 200
    link = private_link(slack, "landing")
    assert link.startswith(f"{connect_server.url}/connect/"), "Slack shows Picmim's page, not X's"

    # A link preview (Slack's, a chat app's) fetches the page first: that uses nothing up.
    preview = await browser.get(link)
    page = await browser.get(link)
    assert preview.status_code == page.status_code == 200, page.text
    assert _title(page) == TITLE
    assert f"<title>{html.escape(TITLE)} · Picmim</title>" in page.text
    seen = _seen(page)
    assert ("Maria asked for this link in Acme’s Slack. Continue takes you to X: sign in there and allow Picmim. "
            "The account you sign in with is then connected to Acme’s Picmim, and Maria chooses in Slack which of "
            "its accounts Picmim may post to.") in seen
    assert ("Not Maria, or not expecting this link? Close this page: continuing connects the account you sign in "
            "with to Acme’s Picmim.") in seen
    assert re.search(r"The link works once and expires in (9|10) minutes\.", seen)
    assert page.headers["X-Frame-Options"] == "DENY" and page.headers["Referrer-Policy"] == "no-referrer"
    assert "default-src 'none'" in page.headers["Content-Security-Policy"]
    assert page.headers["Cache-Control"] == "no-store", "the page holds a live sign-in link"
    assert "<script" not in page.text, "Continue is a plain link: it works without JavaScript"

    # Continue goes to X's consent page, with the link's own state and Picmim's callback; PICMIM_ORIGIN_OVERRIDES
    # sends x.com to the fake X here, so the browser goes there too.
    authorize = httpx.URL(continue_link(page))
    assert str(authorize.copy_with(query=None)) == f"{x.url}/i/oauth2/authorize"
    assert authorize.params["state"] == _state_of(link)
    assert authorize.params["redirect_uri"] == f"{connect_server.url}/oauth/x/callback"
    assert "Continue to X</a>" in page.text

    # The person continues and allows Picmim; the result page says which account, where and for whom.
    back = await consent(browser, link)
    result = await browser.get(str(back))
    assert result.status_code == 200, result.text
    assert _title(result) == "X is connected (Acme Marketing)"
    seen = _seen(result)
    assert "Signed in to X as Acme Marketing" in seen
    assert "Account Acme Marketing (@acmemktg)" in seen
    assert "Slack workspace Acme For Maria" in seen
    assert "Back in Slack, choose which accounts Picmim may manage" in seen

    # Opened again, the page says the link is used up and how to get another; it offers X no more.
    again = await browser.get(link)
    assert again.status_code == 410 and _title(again) == "This link was already used"
    assert "Get a new one in Slack with /picmim connect x." in _seen(again)
    assert "<code>/picmim connect x</code>" in again.text
    assert _has_no_continue(again) and again.headers["X-Frame-Options"] == "DENY"


async def test_an_expired_or_made_up_link_says_so_and_how_to_get_a_new_one(sender, slack, browser, x,
                                                                           connect_server, module_database):
    assert sender.command("connect x", response_url=slack.response_url("late")).status_code == 200
    link = private_link(slack, "late")
    digest = hashlib.sha256(_state_of(link).encode()).hexdigest()
    await _database(module_database, update(OAuthState).where(OAuthState.state_hash == digest)
                    .values(expires_at=utcnow() - timedelta(minutes=1)))  # eleven minutes later
    late = await browser.get(link)
    assert late.status_code == 410 and _title(late) == "This link expired"
    assert "This sign-in link expired: links last 10 minutes. Get a new one in Slack with /picmim connect x." \
        in _seen(late)
    assert _has_no_continue(late)
    assert not x.calls_to("/i/oauth2/authorize"), "nobody was sent to X"

    forged = await browser.get(f"{connect_server.url}/connect/made-up-state")
    assert forged.status_code == 404 and _title(forged) == "This link is not valid"
    assert "This sign-in link is not one Picmim made, or it was changed." in _seen(forged)
    assert _has_no_continue(forged)


async def test_names_from_slack_are_escaped_on_the_page(sender, slack, browser, x, fake_slack):
    fake_slack.teams["T0001"].users["U0003"] = {
        "id": "U0003", "name": "sam", "tz": "Europe/London", "is_admin": False,
        "profile": {"display_name": '<img src=x onerror="alert(1)"> Sam & Co', "real_name": "Sam"}}
    assert sender.command("connect x", user_id="U0003", response_url=slack.response_url("odd")).status_code == 200
    page = await browser.get(private_link(slack, "odd"))
    assert page.status_code == 200
    assert "<img" not in page.text and "&lt;img src=x onerror=&quot;alert(1)&quot;&gt; Sam &amp; Co" in page.text
    assert _title(page) == 'Connect an X account to Acme’s Picmim for <img src=x onerror="alert(1)"> Sam & Co'


async def test_the_alerts_channel_hears_which_account_was_connected_with_whose_link(
        sender, slack, browser, x, connect_server, alerts_channel):
    # Someone else opens Maria's link and signs in with their own X account: it is attached, and said so.
    x.add_user(X_SUPPORT, "Globex Social", "globexsocial")
    x.consent_as(X_SUPPORT)
    assert sender.command("connect x", response_url=slack.response_url("bearer")).status_code == 200
    result = await browser.get(str(await consent(browser, private_link(slack, "bearer"))))
    assert result.status_code == 200 and _title(result) == "X is connected (Globex Social)"
    assert "Signed in to X as Globex Social Account Globex Social (@globexsocial) Slack workspace Acme For Maria" \
        in _seen(result)
    [note] = journeys.wait_until(lambda: alerts_posted(slack), "the alerts channel's message")
    text = shown(note.params["blocks"])
    assert ("*X · Globex Social* was connected to Picmim with <@U0001>'s private sign-in link. Accounts it reaches: "
            "*Globex Social (@globexsocial)*. <@U0001> chooses in Slack which of them Picmim manages.") in text
    assert "disconnect this one in `/picmim accounts`" in text
    assert note.params["text"] == "X · Globex Social was connected to Picmim with <@U0001>'s sign-in link."
    [dm] = [c for c in slack.calls_to("chat.postMessage") if c.params["channel"] == "U0001"]
    assert "choose which accounts" in dm.params["text"], "Maria still chooses the accounts herself"

    # A sign-in that connects nothing is said too: whose link, on which platform, and why.
    slack.forget_calls()
    assert sender.command("connect x", response_url=slack.response_url("deny")).status_code == 200
    state = _state_of(private_link(slack, "deny"))
    denied = await browser.get(f"{connect_server.url}/oauth/x/callback",
                               params={"error": "access_denied", "state": state})
    assert denied.status_code == 400
    assert "Slack workspace Acme For Maria" in _seen(denied)
    [note] = journeys.wait_until(lambda: alerts_posted(slack), "the alerts channel's message")
    assert blocks_of(note.params["blocks"])[0]["text"]["text"] == (
        ":warning: <@U0001>'s sign-in link for X connected nothing: You chose not to allow Picmim access, so "
        "nothing was connected.")

    # The same callback again (a reload) reached nobody's account: no second message.
    slack.forget_calls()
    reload = await browser.get(str(denied.url))
    assert reload.status_code == 400 and _title(reload) == "This link was already used"
    slack.wait_for("chat.postMessage")  # Maria's DM, sent before the page
    assert not alerts_posted(slack)


async def test_slack_down_at_the_callback_delays_the_choose_accounts_message_never_loses_it(
        sender, slack, browser, x, connect_server, alerts_channel):
    x.add_user("4466116167", "Initech Social", "initechsocial")  # a new account: the alerts channel hears of it
    x.consent_as("4466116167")
    assert sender.command("connect x", response_url=slack.response_url("down")).status_code == 200
    link = private_link(slack, "down")
    slack.forget_calls()
    slack.html_error("chat.postMessage", 503, seconds=4)  # Slack's HTML error page for a while, then back
    result = await browser.get(str(await consent(browser, link)))
    assert result.status_code == 200 and _title(result).startswith("X is connected"), "the page says so at once"
    [dm] = journeys.wait_until(lambda: [m for m in slack.posted_in("U0001")], "Maria's message, once Slack is back",
                               timeout=30)
    assert "choose which accounts" in dm["text"]
    [note] = journeys.wait_until(lambda: slack.posted_in(ALERTS), "the alerts channel's note", timeout=30)
    assert "Initech Social" in note["text"]
    assert len(slack.posted_in("U0001")) == 1 and len(slack.posted_in(ALERTS)) == 1, "each sent once"
