"""Threads: how a text is cut into parts, and the publisher sending them against the fake X exactly once per part —
a part X refuses for now is retried without resending the parts before it, a part whose outcome is unknown makes
the target unconfirmed with the live parts named, and a process that died during a part is resumed after a look at
X for that part."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from bot.platforms import threads
from bot.platforms.base import Counting, Draft, OutcomeUnknown
from bot.platforms.bluesky import count as bluesky_count
from bot.platforms.bluesky import thread_texts as bluesky_parts
from bot.platforms.settings import BlueskySettings, XSettings, settings_from_json, to_json
from bot.platforms.x import ADAPTER as XAdapter
from bot.platforms.x import thread_texts as x_parts
from bot.platforms.x_text import count
from bot.sandbox.fakes.x import FakeX, Fault
from bot.services import publishing
from bot.services.publishing import Publisher, schedule_targets
from bot.services.workspaces import ensure_workspace
from bot.storage import db
from bot.storage.models import Account, Connection, Post, PostTarget, TargetStatus, utcnow
from tests.platform_fixtures import platform_fake_fixtures

REDIRECT_URI = "https://picmim.example/oauth/x/callback"
platform_server, fake, http, adapter, tokens = platform_fake_fixtures(FakeX, XAdapter, REDIRECT_URI, pkce=True)

PARAGRAPHS = ("Our autumn roast is here. " * 8).strip() + "\n\n" + ("It tastes of cherries. " * 5).strip() \
    + "\n\nFind it in every shop from Monday."


def weighted(text: str) -> int:
    return count(text, Counting.WEIGHTED)


# ---- cutting ---------------------------------------------------------------------------------------------


def test_a_text_that_fits_is_one_part_even_when_a_thread_is_chosen():
    assert threads.split("Hello", 280, weighted, numbered=True) == ["Hello"]
    assert x_parts(Draft(text="Hello", settings=XSettings(thread=True, numbered=True))) == ["Hello"]


def test_the_authors_blank_lines_are_where_parts_end():
    parts = threads.split(PARAGRAPHS, 280, weighted)
    assert parts == [p.strip() for p in PARAGRAPHS.split("\n\n")]


def test_a_paragraph_too_long_is_cut_at_sentence_ends_and_numbered():
    text = " ".join(f"Sentence number {n} says something about coffee." for n in range(20))
    parts = threads.split(text, 280, weighted, numbered=True)
    assert len(parts) > 1 and all(weighted(p) <= 280 for p in parts)
    assert [p.rsplit(" ", 1)[-1] for p in parts] == [f"{n}/{len(parts)}" for n in range(1, len(parts) + 1)]
    assert all(p.rsplit(" ", 1)[0].endswith("coffee.") for p in parts), "whole sentences"


def test_links_count_as_x_counts_them_and_a_word_longer_than_a_part_is_cut():
    text = "Read https://example.com/" + "a" * 300 + " now. " + "x" * 600
    parts = threads.split(text, 280, weighted)
    assert all(weighted(p) <= 280 for p in parts) and "".join(parts).replace(" ", "") == text.replace(" ", "")


def test_bluesky_cuts_at_300_graphemes():
    text = "Ça brûle ☕️. " * 60
    parts = bluesky_parts(Draft(text=text, settings=BlueskySettings(thread=True)))
    assert len(parts) > 1 and all(bluesky_count(p, Counting.GRAPHEMES) <= 300 for p in parts)
    assert max(len(p) for p in parts) > 300, "graphemes, not code points: ☕️ is one"
    assert bluesky_parts(Draft(text=text)) == [text], "no thread: as it is"


def test_the_thread_choice_is_kept_with_the_post():
    assert settings_from_json("x", to_json(XSettings(thread=True, numbered=True))) == XSettings(thread=True,
                                                                                                numbered=True)
    assert settings_from_json("bluesky", {"thread": True}) == BlueskySettings(thread=True)


def test_validation_refuses_a_long_text_unless_it_goes_as_a_thread(adapter):
    from bot.platforms.base import AccountRef
    from bot.secret import Secret

    account = AccountRef("x", "1", "profile", "Acme", Secret("t"))
    text = PARAGRAPHS
    assert [p.field for p in adapter.validate(account, Draft(text=text))] == ["text"]
    assert adapter.validate(account, Draft(text=text, settings=XSettings(thread=True))) == []
    too_many = "\n\n".join(f"Part {n} of a very long story." for n in range(threads.MAX_PARTS + 1))
    [problem] = adapter.validate(account, Draft(text=too_many + "x" * 300, settings=XSettings(thread=True)))
    assert "Picmim sends up to 25" in problem.message


# ---- publishing ------------------------------------------------------------------------------------------


class Clock:
    def __init__(self):
        self.now = utcnow()

    def __call__(self):
        return self.now


async def no_media(session, post, adapter, account=None):
    return [], []


@pytest.fixture
async def thread_target(engine, tokens) -> int:
    async with db.session_factory(engine)() as session:
        ws = await ensure_workspace(session, "T1")
        await session.flush()
        connection = Connection(workspace_id=ws.id, platform="x", external_user_id=tokens.external_user_id,
                                display_name="Acme Marketing")
        from bot.services.connections import apply_tokens

        apply_tokens(connection, tokens)
        session.add(connection)
        await session.flush()
        account = Account(workspace_id=ws.id, connection_id=connection.id, platform="x",
                          external_id=tokens.external_user_id, kind="profile", name="Acme Marketing",
                          handle="acmemktg")
        session.add(account)
        await session.flush()
        post = Post(workspace_id=ws.id, author_user_id="U1", text=PARAGRAPHS,
                    targets=[PostTarget(account_id=account.id, settings=to_json(XSettings(thread=True)))])
        session.add(post)
        schedule_targets(post, utcnow() - timedelta(seconds=1))
        await session.commit()
        return post.targets[0].id


def _publisher(engine, adapter, clock) -> Publisher:
    return Publisher(db.session_factory(engine), {"x": adapter}, no_media, owner="test", clock=clock)


async def _target(engine, target_id) -> PostTarget:
    async with db.session_factory(engine)() as session:
        return await session.get(PostTarget, target_id)


def _chain(fake: FakeX) -> list[dict]:
    posts = sorted(fake.posts.values(), key=lambda p: int(p["id"]))
    return [p for p in posts if p["text"] in PARAGRAPHS]


async def test_a_part_x_refuses_for_now_is_retried_without_resending_the_parts_before(engine, thread_target, adapter,
                                                                                        fake):
    clock = Clock()
    fake._faults.append(Fault("error", "/2/tweets", "POST", 1, 503, details={"after": 1}))  # part 2: 503
    [outcome] = await _publisher(engine, adapter, clock).tick()
    target = await _target(engine, thread_target)
    assert outcome.status is TargetStatus.SCHEDULED and len(target.thread_parts) == 1
    assert "Part 1 is live" in target.last_error and "never sends them again" in target.last_error
    clock.now = target.next_attempt_at + timedelta(seconds=1)
    [outcome] = await _publisher(engine, adapter, clock).tick()
    assert outcome.status is TargetStatus.PUBLISHED
    chain = _chain(fake)
    assert len(chain) == 3, "part 1 once, then parts 2 and 3"
    assert chain[1]["in_reply_to"] == chain[0]["id"] and chain[2]["in_reply_to"] == chain[1]["id"]
    target = await _target(engine, thread_target)
    assert target.remote_id == chain[0]["id"] and [p["id"] for p in target.thread_parts] == [p["id"] for p in chain]


async def test_a_part_whose_outcome_is_unknown_makes_the_thread_unconfirmed_with_the_live_parts(
        engine, thread_target, adapter, fake, monkeypatch):
    real = adapter._api

    async def answer_lost(method, path, token, **kw):
        if method == "POST" and path == "/2/tweets" and (kw.get("json") or {}).get("reply"):
            await real(method, path, token, **kw)  # part 2 reaches X and goes live…
            raise OutcomeUnknown("X", "X did not answer in time, so Picmim cannot tell whether it went out.")
        return await real(method, path, token, **kw)

    monkeypatch.setattr(adapter, "_api", answer_lost)
    [outcome] = await _publisher(engine, adapter, Clock()).tick()
    target = await _target(engine, thread_target)
    assert outcome.status is TargetStatus.UNCONFIRMED
    assert "Part 1 is live (the first: https://x.com/acmemktg/status/" in target.last_error
    assert target.remote_url == target.thread_parts[0]["url"]
    assert len(_chain(fake)) == 2, "nothing after the unknown part"

    # A person presses Send again: the thread carries on, and part 2, live after all, is not sent twice.
    monkeypatch.setattr(adapter, "_api", real)
    clock = Clock()
    async with db.session_factory(engine)() as session:
        workspace_id = (await session.get(Post, target.post_id)).workspace_id
        assert await publishing.retry_target(session, workspace_id, thread_target, clock())
        await session.commit()
    [outcome] = await _publisher(engine, adapter, clock).tick()
    assert outcome.status is TargetStatus.PUBLISHED
    chain = _chain(fake)
    assert len(chain) == 3 and chain[2]["in_reply_to"] == chain[1]["id"]


async def test_a_process_that_died_during_a_part_resumes_after_finding_it_live_at_x(engine, thread_target, adapter,
                                                                                    fake, monkeypatch):
    real = adapter._api
    sent_part_2 = asyncio.Event()

    async def dies_during_part_2(method, path, token, **kw):
        if method == "POST" and path == "/2/tweets" and (kw.get("json") or {}).get("reply"):
            await real(method, path, token, **kw)  # part 2 goes live, then the process dies before the answer
            sent_part_2.set()
            await asyncio.Event().wait()
        return await real(method, path, token, **kw)

    monkeypatch.setattr(adapter, "_api", dies_during_part_2)
    clock = Clock()
    dying = asyncio.create_task(_publisher(engine, adapter, clock).tick())
    await asyncio.wait_for(sent_part_2.wait(), 10)
    dying.cancel()
    with pytest.raises(asyncio.CancelledError):
        await dying
    target = await _target(engine, thread_target)
    assert target.status is TargetStatus.PUBLISHING and len(target.thread_parts) == 1
    monkeypatch.setattr(adapter, "_api", real)

    clock.now += publishing.LEASE + timedelta(minutes=1)  # the dead process's lease runs out
    [outcome] = await _publisher(engine, adapter, clock).tick()
    assert outcome.status is TargetStatus.PUBLISHED
    chain = _chain(fake)
    assert len(chain) == 3, "part 2 was found live, not sent again; part 3 followed it"
    assert chain[2]["in_reply_to"] == chain[1]["id"]
    target = await _target(engine, thread_target)
    assert [p["id"] for p in target.thread_parts] == [p["id"] for p in chain] and target.error_kind is None


# ---- Bluesky: reply refs and the look for a part under way ------------------------------------------------


@pytest.fixture
async def bluesky():
    """The fake Bluesky with @acme.bsky.test signed in: (fake, adapter, account)."""
    from bot.http import build_client
    from bot.platforms import bluesky_oauth
    from bot.platforms.base import AccountRef, AdapterConfig
    from bot.platforms.bluesky import BlueskyAdapter
    from bot.sandbox.fakes.bluesky import FakeBluesky
    from bot.secret import Secret

    fake = FakeBluesky().start()
    client = build_client({bluesky_oauth.PLC_DIRECTORY: fake.pds_url, bluesky_oauth.HANDLE_RESOLVER: fake.pds_url})
    try:
        did = fake.add_account("acme.bsky.test").did
        jwk = bluesky_oauth.dpop_key_to_jwk(bluesky_oauth.new_dpop_key())
        access, _ = fake.session(did, jwk)
        account = AccountRef("bluesky", did, "profile", "Acme", Secret(access), handle="acme.bsky.test",
                             extra={"did": did, "pds": fake.pds_url, "dpop_private_jwk": jwk})
        adapter = BlueskyAdapter(AdapterConfig(None, None, "http://127.0.0.1:9/oauth/bluesky/callback",
                                               "http://127.0.0.1:9"), client)
        yield fake, adapter, account
    finally:
        await client.aclose()
        fake.stop()


async def test_the_fake_bluesky_refuses_a_reply_whose_refs_are_not_a_live_post(bluesky):
    """A first comment is a reply to the post: with refs to no live post the fake refuses it (the lexicon's
    strong refs), and the post stays published with a warning."""
    fake, adapter, account = bluesky
    first = await adapter.publish(account, Draft(text="First"), [])
    wrong_cid = {"id": first.remote_id, "cid": "bafyreinotthisone", "url": first.url}
    result = await adapter.publish(account, Draft(text="First", first_comment="More below",
                                                  live_parts=(wrong_cid,)), [])
    [warning] = result.warnings
    assert warning.startswith("The post is live, but its first comment could not be added")
    [refusal] = [c for c in fake.calls_to("/xrpc/com.atproto.repo.createRecord") if c.status == 400]
    assert [r["record"]["text"] for r in fake.records.values()] == ["First"]
    comment = await adapter.publish(account, Draft(text="First", first_comment="More below", live_parts=(
        {"id": first.remote_id, "cid": fake.records[first.remote_id]["cid"], "url": first.url},)), [])
    assert comment.warnings == () and len(fake.records) == 2


async def test_a_bluesky_thread_resumed_after_its_process_stopped_finds_the_part_under_way(bluesky):
    fake, adapter, account = bluesky
    text = PARAGRAPHS.replace("Our autumn roast is here. " * 8, "Our autumn roast is here. " * 14)
    settings = BlueskySettings(thread=True)
    kept: list[dict] = []

    async def keep(part):
        kept.append(dict(part))
        if len(kept) == 2:
            raise asyncio.CancelledError  # the process dies with part 2 live but not recorded as such

    with pytest.raises(asyncio.CancelledError):
        await adapter.publish(account, Draft(text=text, settings=settings, on_part=keep), [])
    assert len(fake.records) == 2
    recorded = (kept[0],)  # only part 1 was written down before the stop
    result = await adapter.publish(account, Draft(text=text, settings=settings, live_parts=recorded,
                                                  check_next=True, on_part=lambda p: asyncio.sleep(0)), [])
    records = list(fake.records.values())
    assert len(records) == 3, "part 2 found live, not sent again; part 3 sent"
    assert fake.calls_to("/xrpc/com.atproto.repo.listRecords")
    assert records[2]["record"]["reply"]["parent"] == {"uri": kept[1]["id"], "cid": kept[1]["cid"]}
    assert result.remote_id == kept[0]["id"]
