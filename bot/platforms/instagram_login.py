"""Instagram through direct Instagram login (key `instagram-login`, credentials INSTAGRAM_*).

No Facebook Page is needed: the user signs in on instagram.com, the code is exchanged at
api.instagram.com for a 1-hour token, which graph.instagram.com trades for a 60-day one that renews
itself with `ig_refresh_token`. Publishing uses the same container flow as Facebook Login, on
graph.instagram.com, with `me` as the account node (meta.md B: which id to publish with is
UNCERTAIN; `me` always resolves to the token's own account).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import httpx

from bot.platforms.base import (
    AccessRevoked,
    AccountRef,
    Adapter,
    AdapterConfig,
    RemoteAccount,
    Scope,
    TokenExpired,
    TokenSet,
)
from bot.platforms.instagram_publishing import InstagramPublishing
from bot.platforms.meta_graph import (
    GRAPH_INSTAGRAM,
    IG_REFRESH_MIN_AGE,
    INSTAGRAM_API,
    INSTAGRAM_WWW,
    LONG_LIVED,
    Context,
    Graph,
    Polling,
    expiry,
    graph_version,
    missing_permission_refusal,
)
from bot.platforms.oauth import authorize_url
from bot.platforms.registry import BY_KEY
from bot.secret import Secret

BASIC = Scope("instagram_business_basic", "see the account's name, picture and follower count")
PUBLISH = Scope("instagram_business_content_publish", "publish posts, carousels and Reels")
COMMENT = Scope("instagram_business_manage_comments", "add a post's first comment")
INSIGHTS = Scope("instagram_business_manage_insights", "read views, reach and other figures for analytics digests")

KINDS = {"BUSINESS": "business", "MEDIA_CREATOR": "creator"}


class InstagramLoginAdapter(InstagramPublishing, Adapter):
    key = "instagram-login"
    name = BY_KEY[key].name
    label = "Instagram"
    # Meta documents no PKCE for Instagram's Business Login; the code exchange is authenticated by the
    # app secret on our server.
    uses_pkce = False
    refreshable = True  # a long-lived token renews itself with ig_refresh_token
    scopes = (BASIC, PUBLISH, COMMENT, INSIGHTS)
    publish_scope, comment_scope, insights_scope = PUBLISH, COMMENT, INSIGHTS

    def __init__(self, config: AdapterConfig, http: httpx.AsyncClient):
        super().__init__(config, http)
        self.graph = Graph(http, self.label, GRAPH_INSTAGRAM, graph_version(config))
        self.polling = Polling()

    def ig_node(self, account: AccountRef) -> str:
        return "me"

    def authorize_url(self, state: str, pkce=None) -> str:
        return authorize_url(f"{INSTAGRAM_WWW}/oauth/authorize", {
            "client_id": self.config.client_id,
            "redirect_uri": self.config.redirect_uri,
            "response_type": "code",
            "scope": ",".join(s.name for s in self.scopes),
            "state": state,
        })

    async def exchange_code(self, code: str, pkce=None) -> TokenSet:
        signing_in = Context(self.label, signing_in=True)
        body = await self.graph.post(f"{INSTAGRAM_API}/oauth/access_token", ctx=signing_in, data={
            "client_id": self.config.client_id or "", "client_secret": self.config.client_secret or "",
            "grant_type": "authorization_code", "redirect_uri": self.config.redirect_uri, "code": code})
        # Meta's Business Login page shows {"data": [{...}]}; older pages and clients show the fields at
        # the top level. Accept both.
        grant = body["data"][0] if isinstance(body.get("data"), list) and body["data"] else body
        if not grant.get("access_token"):
            raise AccessRevoked(self.label, "Instagram did not finish the sign-in: start connecting again.",
                                "no access_token in the code exchange answer")
        permissions = grant.get("permissions") or ()
        if isinstance(permissions, str):
            permissions = [p.strip() for p in permissions.split(",") if p.strip()]
        # The documented exchange puts the token in the query string, server to server.
        long = await self.graph.get(f"{GRAPH_INSTAGRAM}/access_token", ctx=signing_in, params={
            "grant_type": "ig_exchange_token", "client_secret": self.config.client_secret or "",
            "access_token": str(grant["access_token"])})
        token = Secret(str(long["access_token"]))
        me = await self.graph.get("me", token, params={"fields": "user_id,username"})
        return TokenSet(
            access_token=token,
            external_user_id=str(me.get("user_id") or grant.get("user_id") or me.get("id")),
            display_name=me.get("username"),
            expires_at=expiry(long),
            scopes=tuple(sorted(permissions)),
        )

    async def refresh(self, tokens: TokenSet) -> TokenSet:
        now = datetime.now(UTC)
        if tokens.expires_at and tokens.expires_at <= now:
            raise TokenExpired(self.label, "The Instagram connection has expired, and Instagram does not renew "
                                           "expired tokens: reconnect to continue.", "long-lived token lapsed")
        if tokens.expires_at and tokens.expires_at - now > LONG_LIVED - IG_REFRESH_MIN_AGE:
            return tokens  # younger than a day: Instagram refuses to refresh it yet, and it has ~60 days left
        body = await self.graph.get(f"{GRAPH_INSTAGRAM}/refresh_access_token", params={
            "grant_type": "ig_refresh_token", "access_token": tokens.access_token.reveal()})
        return replace(tokens, access_token=Secret(str(body["access_token"])), expires_at=expiry(body))

    async def list_accounts(self, tokens: TokenSet) -> list[RemoteAccount]:
        me = await self.graph.get("me", tokens.access_token, params={
            "fields": "user_id,username,name,account_type,profile_picture_url,followers_count"})
        handle = me.get("username")
        kind = KINDS.get(str(me.get("account_type")))
        refusal = None
        if kind is None:
            kind = "profile"
            refusal = (f"@{handle} is a personal Instagram account, which apps cannot publish to. In the "
                       "Instagram app, switch it to a Professional account (Business or Creator), then reconnect.")
        elif tokens.scopes and PUBLISH.name not in tokens.scopes:
            refusal = missing_permission_refusal(self.label, [PUBLISH])
        return [RemoteAccount(
            external_id=str(me.get("user_id") or me["id"]),
            kind=kind,
            name=me.get("name") or handle or str(me["id"]),
            handle=handle,
            avatar_url=me.get("profile_picture_url"),
            followers_count=me.get("followers_count"),
            refusal=refusal,
        )]

    async def revoke(self, tokens: TokenSet) -> bool:
        # Instagram Login has no documented call for an app to withdraw its own grant; the user removes
        # the app in Instagram's settings (Apps and websites).
        return False


ADAPTER = InstagramLoginAdapter
