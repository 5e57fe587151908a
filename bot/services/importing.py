"""Bulk import: a CSV file of posts, each row read into a `Composition` and checked as the compose window checks a
submitted post (the same rules, the same words), the good rows created as composed posts are (waiting for approval
where approval applies) and each refused row named with its number (the header is row 1) and the reason.

Free of Slack: the handler downloads the file and says what `import_posts` returns. Nothing of a refused row is
kept; with `all_or_nothing`, nothing at all unless every row is fine.
"""

from __future__ import annotations

import asyncio
import csv
import dataclasses
import hashlib
import io
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.media import renditions, retention
from bot.media.errors import MediaError
from bot.media.store import Incoming, MediaStore
from bot.media.store import facts as media_facts
from bot.platforms import link_cards, registry
from bot.platforms.base import Adapter
from bot.platforms.settings import (
    FACEBOOK_POST_TYPES,
    INSTAGRAM_MAX_COLLABORATORS,
    INSTAGRAM_POST_TYPES,
    LINKEDIN_VISIBILITY,
    SETTINGS_CLASSES,
    X_REPLY_SETTINGS,
    YOUTUBE_CATEGORIES,
    YOUTUBE_PRIVACY,
    YouTubeSettings,
    default_settings,
)
from bot.services import audit, roles, slots
from bot.services.composing import Choice, Composition, accounts_by_id, choices, create_post, form_problems
from bot.services.composing import problems_by_field as platform_problems
from bot.services.submitting import release
from bot.storage.models import Account, MediaItem, PostStatus, Workspace

MAX_ROWS = 500  # rows of posts per file (the header not counted)
MAX_FILE_BYTES = 2 * 1024 * 1024  # 500 rows of long posts fit well within this
TEXT_MAX = 3000  # as the compose window's text box takes (bot/views/compose.py)

TEXT, ACCOUNTS, WHEN, MEDIA_URL, FIRST_COMMENT, ALT_TEXT = "text", "accounts", "when", "media_url", \
    "first_comment", "alt_text"
NOW, NEXT_SLOT = "now", ("next slot", "next free slot")
# TikTok's "Who can see it", as the compose window words it (bot/views/compose.py; services do not read views).
TIKTOK_PRIVACY = (("PUBLIC_TO_EVERYONE", "Everyone"), ("FOLLOWER_OF_CREATOR", "Followers"),
                  ("MUTUAL_FOLLOW_FRIENDS", "Friends"), ("SELF_ONLY", "Only me"))
YES, NO = ("yes", "y", "true", "1", "x"), ("no", "n", "false", "0", "")  # "x": a ticked box in a sheet

# The choices a setting column takes: each written as its value or its label, in any case.
_CHOICES: dict[tuple[str, str], tuple[tuple[str | None, str], ...]] = {
    ("youtube", "privacy"): YOUTUBE_PRIVACY, ("youtube", "category_id"): YOUTUBE_CATEGORIES,
    ("linkedin", "visibility"): LINKEDIN_VISIBILITY, ("x", "reply_settings"): X_REPLY_SETTINGS,
    ("instagram", "post_type"): INSTAGRAM_POST_TYPES, ("facebook", "post_type"): FACEBOOK_POST_TYPES,
    ("tiktok", "privacy_level"): TIKTOK_PRIVACY,
}
# Shorter column names people write for a few settings.
_ALIASES = {"youtube_category": ("youtube", "category_id"), "youtube_playlist": ("youtube", "playlist_id"),
            "tiktok_privacy": ("tiktok", "privacy_level"), "x_who_can_reply": ("x", "reply_settings"),
            "x_reply": ("x", "reply_settings")}
PINTEREST_BOARD = "pinterest_board"


