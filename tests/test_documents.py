"""Documents (a PDF for a LinkedIn document post): recognised from their bytes, kept unconverted, pages counted."""

from __future__ import annotations

import zlib

import pytest

from bot.media import documents, pictures
from bot.media.errors import MediaError
from tests.fakes.media import make_pdf


def test_a_pdf_is_a_document_with_its_pages_counted():
    facts, details = pictures.probe(make_pdf(pages=7), filename="deck.pdf")
    assert (facts.kind, facts.mimetype, facts.pages, facts.filename) == ("document", "application/pdf", 7, "deck.pdf")
    assert details["pages"] == 7


def test_pages_are_counted_in_compressed_object_streams_too():
    packed = zlib.compress(b"<< /Type /Pages /Kids [3 0 R] /Count 42 >> << /Type /Page /Parent 2 0 R >>")
    pdf = (b"%PDF-1.7\n1 0 obj\n<< /Type /ObjStm /N 2 /First 9 /Filter /FlateDecode >>\nstream\n" + packed
           + b"\nendstream\nendobj\nstartxref\n9\n%%EOF\n")
    assert documents.page_count(pdf) == 42
    assert pictures.probe(pdf)[0].pages == 42


def test_a_pdf_whose_pages_cannot_be_found_has_none_and_a_cut_off_pdf_is_refused():
    assert pictures.probe(b"%PDF-1.4\n% nothing here\n%%EOF\n")[0].pages is None
    with pytest.raises(MediaError, match="“deck.pdf” is cut off before its end"):
        pictures.probe(make_pdf(pages=3)[:-200], filename="deck.pdf")
