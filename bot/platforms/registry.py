"""Every platform the product knows, by its contract key (DESIGN.md), whether or not its adapter exists yet.

A platform whose module is not written yet is listed with `adapter_ready=False`, so the product can
say "not yet available" instead of hiding it. `build_adapters` makes one adapter per ready platform.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass
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

    @property
    def adapter_ready(self) -> bool:
        return self.module is not None


PLATFORMS: tuple[PlatformInfo, ...] = (
    PlatformInfo("instagram", "Instagram (through Meta)", "META",
                 "Instagram Business and Creator accounts linked to a Facebook Page",
                 "Meta for Developers → your app → Facebook Login → Settings → Valid OAuth Redirect URIs",
                 module="instagram"),
    PlatformInfo("instagram-login", "Instagram (direct login)", "INSTAGRAM",
                 "Instagram Business and Creator accounts, no Facebook Page needed",
                 "Meta for Developers → your app → Instagram → API setup with Instagram login → "
                 "Business login settings → OAuth redirect URIs",
                 module="instagram_login"),
    PlatformInfo("facebook", "Facebook Pages", "META",
                 "Facebook Pages you manage",
                 "Meta for Developers → your app → Facebook Login → Settings → Valid OAuth Redirect URIs",
                 module="facebook"),
    PlatformInfo("linkedin", "LinkedIn", "LINKEDIN",
                 "your LinkedIn profile and Company pages you administer",
                 "LinkedIn Developers → your app → Auth → Authorized redirect URLs",
                 module="linkedin"),
    PlatformInfo("x", "X", "X",
                 "X accounts",
                 "X Developer Portal → your app → User authentication settings → Callback URI",
                 module="x"),
    PlatformInfo("tiktok", "TikTok", "TIKTOK",
                 "TikTok Business and Creator accounts (video and photo posts)",
                 "TikTok for Developers → your app → Login Kit → Redirect URI",
                 module="tiktok"),
    PlatformInfo("pinterest", "Pinterest", "PINTEREST",
                 "Pinterest business accounts and their boards",
                 "Pinterest Developers → your app → Configure → Redirect URIs",
                 module="pinterest"),
    PlatformInfo("youtube", "YouTube", "GOOGLE",
                 "YouTube channels",
                 "Google Cloud console → APIs & Services → Credentials → OAuth client → "
                 "Authorized redirect URIs",
                 module="youtube"),
    PlatformInfo("bluesky", "Bluesky", None,
                 "Bluesky accounts on any PDS",
                 "nothing to register: the app publishes its own client metadata",
                 module="bluesky"),
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