def setting_columns() -> dict[str, tuple[str, str]]:
    """Column name -> (platform, field) of every per-network setting the compose window has: `<network>_<field>`
    (Instagram's settings as `instagram_…`, for both ways of connecting it), plus the short aliases."""
    found: dict[str, tuple[str, str]] = {}
    for cls in dict.fromkeys(SETTINGS_CLASSES.values()):
        platform = cls.platforms[0]
        for f in dataclasses.fields(cls):
            if f.name != "board_id":
                found[f"{platform}_{f.name}"] = (platform, f.name)
    return found | _ALIASES


SETTING_COLUMNS = setting_columns()


def known_columns() -> set[str]:
    variants = {f"text_{p.key}" for p in registry.PLATFORMS}
    return {TEXT, ACCOUNTS, WHEN, MEDIA_URL, FIRST_COMMENT, ALT_TEXT, PINTEREST_BOARD} | variants \
        | set(SETTING_COLUMNS)


class FileRefused(Exception):
    """The whole file cannot be imported; the message says why in plain words."""


@dataclass(frozen=True)
class Sheet:
    columns: tuple[str, ...]  # as normalised (lower case, spaces as _)
    rows: tuple[tuple[int, dict[str, str]], ...]  # (row number, the header being row 1; column -> value)
    unknown: tuple[str, ...]  # columns Picmim does not read, as written


@dataclass(frozen=True)
class Scheduled:
    row: int
    post_id: int
    accounts: tuple[str, ...]  # "X · Acme Marketing"
    when: datetime | None  # None: now
    pending_approval: bool


@dataclass(frozen=True)
class RowRefused:
    row: int
    reason: str


@dataclass
class Outcome:
    filename: str
    scheduled: list[Scheduled] = field(default_factory=list)
    refused: list[RowRefused] = field(default_factory=list)
    unknown_columns: tuple[str, ...] = ()
    all_or_nothing: bool = False
    kept_none: bool = False  # all or nothing, and a row was refused: nothing was imported

    @property
    def pending_ids(self) -> list[int]:
        return [s.post_id for s in self.scheduled if s.pending_approval]


@dataclass(frozen=True)
class Importer:
    """Who imports, with what rights, in which zone (for times written without an offset)."""

    user_id: str
    access: roles.Access
    timezone: str | None


# ---- reading the file ------------------------------------------------------------------------------


def _normal(name: str) -> str:
    return re.sub(r"\s+", "_", name.strip().lower())


def read_sheet(data: bytes) -> Sheet:
    """The file's header and rows; raises FileRefused. UTF-8 with or without a BOM; comma or semicolon, as the
    header line shows."""
    if len(data) > MAX_FILE_BYTES:
        raise FileRefused(f"The file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB: split it into smaller "
                          "files.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise FileRefused("The file is not UTF-8 text: in your spreadsheet, save it as “CSV UTF-8” and send it "
                          "again.") from None
    header_line = text.split("\n", 1)[0]
    delimiter = ";" if header_line.count(";") > header_line.count(",") else ","
    try:
        records = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error as exc:
        raise FileRefused(f"The file is not a CSV file Picmim can read ({exc}).") from None
    if not records or not any(cell.strip() for cell in records[0]):
        raise FileRefused("The file is empty: its first row should name the columns (text, accounts, when…).")
    written = [cell.strip() for cell in records[0]]
    columns = tuple(_normal(c) for c in written)
    if TEXT not in columns:
        raise FileRefused("The file has no “text” column: its first row should name the columns, e.g. "
                          "text, accounts, when.")
    known = known_columns()
    unknown = tuple(w for w, c in zip(written, columns, strict=True) if c and c not in known)
    rows = []
    for number, record in enumerate(records[1:], start=2):
        if not any(cell.strip() for cell in record):
            continue  # a blank line (often the last) is no post
        rows.append((number, {c: (record[i] if i < len(record) else "").strip() for i, c in enumerate(columns)
                              if c}))
    if len(rows) > MAX_ROWS:
        raise FileRefused(f"The file has {len(rows)} posts; Picmim imports up to {MAX_ROWS} at a time: split it "
                          "into smaller files.")
    if not rows:
        raise FileRefused("The file has no posts: only the row naming the columns.")
    return Sheet(columns, tuple(rows), unknown)


