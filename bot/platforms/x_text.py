"""How X counts a post's text: twitter-text v3 (URLs 23, CJK and emoji 2, after NFC normalisation).

The counting is twitter-text-parser's, a port of twitter/twitter-text that passes the reference
conformance suite; hand-written URL and emoji rules would drift from X's own counter.
"""

from __future__ import annotations

from twitter_text import parse_tweet
from twitter_text.has_invalid_characters import has_invalid_characters

from bot.platforms.base import Counting
from bot.platforms.validation import count_text

MAX_WEIGHTED_LENGTH = 280  # twitter-text config v3 maxWeightedTweetLength (Premium accounts may post more)


def weighted_length(text: str) -> int:
    """The length X shows in its composer and enforces: 280 at most."""
    return parse_tweet(text).weightedLength


def invalid_characters(text: str) -> list[str]:
    """Characters X refuses in a post (U+FFFE, U+FFFF and the like)."""
    return sorted({ch for ch in text if has_invalid_characters(ch)})


def count(text: str, counting: Counting) -> int:
    """A `counter` for validation.check_limits: X's weights for WEIGHTED limits, the usual counts otherwise."""
    if counting is Counting.WEIGHTED:
        return weighted_length(text)
    return count_text(text, counting)
