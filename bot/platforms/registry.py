"""Every platform the product knows, by its contract key (DESIGN.md), whether or not its adapter exists yet.

A platform whose module is not written yet is listed with `adapter_ready=False`, so the product can
say "not yet available" instead of hiding it. `build_adapters` makes one adapter per ready platform.
"""

from __future__ import annotations

import importlib
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import httpx

    from bot.platforms.base import Adapter


@dataclass(frozen=True)
class PlatformInfo:
    key: str  # used in `/picmim connect <key>` and `/oauth/<key>/callback`
    name: str
    credential_prefix: str | None  # <PREFIX>_CLIENT_ID / <PREFIX>_CLIENT_SECRET; None = needs none
    accounts: str  # which account kinds it reaches, in a user's words
    developer_console: str  # where an admin registers the redirect URI
    module: str | None = None  # bot.platforms.<module>.ADAPTER is the adapter class, once it exists
    unavailable_reason: str | None = None  # set when no app can use it at all
    api: str = ""  # the API it speaks, as `check` and version warnings name it ("LinkedIn API")

    @property
    def adapter_ready(self) -> bool:
        return self.module is not None


META_API = "Meta Graph API"

PLATFORMS: tuple[PlatformInfo, ...] = (
    PlatformInfo("instagram", "Instagram (through Meta)", "META",
                 "Instagram Business and Creator accounts linked to a Facebook Page",
                 "Meta for Developers → your app → Facebook Login → Settings → Valid OAuth Redirect URIs",
                 module="instagram", api=META_API),
    PlatformInfo("instagram-login", "Instagram (direct login)", "INSTAGRAM",
                 "Instagram Business and Creator accounts, no Facebook Page needed",
                 "Meta for Developers → your app → Instagram → API setup with Instagram login → "
                 "Business login settings → OAuth redirect URIs",
                 module="instagram_login", api=META_API),
    PlatformInfo("facebook", "Facebook Pages", "META",
                 "Facebook Pages you manage",
                 "Meta for Developers → your app → Facebook Login → Settings → Valid OAuth Redirect URIs",
                 module="facebook", api=META_API),
    PlatformInfo("linkedin", "LinkedIn", "LINKEDIN",
                 "your LinkedIn profile and Company pages you administer",
                 "LinkedIn Developers → your app → Auth → Authorized redirect URLs",
                 module="linkedin", api="LinkedIn API"),
    PlatformInfo("x", "X", "X",
                 "X accounts",
                 "X Developer Portal → your app → User authentication settings → Callback URI",
                 module="x", api="X API"),
    PlatformInfo("tiktok", "TikTok", "TIKTOK",
                 "TikTok Business and Creator accounts (video and photo posts)",
                 "TikTok for Developers → your app → Login Kit → Redirect URI",
                 module="tiktok", api="TikTok API"),
    PlatformInfo("pinterest", "Pinterest", "PINTEREST",
                 "Pinterest business accounts and their boards",
                 "Pinterest Developers → your app → Configure → Redirect URIs",
                 module="pinterest", api="Pinterest API"),
    PlatformInfo("youtube", "YouTube", "GOOGLE",
                 "YouTube channels",
                 "Google Cloud console → APIs & Services → Credentials → OAuth client → "
                 "Authorized redirect URIs",
                 module="youtube", api="YouTube Data API"),
    PlatformInfo("bluesky", "Bluesky", None,
                 "Bluesky accounts on any PDS",
                 "nothing to register: the app publishes its own client metadata",
                 module="bluesky", api="Bluesky (atproto)"),
)

# Not a connectable platform: listed so the product can say why it is missing.
FACEBOOK_GROUPS = PlatformInfo(
    "facebook-groups", "Facebook Groups", None, "Facebook Groups", "",
    unavailable_reason=(
        "Meta closed the Groups API to every app on 22 April 2024 (Graph API v19), so no app, "
        "Picmim included, can publish to Facebook Groups. Pages still work."
    ),
)

BY_KEY = {p.key: p for p in PLATFORMS}
CREDENTIAL_PREFIXES: tuple[str, ...] = tuple(
    dict.fromkeys(p.credential_prefix for p in PLATFORMS if p.credential_prefix)
)


def get(key: str) -> PlatformInfo | None:
    return BY_KEY.get(key.lower())


def adapter_class(info: PlatformInfo) -> type[Adapter]:
    return importlib.import_module(f"bot.platforms.{info.module}").ADAPTER


class AdapterSettings(Protocol):
    """What `build_adapters` reads of the settings (bot.config.Settings), named here because config reads
    this module's platform list: the two never import each other."""

    @property
    def platform_credentials(self) -> Mapping[str, Any]: ...  # prefix -> PlatformCredentials
    @property
    def public_url(self) -> str: ...
    @property
    def meta_graph_version(self) -> str: ...
    @property
    def tiktok_video_source(self) -> str: ...
    def platform_configured(self, credential_prefix: str | None) -> bool: ...
    def redirect_uri(self, platform_key: str) -> str: ...