# ---- reading one row ----------------------------------------------------------------------------------


class RowProblem(Exception):
    """What makes a row unusable before any check of the compose window runs."""


@dataclass
class RowDraft:
    row: int
    composition: Composition
    media_url: str | None = None
    next_slot: bool = False


def _platform_key(written: str) -> str | None:
    key = written.strip().lower()
    return key if registry.get(key) else None


def resolve_accounts(written: str, offered: Sequence[Choice]) -> list[int]:
    """`x:@picmim; linkedin:Picmim Coffee` -> account ids (by handle, with or without @, or by name)."""
    if not written.strip():
        raise RowProblem("Choose at least one account: write it in the accounts column, e.g. x:@picmim.")
    found: list[int] = []
    for part in (p.strip() for p in written.split(";")):
        if not part:
            continue
        platform, colon, who = part.partition(":")
        key = _platform_key(platform)
        if not colon or key is None:
            keys = ", ".join(p.key for p in registry.PLATFORMS)
            raise RowProblem(f"“{part}” does not name a network and an account: write it as network:account, e.g. "
                             f"x:@picmim (networks: {keys}).")
        wanted = who.strip().lower()
        matches = [c for c in offered if c.platform == key and (
            (c.handle or "").lstrip("@").lower() == wanted.lstrip("@") or c.name.strip().lower() == wanted)]
        if not matches:
            name = registry.get(key).name
            raise RowProblem(f"No connected {name} account is called “{who.strip()}”: check the name in "
                             "`/picmim accounts`.")
        found.append(matches[0].id)
    return list(dict.fromkeys(found))


