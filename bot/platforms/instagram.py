"""Instagram through Meta's Facebook Login (key `instagram`, credentials META_*).

The user signs in with Facebook; the Instagram Business and Creator accounts linked to their Pages are
the accounts. Calls go to graph.facebook.com with the user's long-lived token. Personal Instagram
accounts cannot be reached this way: such a Page shows up refused, with how to fix it.
"""

from __future__ import annotations

from typing import Any

from bot.platforms.base import RemoteAccount, Scope, TokenSet
from bot.platforms.instagram_publishing import InstagramPublishing
from bot.platforms.meta_graph import LIST_PAGES, POSTING_TASKS, FacebookLoginAdapter, missing_permission_refusal
from bot.platforms.registry import BY_KEY

BASIC = Scope("instagram_basic", "see the Instagram account's name, picture and follower count")
PUBLISH = Scope("instagram_content_publish", "publish posts, carousels and Reels to Instagram")
COMMENT = Scope("instagram_manage_comments", "add a post's first comment")
INSIGHTS = Scope("instagram_manage_insights", "read views, reach and other figures for analytics digests")
PAGE_ENGAGEMENT = Scope("pages_read_engagement", "read the linked Facebook Page, which Meta requires for publishing")
# Without these, nothing can be published (meta.md A: container and media_publish permissions).
REQUIRED = (PUBLISH, BASIC, PAGE_ENGAGEMENT)

# The Page fields /me/accounts returns, with the linked Instagram professional account.
PAGE_FIELDS = ("id,name,tasks,"
               "instagram_business_account{id,username,name,followers_count,profile_picture_url}")


class InstagramAdapter(InstagramPublishing, FacebookLoginAdapter):
    key = "instagram"
    name = BY_KEY[key].name
    label = "Instagram"
    scopes = (
        BASIC,
        PUBLISH,
        COMMENT,
        INSIGHTS,
        LIST_PAGES,
        PAGE_ENGAGEMENT,
        Scope("business_management", "find Pages and Instagram accounts your company manages in Meta Business "
                                     "Suite"),
    )
    publish_scope, comment_scope, insights_scope = PUBLISH, COMMENT, INSIGHTS

    async def list_accounts(self, tokens: TokenSet) -> list[RemoteAccount]:
        granted = await self.granted(tokens.access_token)
        missing = [s for s in REQUIRED if s.name not in granted]
        accounts = []
        for page in await self.pages(tokens.access_token, PAGE_FIELDS, granted):
            linked = page.get("instagram_business_account")
            if not linked:
                accounts.append(RemoteAccount(
                    external_id=str(page["id"]), kind="page", name=page.get("name") or str(page["id"]),
                    refusal=(f"No Instagram professional account is linked to the Facebook Page "
                             f"{page.get('name')}. If your Instagram account is personal, switch it to a "
                             "Professional account (Business or Creator) in the Instagram app and link it to this "
                             "Page, or connect it with direct Instagram login instead.")))
                continue
            accounts.append(self._account(page, linked, missing))
        return accounts

    def _account(self, page: dict[str, Any], linked: dict[str, Any], missing: list[Scope]) -> RemoteAccount:
        handle = linked.get("username")
        refusal = None
        if missing:
            refusal = missing_permission_refusal(self.label, missing)
        elif not POSTING_TASKS & set(page.get("tasks") or ()):
            refusal = (f"You cannot publish to @{handle}: Meta only lets people who can create content on its "
                       f"Facebook Page {page.get('name')} publish to it. Ask a Page admin for the “Create content” "
                       "task (or full control) on that Page, then refresh.")
        return RemoteAccount(
            external_id=str(linked["id"]),
            kind="business",  # Facebook Login does not say whether it is a Business or a Creator account
            name=linked.get("name") or handle or str(linked["id"]),
            handle=handle,
            avatar_url=linked.get("profile_picture_url"),
            followers_count=linked.get("followers_count"),
            settings={"page_id": str(page["id"]), "page_name": page.get("name")},
            refusal=refusal,
        )


ADAPTER = InstagramAdapter
