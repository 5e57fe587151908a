"""Figures that grow over time on the sandbox's simulated networks: each post's reach, likes and so on follow a
saturating curve from the moment it went live, and accounts gain followers slowly, so stats, follow-ups and
digests have something to show. Deterministic: the same post and the same age give the same figures."""

from __future__ import annotations

import hashlib
import math

HOUR = 3600.0
# A post's reach: a burst in its first minutes (so a person trying the sandbox sees figures at once), then a
# slower climb over the day.
BURST_SHARE, BURST_SECONDS = 0.3, 10 * 60
CLIMB_SECONDS = 6 * HOUR


def _share(key: str, salt: str) -> float:
    """A stable number in [0, 1) for this post (or account) and figure."""
    digest = hashlib.sha256(f"{salt}:{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2 ** 64


def post_figures(key: str, age_seconds: float) -> dict[str, int]:
    """What a post shows `age_seconds` after it went live: impressions (and views), reach, likes, comments,
    shares, saves and link clicks, each its own share of the impressions."""
    age = max(0.0, age_seconds)
    peak = 800 + int(5200 * _share(key, "peak"))
    impressions = int(peak * (BURST_SHARE * (1 - math.exp(-age / BURST_SECONDS))
                              + (1 - BURST_SHARE) * (1 - math.exp(-age / CLIMB_SECONDS))))
    likes = int(impressions * (0.02 + 0.05 * _share(key, "likes")))
    return {
        "impressions": impressions,
        "views": impressions,
        "reach": int(impressions * 0.72),
        "likes": likes,
        "comments": likes // 8,
        "shares": likes // 5,
        "saves": likes // 6,
        "clicks": int(impressions * (0.005 + 0.02 * _share(key, "clicks"))),
    }


def followers(key: str, start: int, age_seconds: float) -> int:
    """An account's followers `age_seconds` after the sandbox began: a few more every hour."""
    per_hour = 2 + 6 * _share(key, "followers")
    return start + int(max(0.0, age_seconds) / HOUR * per_hour)