def _zone(timezone: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(timezone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def parse_when(written: str, timezone: str | None) -> tuple[datetime | None, bool]:
    """(the time in UTC or None for now, whether it is the next free slot)."""
    value = written.strip()
    if value.lower() == NOW:
        return None, False
    if value.lower() in NEXT_SLOT:
        return None, True
    if not value:
        raise RowProblem("Say when in the when column: now, a date and time (2026-05-04 09:30), or next slot.")
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        raise RowProblem(f"“{value}” is not a time Picmim reads: write now, a date and time as 2026-05-04 09:30 "
                         "(your time zone) or 2026-05-04T09:30+02:00, or next slot.") from None
    if len(value) <= len("2026-05-04"):  # a day without a time would quietly mean midnight
        raise RowProblem(f"“{value}” has no time of day: write it as {value} 09:30, or now.")
    if when.tzinfo is None:
        when = when.replace(tzinfo=_zone(timezone))
    return when.astimezone(UTC), False


def _choice(platform: str, name: str, column: str, value: str) -> str | None:
    options = _CHOICES[(platform, name)]
    for key, label in options:
        if value.lower() in ((key or "").lower(), label.lower()):
            return key
    listed = ", ".join(label for _, label in options)
    raise RowProblem(f"{column} is one of {listed} (not “{value}”).")


def _yes_no(column: str, value: str) -> bool:
    if value.lower() in YES:
        return True
    if value.lower() in NO:
        return False
    raise RowProblem(f"{column} is yes or no (not “{value}”).")


def _setting_value(platform: str, name: str, column: str, value: str, default):
    if (platform, name) in _CHOICES:
        return _choice(platform, name, column, value)
    if name == "made_for_kids":
        return _yes_no(column, value)
    if isinstance(default, bool):
        return _yes_no(column, value)
    if isinstance(default, tuple):
        words = tuple(dict.fromkeys(w.strip().lstrip("@") if name == "collaborators" else w.strip()
                                    for w in re.split(r"[,\n]", value) if w.strip()))
        return words[:INSTAGRAM_MAX_COLLABORATORS + 1] if name == "collaborators" else words
    return value


def _settings(cells: Mapping[str, str], platforms: set[str], text: str) -> dict:
    """Each chosen network's settings, from its columns over the compose window's defaults."""
    found = {}
    for platform in platforms:
        chosen = default_settings(platform)
        if chosen is None:
            continue
        own = chosen.platforms[0]
        changes = {}
        for column, (owner, name) in SETTING_COLUMNS.items():
            value = cells.get(column, "")
            if owner != own or not value:
                continue
            changes[name] = _setting_value(owner, name, column, value, getattr(chosen, name))
        chosen = dataclasses.replace(chosen, **changes)
        if isinstance(chosen, YouTubeSettings) and not chosen.title:
            chosen = dataclasses.replace(chosen, title=_youtube_title(text))  # as the window fills it in
        found[platform] = chosen
    return found


def _youtube_title(text: str) -> str:
    """The window's title from the text's first line (bot/views/compose.py youtube_title)."""
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    first = first.replace("<", "").replace(">", "")
    return first if len(first) <= 100 else first[:99].rstrip() + "…"


def _boards(cells: Mapping[str, str], chosen: Sequence[Choice]) -> dict[int, str]:
    """Each Pinterest account's board: the one named in pinterest_board (its name or id), else its default."""
    found = {}
    wanted = cells.get(PINTEREST_BOARD, "").strip()
    for account in (c for c in chosen if c.platform == "pinterest"):
        boards = [b for b in account.settings.get("boards") or [] if isinstance(b, dict) and b.get("id")]
        if wanted:
            match = next((b for b in boards if wanted.lower() in (str(b["id"]).lower(),
                                                                  str(b.get("name") or "").lower())), None)
            if match is None:
                raise RowProblem(f"Pinterest · {account.name} has no board called “{wanted}” (boards as last "
                                 "synced; Refresh in `/picmim accounts` brings new ones).")
            found[account.id] = str(match["id"])
        elif account.settings.get("default_board_id") or boards:
            found[account.id] = str(account.settings.get("default_board_id") or boards[0]["id"])
    return found


def _playlist(settings: dict, chosen: Sequence[Choice]) -> None:
    """youtube_playlist written as a playlist's title or id: its id, from the channel's playlists as last synced."""
    youtube = settings.get("youtube")
    if not isinstance(youtube, YouTubeSettings) or not youtube.playlist_id:
        return
    wanted = youtube.playlist_id.strip().lower()
    for account in (c for c in chosen if c.platform == "youtube"):
        lists = [p for p in account.settings.get("playlists") or [] if isinstance(p, dict) and p.get("id")]
        match = next((p for p in lists if wanted in (str(p["id"]).lower(), str(p.get("title") or "").lower())), None)
        if match is None:
            raise RowProblem(f"YouTube · {account.name} has no playlist called “{youtube.playlist_id}” (playlists as "
                             "last synced; Refresh in `/picmim accounts` brings new ones).")
        settings["youtube"] = dataclasses.replace(youtube, playlist_id=str(match["id"]))


def read_row(number: int, cells: Mapping[str, str], offered: Sequence[Choice], timezone: str | None) -> RowDraft:
    """One row as the compose window would hold it; raises RowProblem."""
    text = cells.get(TEXT, "")
    if len(text) > TEXT_MAX:
        raise RowProblem(f"The text has {len(text):,} characters; the compose window takes up to {TEXT_MAX:,}.")
    account_ids = resolve_accounts(cells.get(ACCOUNTS, ""), offered)
    when, next_slot = parse_when(cells.get(WHEN, ""), timezone)
    chosen = [c for c in offered if c.id in account_ids]
    platforms = {c.platform for c in chosen}
    variants = {}
    for column, value in cells.items():
        key = column.removeprefix("text_") if column.startswith("text_") else None
        if key and value and key in platforms:
            variants[key] = value
    settings = _settings(cells, platforms, text)
    _playlist(settings, chosen)
    composition = Composition(text=text, account_ids=account_ids, variants=variants,
                              first_comment=cells.get(FIRST_COMMENT) or None, when=when, schedule=when is not None,
                              settings=settings, boards=_boards(cells, chosen))
    media_url = cells.get(MEDIA_URL) or None
    if media_url:
        composition.alt_texts = [cells.get(ALT_TEXT, "")]
    return RowDraft(number, composition, media_url, next_slot)


async def _next_slot(session: AsyncSession, account_ids: Sequence[int], after: datetime) -> datetime | None:
    """The next free posting slot after `after` of the first of the row's accounts that has slots (as the compose
    window's "Next free slot"), or None when none has. Rows already imported from the same file hold their slots:
    their posts are in this session."""
    for account_id in account_ids:
        moment = await slots.next_free_slot(session, account_id, after)
        if moment is not None:
            return moment
    return None


# ---- checking and creating ---------------------------------------------------------------------------


def _reason(problems: Mapping[str, Sequence[str]]) -> str:
    return " ".join(dict.fromkeys(m for messages in problems.values() for m in messages))


async def _fetch_media(http: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], store: MediaStore,
                       workspace_id: int, url: str) -> tuple[MediaItem | None, bool, str | None]:
    """A media_url's picture or video, fetched with the link cards' guard (public addresses only; pictures up to
    5 MB, MP4 and MOV videos up to the compose window's 10 MB a file), streamed to disk and stored as a composed
    post's attachment is: (item, whether it is new, or why it could not be)."""
    fh, path = await asyncio.to_thread(store.incoming)
    digest, size = hashlib.sha256(), 0

    async def write(chunk: bytes) -> None:
        nonlocal size
        digest.update(chunk)
        size += len(chunk)
        await asyncio.to_thread(fh.write, chunk)

    try:
        try:
            with fh:
                kind = await link_cards.fetch_media(http, url, write)
        except link_cards.LinkRefused as exc:
            return None, False, f"The file at media_url could not be fetched: {exc}"
        name = url.rsplit("/", 1)[-1].split("?")[0][:100] or ("video" if kind.startswith("video/") else "picture")
        async with sessions() as session:
            item, new = await store.store_incoming(session, workspace_id, Incoming(path, digest.hexdigest(), size),
                                                   name, kind)
            await session.commit()
        if not item.mimetype.startswith(("image/", "video/")):  # a PDF sent as a picture, say: discarded as unused
            return item, new, _NOT_MEDIA
        return item, new, None
    except MediaError:
        return None, False, _NOT_MEDIA
    finally:
        await asyncio.to_thread(path.unlink, missing_ok=True)


_NOT_MEDIA = ("The file at media_url is not a picture or video Picmim can use: link a JPEG, PNG, GIF, WebP, HEIC or "
              "AVIF picture, or an MP4 or MOV video.")


async def import_posts(sessions: async_sessionmaker[AsyncSession], workspace: Workspace,
                       adapters: Mapping[str, Adapter], http: httpx.AsyncClient, store: MediaStore,
                       importer: Importer, filename: str, data: bytes, all_or_nothing: bool,
                       now: datetime, next_slot: Callable | None = None) -> Outcome:
    """Read, check and create the file's posts. Raises FileRefused for a file that cannot be read at all."""
    sheet = read_sheet(data)
    outcome = Outcome(filename, unknown_columns=sheet.unknown, all_or_nothing=all_or_nothing)
    access = importer.access
    async with sessions() as session:
        offered = await choices(session, workspace.id, adapters)
    names = {c.id: f"{c.platform_name} · {c.name}" for c in offered}

    drafts: list[RowDraft] = []
    for number, cells in sheet.rows:
        try:
            drafts.append(read_row(number, cells, offered, importer.timezone))
        except RowProblem as exc:
            outcome.refused.append(RowRefused(number, str(exc)))

    # Pictures and videos are fetched before the posts' transaction (a slow site holds no database lock), once a
    # link.
    fetched: dict[str, tuple[MediaItem | None, bool, str | None]] = {}
    new_media: set[int] = set()
    for draft in drafts:
        if draft.media_url and draft.media_url not in fetched:
            fetched[draft.media_url] = await _fetch_media(http, sessions, store, workspace.id, draft.media_url)
            item, new, _ = fetched[draft.media_url]
            if item is not None and new:
                new_media.add(item.id)

    used_media: set[int] = set()
    async with sessions() as session:
        accounts = {a.id: a for a in await accounts_by_id(session, workspace.id, [c.id for c in offered])}
        for draft in drafts:
            problem = await _check(session, workspace, adapters, access, names, offered, accounts, draft, fetched,
                                   now, next_slot or _next_slot)
            if problem:
                outcome.refused.append(RowRefused(draft.row, problem))
                continue
            composition = draft.composition
            items = [fetched[draft.media_url][0]] if draft.media_url else []
            needs_approval = access.needs_approval(composition.account_ids)
            post = await create_post(session, workspace, importer.user_id, composition, items, None,
                                     importer.timezone, now, None, needs_approval)
            await audit.record_post(session, post, importer.user_id, audit.IMPORT, "created",
                                    {"text": audit.short(post.text),
                                     "accounts": sorted(names[a] for a in composition.account_ids),
                                     "file": filename[:100], "row": draft.row}, at=now)
            pending = post.status is PostStatus.PENDING_APPROVAL
            await audit.record_post(session, post, importer.user_id, audit.IMPORT,
                                    "submitted for approval" if pending else "scheduled",
                                    {"version": post.version} if pending
                                    else {"time (UTC)": post.scheduled_at.strftime("%Y-%m-%d %H:%M")
                                          if post.scheduled_at else "now"}, at=now)
            if items:
                await renditions.request(session, post.id, adapters)
            await release(session, post.id)  # no status message to wait for: it comes with the first change
            used_media.update(i.id for i in items)
            outcome.scheduled.append(Scheduled(draft.row, post.id, tuple(names[a] for a in composition.account_ids),
                                               composition.when, pending))
        if all_or_nothing and outcome.refused:
            await session.rollback()
            outcome.kept_none, outcome.scheduled = True, []
            used_media = set()
        else:
            await session.commit()
    outcome.refused.sort(key=lambda r: r.row)
    await retention.discard(sessions, store, new_media - used_media)  # a refused row keeps nothing
    return outcome


async def _check(session: AsyncSession, workspace: Workspace, adapters: Mapping[str, Adapter], access: roles.Access,
                 names: Mapping[int, str], offered: Sequence[Choice], accounts: Mapping[int, Account], draft: RowDraft,
                 fetched: Mapping[str, tuple[MediaItem | None, bool, str | None]], now: datetime,
                 next_slot: Callable) -> str | None:
    """Why the row cannot be posted, in the compose window's words (bot/services/submitting.py's order), or None."""
    composition = draft.composition
    barred = [a for a in composition.account_ids if not access.may_post(a)]
    if barred:
        return roles.refused_accounts(access.rules, dict(names), barred)
    if draft.next_slot:
        slot = await next_slot(session, composition.account_ids, now)
        if slot is None:
            first = names.get(composition.account_ids[0], "This account")
            return (f"{first} has no posting slots, so there is no next slot: write a date and time in the when "
                    "column instead.")
        composition.when, composition.schedule = slot, True
    problems = form_problems(composition, offered, now)
    if problems:
        return _reason(problems)
    needs_approval = access.needs_approval(composition.account_ids)
    if needs_approval or workspace.approval_required:
        if problem := roles.mixed_review(access.rules, composition.account_ids):
            return problem
        if needs_approval and not roles.reviewing(workspace, access.rules,
                                                  composition.account_ids).approval_channel_id:
            return roles.NO_APPROVERS
    facts = []
    if draft.media_url:
        item, _new, error = fetched[draft.media_url]
        if error:
            return error
        facts = [media_facts(item, composition.alt_text(0))]
    chosen = [accounts[a] for a in composition.account_ids if a in accounts]
    problems = platform_problems(chosen, adapters, composition, facts)
    return _reason(problems) if problems else None