def build_adapters(settings: AdapterSettings, http: httpx.AsyncClient) -> dict[str, Adapter]:
    """One adapter per platform whose module exists and whose credentials are set (Bluesky needs none)."""
    from bot.platforms.base import AdapterConfig

    adapters: dict[str, Adapter] = {}
    for info in PLATFORMS:
        if not info.adapter_ready or not settings.platform_configured(info.credential_prefix):
            continue
        creds = settings.platform_credentials.get(info.credential_prefix or "")
        config = AdapterConfig(
            client_id=creds.client_id if creds else None,
            client_secret=creds.client_secret if creds else None,
            redirect_uri=settings.redirect_uri(info.key),
            public_url=settings.public_url,
            options={"graph_version": settings.meta_graph_version,
                     "tiktok_video_source": settings.tiktok_video_source},
        )
        adapters[info.key] = adapter_class(info)(config, http)
    return adapters


# ---- API versions: which one each adapter speaks, and until when the platform serves it -----------------

WARN_DAYS_AHEAD = 60  # token health warns this long before a version's end (bot/services/api_versions.py)

# Meta's published expiration dates (https://developers.facebook.com/docs/graph-api/changelog/versions/, read in
# its localized snapshots of 2026, which list v26.0; the English one still ended at v25.0). A version Meta has
# not dated yet ("TBD") is served at least two years from its release (same page, and Meta's Platform
# Versioning document), so its end is estimated as release + 2 years.
GRAPH_RELEASED = {"v26.0": date(2026, 7, 29), "v25.0": date(2026, 2, 18), "v24.0": date(2025, 10, 8),
                  "v23.0": date(2025, 5, 29), "v22.0": date(2025, 1, 21), "v21.0": date(2024, 10, 2),
                  "v20.0": date(2024, 5, 21), "v19.0": date(2024, 1, 23)}
GRAPH_EXPIRES = {"v25.0": date(2028, 7, 29), "v24.0": date(2028, 2, 18), "v23.0": date(2027, 10, 8),
                 "v22.0": date(2027, 5, 20), "v21.0": date(2027, 1, 21), "v20.0": date(2026, 9, 24),
                 "v19.0": date(2026, 5, 21)}
# LinkedIn: "Our versioned API releases follow a monthly cycle. These API versions are supported and stable for a
# minimum of one year before sunset" (https://learn.microsoft.com/en-us/linkedin/marketing/versioning, 2026), and
# a sunset version is refused with 426. So version YYYYMM ends about the same month a year later: taken as that
# month's first day, to warn on the safe side.


@dataclass(frozen=True)
class ApiVersion:
    api: str  # "LinkedIn API"; the three Meta platforms share "Meta Graph API"
    version: str  # as the platform writes it: 202601, v26.0, v5…
    ends: date | None  # None: the platform publishes no end
    exact: bool = False  # the platform published this date; False: estimated from its policy ("about")
    setting: str | None = None  # the env variable that chooses it, if any

    @property
    def key(self) -> str:
        """One per API and version: the slot of its warning (alerts.occurrence)."""
        return f"{self.api}:{self.version}"[:64]

    def until(self) -> str:
        """'supported until about January 2027', 'supported until 29 July 2028', or 'no end date published'."""
        if self.ends is None:
            return "no end date published"
        if self.exact:
            return f"supported until {self.ends.day} {self.ends:%B %Y}"
        return f"supported until about {self.ends:%B %Y}"

    def describe(self) -> str:
        name = f"{self.api} {self.version}" if not self.version.startswith("lexicons") else \
            f"{self.api}: {self.version}"
        return f"{name}, {self.until()}"

    def days_left(self, today: date) -> int | None:
        return None if self.ends is None else (self.ends - today).days


def linkedin_version_ends(version: str) -> date | None:
    if len(version) < 6 or not version[:6].isdigit():
        return None
    year, month = int(version[:4]), int(version[4:6])
    return date(year + 1, month, 1) if 1 <= month <= 12 else None


def graph_version_ends(version: str) -> tuple[date | None, bool]:
    """(end, exact): Meta's own date where it published one, else two years after release; None when Picmim
    does not know the version (set META_GRAPH_VERSION to one Meta lists)."""
    if version in GRAPH_EXPIRES:
        return GRAPH_EXPIRES[version], True
    released = GRAPH_RELEASED.get(version)
    if released is None:
        return None, False
    return released.replace(year=released.year + 2), False


def api_version(info: PlatformInfo, graph_version: str) -> ApiVersion | None:
    """The API version `info`'s adapter speaks: its module's API_VERSION, or for Meta the configured
    META_GRAPH_VERSION (`graph_version`)."""
    if not info.adapter_ready:
        return None
    if info.api == META_API:
        ends, exact = graph_version_ends(graph_version)
        return ApiVersion(META_API, graph_version, ends, exact, setting="META_GRAPH_VERSION")
    version = str(importlib.import_module(f"bot.platforms.{info.module}").API_VERSION)
    if info.key == "linkedin":
        return ApiVersion(info.api, version, linkedin_version_ends(version))
    if info.key == "bluesky":
        return ApiVersion(info.api, version, None)
    return ApiVersion(info.api, version if version.startswith("v") else f"v{version}", None)


def api_versions(graph_version: str, keys: Collection[str] | None = None) -> dict[ApiVersion, list[PlatformInfo]]:
    """Each API version in use (of the platforms in `keys`, default all) with the platforms speaking it."""
    found: dict[ApiVersion, list[PlatformInfo]] = {}
    for info in PLATFORMS:
        if keys is not None and info.key not in keys:
            continue
        version = api_version(info, graph_version)
        if version is not None:
            found.setdefault(version, []).append(info)
    return found
