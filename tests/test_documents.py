"""Documents (a PDF for a LinkedIn document post): recognised from their bytes, kept unconverted, pages counted."""

from __future__ import annotations

import io

import pytest

from bot.media import documents, pictures
from bot.media.errors import MediaError
from tests.fakes.media import make_pdf


def test_a_pdf_is_a_document_with_its_pages_counted():
    facts, details = pictures.probe(make_pdf(pages=7), filename="deck.pdf")
    assert (facts.kind, facts.mimetype, facts.pages, facts.filename) == ("document", "application/pdf", 7, "deck.pdf")
    assert details["pages"] == 7


def test_pages_are_counted_in_a_pdf_written_by_another_tool_too():
    from pypdf import PdfWriter

    writer = PdfWriter()
    for _ in range(42):
        writer.add_blank_page(width=960, height=540)
    for page in writer.pages:
        page.compress_content_streams()
    written = io.BytesIO()
    writer.write(written)
    assert documents.page_count(written.getvalue()) == 42
    assert pictures.probe(written.getvalue())[0].pages == 42


def test_a_pdf_whose_pages_cannot_be_found_has_none_and_a_cut_off_pdf_is_refused():
    assert pictures.probe(b"%PDF-1.4\n% nothing here\n%%EOF\n")[0].pages is None
    with pytest.raises(MediaError, match="“deck.pdf” is cut off before its end"):
        pictures.probe(make_pdf(pages=3)[:-200], filename="deck.pdf")


async def test_only_linkedin_takes_a_pdf_every_other_network_refuses_it_in_its_own_name(tmp_path):
    from bot.config import load_settings
    from bot.http import build_client
    from bot.platforms import registry
    from bot.platforms.base import AccountRef, Draft
    from bot.platforms.settings import default_settings
    from bot.secret import Secret

    credentials = {f"{p}_{part}": "set" for p in ("META", "INSTAGRAM", "LINKEDIN", "X", "TIKTOK", "PINTEREST",
                                                   "GOOGLE") for part in ("CLIENT_ID", "CLIENT_SECRET")}
    settings = load_settings({"PUBLIC_URL": "https://picmim.acme.test", **credentials}, require_slack=False,
                             env_file=str(tmp_path / "none.env"))
    http = build_client({})
    try:
        adapters = registry.build_adapters(settings, http)
    finally:
        await http.aclose()
    assert {"instagram", "facebook", "x", "pinterest", "tiktok", "youtube", "bluesky", "linkedin"} <= set(adapters)
    facts = pictures.probe(make_pdf(pages=2), filename="deck.pdf")[0]
    for key, adapter in adapters.items():
        account = AccountRef(key, "1", "profile", "Acme", Secret("t"),
                             settings={"boards": [{"id": "1", "name": "B"}], "default_board_id": "1"})
        draft = Draft("Our deck", media=(facts,), settings=default_settings(key))
        said = [p.message for p in adapter.validate(account, draft) if p.field == "media"]
        refused = [m for m in said if "does not take documents such as “deck.pdf”: a PDF goes to LinkedIn only" in m]
        assert bool(refused) is (key != "linkedin"), (key, said)
