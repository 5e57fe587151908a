"""The link card previews the compose window shows under Bluesky and LinkedIn: the card each network would make
of the text's first link (bot/platforms/link_cards.py does the bounded fetch; nothing here knows Slack)."""

from __future__ import annotations

from collections.abc import Iterable

import httpx

from bot.platforms.link_cards import LinkRefused, fetch_card, first_link

# The networks whose posts turn the text's first link into a card (when no photo or video is attached).
CARD_PLATFORMS = ("bluesky", "linkedin")


def links_to_preview(texts: Iterable[str | None]) -> list[str]:
    return list(dict.fromkeys(link for text in texts if (link := first_link(text))))


async def previews(http: httpx.AsyncClient, links: Iterable[str]) -> dict[str, dict]:
    """link -> {title, description, image_url}, or {error} saying why there is no card."""
    found: dict[str, dict] = {}
    for link in links:
        try:
            card = await fetch_card(http, link)
        except LinkRefused as exc:
            found[link] = {"error": str(exc)}
        else:
            found[link] = {"title": card.title, "description": card.description, "image_url": card.image_url}
    return found
