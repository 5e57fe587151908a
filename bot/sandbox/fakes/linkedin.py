"""A fake LinkedIn: OAuth on www.linkedin.com, the versioned REST API on api.linkedin.com, upload URLs.

It refuses what LinkedIn refuses: a missing or retired `LinkedIn-Version`, a missing
`X-Restli-Protocol-Version: 2.0.0`, percent-encoded Rest.li syntax, missing scopes, a post for a page
the member does not administer, a video not finalised or still processing, commentary over 3,000.
Posts are rendered as LinkedIn shows them (Little Text Format), so a test sees what a reader would.
"""

from __future__ import annotations

import re
import secrets
import time
from dataclasses import dataclass, field
from urllib.parse import unquote

from aiohttp import web

from bot.sandbox.fakes.x import Call, PlatformFake, image_type, is_video, redirect

ACTIVE_VERSIONS = {f"{year}{month:02d}" for year, month in
                   [(2025, 12)] + [(2026, m) for m in range(1, 12)]}
POSTING_ROLES = {"ADMINISTRATOR", "CONTENT_ADMINISTRATOR", "DIRECT_SPONSORED_CONTENT_POSTER"}
STATISTICS_ROLES = {"ADMINISTRATOR", "ANALYST", "CONTENT_ADMINISTRATOR"}
ORG_READ_SCOPES = {"r_organization_admin", "rw_organization_admin"}
# Share and follower statistics: rw_organization_admin (Microsoft Learn, Organization Share Statistics and Follower
# Statistics, li-lms-2025-11); r_organization_admin is not enough for them.
STATISTICS_SCOPE = "rw_organization_admin"
# memberCreatorPostAnalytics `entity`: a union whose members are `share` (a share URN) and `ugc` (a ugcPost URN).
ENTITY_UNION = {"share": "urn:li:share:", "ugc": "urn:li:ugcPost:"}
COMMENTARY_MAX = 3000
# Documents API (Microsoft Learn): PPT, PPTX, DOC, DOCX, PDF; up to 100 MB and 300 pages.
DOCUMENT_MAX_BYTES = 100 * 1024 * 1024
DOCUMENT_MAX_PAGES = 300
ALT_TEXT_MAX = 4086  # Posts API: media altText "with a maximum length of 4086 characters"
VISIBILITIES = {"PUBLIC", "CONNECTIONS", "LOGGED_IN", "CONTAINER"}  # the Posts API's Visibility enum


def li_error(status: int, message: str, code: str | None = None, service_code: int | None = None) -> web.Response:
    body: dict = {"status": status, "message": message}
    if code:
        body["code"] = code
    if service_code is not None:
        body["serviceErrorCode"] = service_code
    return web.json_response(body, status=status)


def render_little_text(commentary: str) -> str:
    """What a reader sees: escapes resolved, hashtag templates shown as #tag; LinkedIn cuts the text at
    the first unescaped reserved character."""
    commentary = re.sub(r"\{hashtag\|\\#\|((?:\\.|[^}])*)\}", lambda m: "\x00" + m.group(1), commentary)
    shown, escaped = [], False
    for ch in commentary:
        if escaped:
            shown.append(ch)
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch in "|{}@[]()<>#*_~":
            break
        else:
            shown.append("#" if ch == "\x00" else ch)
    return "".join(shown)


def restli_query(raw: str) -> dict[str, str] | None:
    """Query parameters as Rest.li 2.0 reads them; None when its syntax characters came percent-encoded."""
    params = {}
    for pair in raw.split("&"):
        if not pair:
            continue
        key, _, value = pair.partition("=")
        if re.match(r"(List)?%28", value, re.IGNORECASE):
            return None
        params[unquote(key)] = value
    return params


def restli_list(value: str) -> list[str]:
    match = re.fullmatch(r"List\((.*)\)", value or "")
    return [unquote(v) for v in match.group(1).split(",") if v] if match else []


@dataclass
class Video:
    owner: str
    size: int
    part_size: int
    parts: dict[int, bytes] = field(default_factory=dict)
    etags: dict[int, str] = field(default_factory=dict)
    status: str = "WAITING_UPLOAD"
    polls_left: int = 0


class FakeLinkedIn(PlatformFake):
    hosts = ("www.linkedin.com", "api.linkedin.com")
    access_ttl = 60 * 86400
    refresh_ttl = 365 * 86400
    rotate_refresh_tokens = False  # LinkedIn's refresh token keeps its value and its first expiry

    def reset_state(self) -> None:
        self.active_versions = set(ACTIVE_VERSIONS)
        self.issues_refresh_tokens = False  # only approved Marketing partners get them
        self.video_part_size = 4 * 1024 * 1024
        self.processing_polls = 1
        self.fail_processing = False
        self.members: dict[str, dict] = {}
        self.orgs: dict[str, dict] = {}
        self.acls: list[dict] = []
        self.posts: dict[str, dict] = {}
        self.comments: list[dict] = []  # {"urn", "actor", "object", "text"}
        self.images: dict[str, dict] = {}
        self.documents: dict[str, dict] = {}  # urn -> owner, data, status (WAITING_UPLOAD, PROCESSING, AVAILABLE)
        self.videos: dict[str, Video] = {}
        self.share_stats: dict[str, dict] = {}  # org or post URN -> totalShareStatistics
        self.followers: dict[str, int] = {}
        self.follower_gains: dict[str, list[dict]] = {}  # org id -> daily followerGains
        self.member_stats: dict[tuple[str, str], int] = {}  # (post URN or "me", metric) -> count
        self.throttled_analytics: set[str] = set()  # post URNs whose analytics answer 429 (the day's limit)
        self.add_member("x7Yq2LmN0p", "Maria Lopez")
        self.add_org("1001", "Acme Inc", "acme", {"ADMINISTRATOR"})
        self.add_org("1002", "Acme Labs", "acme-labs", {"ANALYST"})
        self.consent_as("x7Yq2LmN0p")

    def add_member(self, sub: str, name: str) -> dict:
        given, _, family = name.partition(" ")
        member = {"sub": sub, "name": name, "given_name": given, "family_name": family,
                  "picture": f"https://media.licdn.com/dms/image/{sub}/profile.jpg",
                  "locale": {"country": "US", "language": "en"}}
        self.members[sub] = member
        return member

    def add_org(self, org_id: str, name: str, vanity: str, roles: set[str], member: str = "x7Yq2LmN0p") -> None:
        self.orgs[org_id] = {"id": int(org_id), "localizedName": name, "vanityName": vanity}
        for role in roles:
            self.acls.append({"role": role, "state": "APPROVED", "roleAssignee": f"urn:li:person:{member}",
                              "organization": f"urn:li:organization:{org_id}"})

    def roles_of(self, member: str, org_id: str) -> set[str]:
        return {a["role"] for a in self.acls if a["roleAssignee"] == f"urn:li:person:{member}"
                and a["organization"] == f"urn:li:organization:{org_id}" and a["state"] == "APPROVED"}

    def routes(self):
        www, api = "www.linkedin.com", "api.linkedin.com"
        return [
            ("GET", www, "/oauth/v2/authorization", self._authorize),
            ("POST", www, "/oauth/v2/accessToken", self._access_token),
            ("PUT", www, "/dms-uploads/image/{id}", self._upload_image),
            ("PUT", www, "/dms-uploads/video/{id}/part/{index}", self._upload_video_part),
            ("PUT", www, "/dms-uploads/document/{id}", self._upload_document),
            ("POST", api, "/rest/documents", self._documents_action),
            ("GET", api, "/rest/documents/{urn}", self._document),
            ("GET", api, "/v2/userinfo", self._userinfo),
            ("GET", api, "/rest/organizationAcls", self._acls),
            ("GET", api, "/rest/organizations", self._organizations),
            ("POST", api, "/rest/images", self._images_action),
            ("POST", api, "/rest/videos", self._videos_action),
            ("GET", api, "/rest/videos/{urn}", self._video),
            ("POST", api, "/rest/posts", self._create_post),
            ("POST", api, "/rest/socialActions/{target}/comments", self._create_comment),
            ("GET", api, "/rest/organizationalEntityShareStatistics", self._share_statistics),
            ("GET", api, "/rest/organizationalEntityFollowerStatistics", self._follower_statistics),
            ("GET", api, "/rest/networkSizes/{urn}", self._network_size),
            ("GET", api, "/rest/memberCreatorPostAnalytics", self._member_analytics),
        ]

    # ---- errors ---------------------------------------------------------------------------

    def rate_limited(self, call: Call, **_) -> web.Response:
        # No rate-limit headers: LinkedIn documents none; its limits reset at midnight UTC.
        return li_error(429, "Resource level throttle APPLICATION DAY limit for calls to this resource is reached.",
                        "TOO_MANY_REQUESTS", 101)

    def server_error(self, call: Call, status: int) -> web.Response:
        return li_error(status, "Internal Server Error" if status == 500 else "Service Unavailable")

    def _check(self, call: Call, *scopes: str, any_of: set[str] | None = None, versioned: bool = True):
        """(member id, None) when the call may go on; (None, the answer LinkedIn gives) otherwise."""
        if versioned:
            version = call.headers.get("LinkedIn-Version")
            if not version:
                return None, li_error(400, "A version must be present. Please specify a version by adding the "
                                           "LinkedIn-Version header.", "VERSION_MISSING")
            if version not in self.active_versions:
                return None, li_error(426, f"Requested version {version} is not active", "NONEXISTENT_VERSION")
            if call.headers.get("X-Restli-Protocol-Version") != "2.0.0":
                return None, li_error(400, "Invalid Rest.li protocol version: this resource needs "
                                           "X-Restli-Protocol-Version: 2.0.0", "ILLEGAL_ARGUMENT")
        grant, why = self.bearer(call)
        if why == "revoked":
            return None, li_error(401, "The token used in the request has been revoked by the user",
                                  "REVOKED_ACCESS_TOKEN", 65601)
        if why == "expired":
            return None, li_error(401, "The token used in the request has expired", "EXPIRED_ACCESS_TOKEN", 65602)
        if grant is None:
            return None, li_error(401, "Invalid access token", "INVALID_ACCESS_TOKEN", 65600)
        missing = set(scopes) - grant.scopes
        if missing or (any_of and not any_of & grant.scopes):
            return None, li_error(403, f"Not enough permissions to access: {call.method} {call.path}",
                                  "ACCESS_DENIED", 100)
        return grant.user_id, None

    # ---- OAuth ----------------------------------------------------------------------------

    async def _authorize(self, request: web.Request, call: Call) -> web.Response:
        q = call.query
        if q.get("client_id") != self.client_id:
            return web.Response(status=400, text="Invalid client_id")
        if q.get("redirect_uri") not in self.redirect_uris:
            return web.Response(status=400, text="The redirect_uri does not match the registered value")
        if q.get("response_type") != "code" or not q.get("state"):
            return web.Response(status=400, text="invalid request")
        asked = set(q.get("scope", "").split())
        granted = asked if self.consent.get("scopes") is None else asked & self.consent["scopes"]
        code = self.issue_code(self.consent["user_id"], granted, redirect_uri=q["redirect_uri"])
        return redirect(q["redirect_uri"], code=code, state=q["state"])

    async def _access_token(self, request: web.Request, call: Call) -> web.Response:
        form = call.form()
        if (form.get("client_id"), form.get("client_secret")) != (self.client_id, self.client_secret):
            return web.json_response({"error": "invalid_client", "error_description": "Client authentication failed"},
                                     status=401)
        if form.get("grant_type") == "authorization_code":
            grant = self.codes.pop(form.get("code", ""), None)
            stale = grant is None or time.time() - grant["issued"] > 1800  # LinkedIn codes last 30 minutes
            if stale or form.get("redirect_uri") != grant["redirect_uri"]:
                return web.json_response({"error": "invalid_request", "error_description": (
                    "Unable to retrieve access token: appid/redirect uri/code verifier does not match authorization "
                    "code. Or authorization code expired. Or external member binding exists")}, status=400)
            access, refresh = self.issue_tokens(grant["user_id"], grant["scopes"],
                                                with_refresh=self.issues_refresh_tokens)
        elif form.get("grant_type") == "refresh_token" and self.issues_refresh_tokens:
            grant = self.use_refresh_token(form.get("refresh_token", ""))
            if grant is None:
                return web.json_response({"error": "invalid_request",
                                          "error_description": "The provided refresh token is invalid"}, status=400)
            access, _ = self.issue_tokens(grant.user_id, grant.scopes, with_refresh=False)
            refresh = form["refresh_token"]
        else:
            return web.json_response({"error": "unsupported_grant_type",
                                      "error_description": "Refresh tokens are not enabled for this application"},
                                     status=400)
        grant = self.tokens[access]
        body = {"access_token": access, "expires_in": self.access_ttl, "token_type": "Bearer",
                "scope": ",".join(sorted(grant.scopes))}
        if refresh:
            body["refresh_token"] = refresh
            body["refresh_token_expires_in"] = int(self.refresh_tokens[refresh].expires_at - time.time())
        return web.json_response(body)

    # ---- members and pages ----------------------------------------------------------------

    async def _userinfo(self, request: web.Request, call: Call) -> web.Response:
        member, refusal = self._check(call, "openid", "profile", versioned=False)
        return refusal or web.json_response(self.members[member])

    async def _acls(self, request: web.Request, call: Call) -> web.Response:
        member, refusal = self._check(call, any_of=ORG_READ_SCOPES)
        if refusal:
            return refusal
        q = call.query
        if q.get("q") != "roleAssignee":
            return li_error(400, "Invalid finder", "ILLEGAL_ARGUMENT")
        mine = [a for a in self.acls if a["roleAssignee"] == f"urn:li:person:{member}"
                and a["state"] == q.get("state", a["state"]) and a["role"] == q.get("role", a["role"])]
        start, count = int(q.get("start", 0)), int(q.get("count", 10))
        return web.json_response({"paging": {"start": start, "count": count, "links": [], "total": len(mine)},
                                  "elements": mine[start:start + count]})

    async def _organizations(self, request: web.Request, call: Call) -> web.Response:
        member, refusal = self._check(call, any_of=ORG_READ_SCOPES)
        if refusal:
            return refusal
        params = restli_query(call.raw_query)
        if params is None or not params.get("ids", "").startswith("List("):
            return li_error(400, "Invalid query parameter: ids must be List(...)", "ILLEGAL_ARGUMENT")
        ids = restli_list(params["ids"])
        results = {i: self.orgs[i] for i in ids if i in self.orgs}
        return web.json_response({"results": results, "statuses": {i: 200 if i in results else 404 for i in ids},
                                  "errors": {i: {"status": 404} for i in ids if i not in results}})

    def _may_act_for(self, member: str, owner: str, scopes: set[str]) -> bool:
        if owner == f"urn:li:person:{member}":
            return "w_member_social" in scopes
        if owner.startswith("urn:li:organization:"):
            org_id = owner.rsplit(":", 1)[-1]
            return "w_organization_social" in scopes and bool(self.roles_of(member, org_id) & POSTING_ROLES)
        return False

    # ---- uploads --------------------------------------------------------------------------

    async def _images_action(self, request: web.Request, call: Call) -> web.Response:
        member, refusal = self._check(call)
        if refusal:
            return refusal
        if call.query.get("action") != "initializeUpload":
            return li_error(400, "Unknown action", "ILLEGAL_ARGUMENT")
        owner = ((call.json() or {}).get("initializeUploadRequest") or {}).get("owner", "")
        if not self._may_act_for(member, owner, self.tokens[call.token].scopes):
            return li_error(403, "Not enough permissions to access: images.ACTION.initializeUpload",
                            "ACCESS_DENIED", 100)
        image_id = "D4E10AQ" + secrets.token_hex(5)
        self.images[f"urn:li:image:{image_id}"] = {"owner": owner, "data": None}
        return web.json_response({"value": {"uploadUrlExpiresAt": int((time.time() + 86400) * 1000),
                                            "uploadUrl": f"https://www.linkedin.com/dms-uploads/image/{image_id}",
                                            "image": f"urn:li:image:{image_id}"}})

    async def _upload_image(self, request: web.Request, call: Call) -> web.Response:
        image = self.images.get(f"urn:li:image:{request.match_info['id']}")
        if image is None or self.bearer(call)[0] is None:
            return li_error(401, "Invalid access token", "INVALID_ACCESS_TOKEN", 65600)
        if image_type(call.body) not in ("image/jpeg", "image/png", "image/gif"):
            return li_error(400, "Unsupported image format: upload a JPG, PNG or GIF", "ILLEGAL_ARGUMENT")
        image["data"] = call.body
        return web.Response(status=201)

    async def _documents_action(self, request: web.Request, call: Call) -> web.Response:
        """Documents API: initializeUpload gives an upload URL and the document's URN."""
        member, refusal = self._check(call)
        if refusal:
            return refusal
        if call.query.get("action") != "initializeUpload":
            return li_error(400, "Unknown action", "ILLEGAL_ARGUMENT")
        owner = ((call.json() or {}).get("initializeUploadRequest") or {}).get("owner", "")
        if not self._may_act_for(member, owner, self.tokens[call.token].scopes):
            return li_error(403, "Not enough permissions to access: documents.ACTION.initializeUpload",
                            "ACCESS_DENIED", 100)
        document_id = "D4D10AQ" + secrets.token_hex(5)
        self.documents[f"urn:li:document:{document_id}"] = {"owner": owner, "data": None, "status": "WAITING_UPLOAD",
                                                            "polls_left": self.processing_polls}
        return web.json_response({"value": {
            "uploadUrlExpiresAt": int((time.time() + 86400) * 1000),
            "uploadUrl": f"https://www.linkedin.com/dms-uploads/document/{document_id}",
            "document": f"urn:li:document:{document_id}"}})

    async def _upload_document(self, request: web.Request, call: Call) -> web.Response:
        document = self.documents.get(f"urn:li:document:{request.match_info['id']}")
        if document is None or self.bearer(call)[0] is None:
            return li_error(401, "Invalid access token", "INVALID_ACCESS_TOKEN", 65600)
        # PPT, PPTX, DOC, DOCX and PDF, up to 100 MB and 300 pages (Documents API).
        if not (call.body.startswith(b"%PDF-") or call.body.startswith(b"\xd0\xcf\x11\xe0")
                or call.body.startswith(b"PK\x03\x04")):
            return li_error(400, "Unsupported document format: upload a PPT, PPTX, DOC, DOCX or PDF",
                            "ILLEGAL_ARGUMENT")
        if len(call.body) > DOCUMENT_MAX_BYTES:
            return li_error(413, "Document exceeds the maximum size of 100 MB", "ILLEGAL_ARGUMENT")
        pages = max([int(n) for n in re.findall(rb"/Type\s*/Pages\b[^>]*?/Count\s+(\d+)", call.body)] or [0])
        if pages > DOCUMENT_MAX_PAGES:
            document["status"], document["failure"] = "PROCESSING_FAILED", "Document exceeds 300 pages"
        else:
            document["status"] = "PROCESSING"
        document["data"] = call.body
        return web.Response(status=201)

    async def _document(self, request: web.Request, call: Call) -> web.Response:
        member, refusal = self._check(call)
        if refusal:
            return refusal
        found = unquote(request.match_info["urn"])
        document = self.documents.get(found)
        if document is None:
            return li_error(404, f"Document {found} not found", "NOT_FOUND")
        if document["status"] == "PROCESSING":
            if document["polls_left"] > 0:
                document["polls_left"] -= 1
            else:
                document["status"] = "AVAILABLE"
        answer = {"id": found, "owner": document["owner"], "status": document["status"]}
        if document["status"] == "PROCESSING_FAILED":
            answer["processingFailureReason"] = document.get("failure")
        if document["status"] == "AVAILABLE":
            answer["downloadUrl"] = f"https://media.licdn.com/dms/document/{found.rsplit(':', 1)[-1]}"
        return web.json_response(answer)

    async def _videos_action(self, request: web.Request, call: Call) -> web.Response:
        member, refusal = self._check(call)
        if refusal:
            return refusal
        action = call.query.get("action")
        body = call.json() or {}
        if action == "initializeUpload":
            ask = body.get("initializeUploadRequest") or {}
            owner, size = ask.get("owner", ""), ask.get("fileSizeBytes")
            if not self._may_act_for(member, owner, self.tokens[call.token].scopes):
                return li_error(403, "Accessing this video resource is forbidden. Please check your permissions "
                                     "for this resource", "ACCESS_DENIED", 100)
            if not isinstance(size, int) or size <= 0:
                return li_error(400, "fileSizeBytes is required", "ILLEGAL_ARGUMENT")
            video_id = "D5610AQ" + secrets.token_hex(5)
            video = Video(owner, size, self.video_part_size, polls_left=self.processing_polls)
            self.videos[f"urn:li:video:{video_id}"] = video
            instructions = [{"uploadUrl": f"https://www.linkedin.com/dms-uploads/video/{video_id}/part/{n}",
                             "firstByte": first, "lastByte": min(first + video.part_size, size) - 1}
                            for n, first in enumerate(range(0, size, video.part_size))]
            return web.json_response({"value": {"uploadUrlsExpireAt": int((time.time() + 86400) * 1000),
                                                "video": f"urn:li:video:{video_id}",
                                                "uploadInstructions": instructions, "uploadToken": ""}})
        if action == "finalizeUpload":
            ask = body.get("finalizeUploadRequest") or {}
            video = self.videos.get(ask.get("video", ""))
            if video is None or not self._may_act_for(member, video.owner, self.tokens[call.token].scopes):
                return li_error(403, "Accessing this video resource is forbidden. Please check your permissions "
                                     "for this resource", "ACCESS_DENIED", 100)
            expected = [video.etags.get(n) for n in range(-(-video.size // video.part_size))]
            if None in expected or ask.get("uploadedPartIds") != expected:
                return li_error(400, "Uploaded part ids do not match the uploaded parts", "ILLEGAL_ARGUMENT")
            data = b"".join(video.parts[n] for n in sorted(video.parts))
            if len(data) != video.size or not is_video(data):
                return li_error(400, "The uploaded video is incomplete or not an MP4", "ILLEGAL_ARGUMENT")
            video.status = "PROCESSING"
            return web.Response(status=200)
        return li_error(400, "Unknown action", "ILLEGAL_ARGUMENT")

    async def _upload_video_part(self, request: web.Request, call: Call) -> web.Response:
        video = self.videos.get(f"urn:li:video:{request.match_info['id']}")
        index = int(request.match_info["index"])
        if video is None or video.status != "WAITING_UPLOAD":
            return web.Response(status=404)
        first = index * video.part_size
        if len(call.body) != min(video.part_size, video.size - first):
            return web.Response(status=400, text="part size does not match the upload instructions")
        video.parts[index] = call.body
        video.etags[index] = f"/ambry-video/signedId/{secrets.token_hex(8)}"
        return web.Response(status=200, headers={"ETag": video.etags[index]})

    async def _video(self, request: web.Request, call: Call) -> web.Response:
        member, refusal = self._check(call)
        if refusal:
            return refusal
        video_urn = unquote(request.match_info["urn"])
        video = self.videos.get(video_urn)
        if video is None:
            return li_error(404, f"Not found: {video_urn}", "NOT_FOUND")
        if video.status == "PROCESSING":
            if video.polls_left > 0:
                video.polls_left -= 1
            else:
                video.status = "PROCESSING_FAILED" if self.fail_processing else "AVAILABLE"
        body = {"id": video_urn, "owner": video.owner, "status": video.status}
        if video.status == "PROCESSING_FAILED":
            body["processingFailureReason"] = "VIDEO_ENCODING_FAILED"
        return web.json_response(body)

    # ---- posts ----------------------------------------------------------------------------

    async def _create_post(self, request: web.Request, call: Call) -> web.Response:
        member, refusal = self._check(call)
        if refusal:
            return refusal
        body = call.json() or {}
        author = body.get("author", "")
        if not self._may_act_for(member, author, self.tokens[call.token].scopes):
            return li_error(403, "Not enough permissions to access: partnerApiPostsExternal.CREATE.20260101",
                            "ACCESS_DENIED", 100)
        for required in ("author", "commentary", "visibility", "distribution", "lifecycleState"):
            if required not in body:
                return li_error(422, f"/{required} :: field is required but not found and has no default value")
        visibility = body["visibility"]
        if visibility not in VISIBILITIES:
            return li_error(422, f"/visibility :: {visibility!r} is not an enum symbol of "
                                 f"{sorted(VISIBILITIES)}")
        if visibility == "CONNECTIONS" and author.startswith("urn:li:organization:"):
            # An organization has no connections; the fake's words, in LinkedIn's envelope.
            return li_error(422, "/visibility :: CONNECTIONS is only allowed when the author is a member "
                                 f"(urn:li:person), not {author}")
        shown = render_little_text(body["commentary"])
        length = len(shown.encode("utf-16-le")) // 2
        if length > COMMENTARY_MAX:
            return li_error(422, f"/commentary :: length {length} exceeds the maximum allowed {COMMENTARY_MAX}")
        content = body.get("content") or {}
        problem = self._content_problem(author, content)
        if problem:
            return li_error(400, problem)
        if any(p["author"] == author and p["shown_text"] == shown and shown for p in self.posts.values()):
            duplicate = next(k for k, p in self.posts.items() if p["author"] == author and p["shown_text"] == shown)
            return li_error(422, f"Content is a duplicate of {duplicate}", "DUPLICATE_POST")
        post_urn = f"urn:li:share:{7_200_000_000_000_000_000 + int(self.next_id())}"
        self.posts[post_urn] = {"author": author, "shown_text": shown, "body": body}
        return web.Response(status=201, headers={"x-restli-id": post_urn, "x-linkedin-id": post_urn})

    async def _create_comment(self, request: web.Request, call: Call) -> web.Response:
        """Comments API, Create a Comment: POST /rest/socialActions/{share or ugcPost URN, encoded}/comments with
        actor, object (the same URN) and message.text; 201 with the comment and its URN in x-restli-id."""
        member, refusal = self._check(call)
        if refusal:
            return refusal
        target = request.match_info["target"]
        body = call.json() or {}
        actor = body.get("actor", "")
        if not self._may_act_for(member, actor, self.tokens[call.token].scopes):
            return li_error(403, "Not enough permissions to access: socialActionsComments.CREATE.20260101",
                            "ACCESS_DENIED", 100)
        text = (body.get("message") or {}).get("text")
        if not actor or not isinstance(text, str) or not text:
            return li_error(422, "/message/text :: field is required but not found and has no default value")
        if body.get("object") != target:
            return li_error(400, f"/object :: {body.get('object')!r} does not match the URN in the path {target!r}")
        if target not in self.posts:
            return li_error(404, f"Not found: {target}", "NOT_FOUND")
        if len(text.encode("utf-16-le")) // 2 > 1250:
            return li_error(422, "/message/text :: length exceeds the maximum allowed 1250")
        activity = f"urn:li:activity:{7_300_000_000_000_000_000 + int(self.next_id())}"
        comment_urn = f"urn:li:comment:({activity},{self.next_id()})"
        self.comments.append({"urn": comment_urn, "actor": actor, "object": target, "text": text})
        return web.json_response({"actor": actor, "object": target, "message": {"text": text},
                                  "id": comment_urn.rsplit(",", 1)[-1].rstrip(")"), "$URN": comment_urn},
                                 status=201, headers={"x-restli-id": comment_urn})

    def _content_problem(self, author: str, content: dict) -> str | None:
        media_ids = []
        if "media" in content:
            media_ids = [content["media"].get("id", "")]
            if media_ids[0].startswith("urn:li:document:") and not content["media"].get("title"):
                return "/content/media/title :: a document post needs a title"
        elif "multiImage" in content:
            media_ids = [i.get("id", "") for i in content["multiImage"].get("images", [])]
            if not 2 <= len(media_ids) <= 20:
                return "/content/multiImage/images :: a multi-image post takes 2 to 20 images"
        elif "article" in content:
            source = content["article"].get("source", "")
            if not re.match(r"https?://", source) or not content["article"].get("title"):
                return "/content/article :: source must be an http(s) URL and title is required"
            if "thumbnail" in content["article"]:  # an image URN uploaded through the Images API
                media_ids = [str(content["article"]["thumbnail"])]
        entries = [content["media"]] if "media" in content else (content.get("multiImage") or {}).get("images", [])
        for where, entry in enumerate(entries):
            alt = entry.get("altText")
            if alt is not None and len(alt.encode("utf-16-le")) // 2 > ALT_TEXT_MAX:
                path = "/content/media/altText" if "media" in content else f"/content/multiImage/images/{where}/altText"
                return f"{path} :: length {len(alt)} exceeds the maximum allowed {ALT_TEXT_MAX}"
        for media_id in media_ids:
            if media_id.startswith("urn:li:image:"):
                image = self.images.get(media_id)
                if image is None or image["owner"] != author or image["data"] is None:
                    return f"Image {media_id} is not uploaded or belongs to another owner"
            elif media_id.startswith("urn:li:document:"):
                document = self.documents.get(media_id)
                if document is None or document["owner"] != author:
                    return f"Document {media_id} does not exist or belongs to another owner"
                if document["status"] != "AVAILABLE":
                    return f"Document {media_id} is not in AVAILABLE state (it is {document['status']})"
            elif media_id.startswith("urn:li:video:"):
                video = self.videos.get(media_id)
                if video is None or video.owner != author:
                    return f"Video {media_id} does not exist or belongs to another owner"
                if video.status != "AVAILABLE":
                    return f"Video {media_id} is not in AVAILABLE state (it is {video.status})"
            else:
                return f"Unsupported media id {media_id}"
        return None

    # ---- statistics -----------------------------------------------------------------------

    def _org_statistics_access(self, call: Call, entity: str) -> tuple[str | None, web.Response | None]:
        member, refusal = self._check(call, STATISTICS_SCOPE)
        if refusal:
            return None, refusal
        org_id = entity.rsplit(":", 1)[-1]
        if not entity.startswith("urn:li:organization:") or not self.roles_of(member, org_id) & STATISTICS_ROLES:
            return None, li_error(403, f"Not enough permissions to access statistics of {entity}",
                                  "ACCESS_DENIED", 100)
        return org_id, None

    async def _share_statistics(self, request: web.Request, call: Call) -> web.Response:
        params = restli_query(call.raw_query)
        if params is None:
            return li_error(400, "Invalid Rest.li syntax in the query", "ILLEGAL_ARGUMENT")
        entity = unquote(params.get("organizationalEntity", ""))
        org_id, refusal = self._org_statistics_access(call, entity)
        if refusal:
            return refusal
        posts = restli_list(params.get("shares", "")) + restli_list(params.get("ugcPosts", ""))
        if not posts:
            return web.json_response({"paging": {"start": 0, "count": 10}, "elements": [
                {"organizationalEntity": entity, "totalShareStatistics": self.share_stats.get(entity, {})}]})
        elements = []
        for post in posts:
            if post in self.posts and self.posts[post]["author"] == entity:
                key = "ugcPost" if post.startswith("urn:li:ugcPost:") else "share"
                elements.append({key: post, "organizationalEntity": entity,
                                 "totalShareStatistics": self.share_stats.get(post, {})})
        return web.json_response({"paging": {"start": 0, "count": 10}, "elements": elements})

    async def _follower_statistics(self, request: web.Request, call: Call) -> web.Response:
        params = restli_query(call.raw_query)
        if params is None:
            return li_error(400, "Invalid Rest.li syntax in the query", "ILLEGAL_ARGUMENT")
        entity = unquote(params.get("organizationalEntity", ""))
        org_id, refusal = self._org_statistics_access(call, entity)
        if refusal:
            return refusal
        match = re.fullmatch(r"\(timeRange:\(start:(\d+),end:(\d+)\),timeGranularityType:DAY\)",
                             params.get("timeIntervals", ""))
        if not match:
            return li_error(400, "timeIntervals must be (timeRange:(start:..,end:..),timeGranularityType:DAY)",
                            "ILLEGAL_ARGUMENT")
        start = int(match.group(1))
        elements = [{"organizationalEntity": entity, "followerGains": gains,
                     "timeRange": {"start": start + day * 86_400_000, "end": start + (day + 1) * 86_400_000}}
                    for day, gains in enumerate(self.follower_gains.get(org_id, []))]
        return web.json_response({"paging": {"start": 0, "count": 10}, "elements": elements})

    async def _network_size(self, request: web.Request, call: Call) -> web.Response:
        entity = unquote(request.match_info["urn"])
        org_id, refusal = self._org_statistics_access(call, entity)
        if refusal:
            return refusal
        if call.query.get("edgeType") != "COMPANY_FOLLOWED_BY_MEMBER":
            return li_error(400, "edgeType must be COMPANY_FOLLOWED_BY_MEMBER", "ILLEGAL_ARGUMENT")
        return web.json_response({"firstDegreeSize": self.followers.get(org_id, 0)})

    async def _member_analytics(self, request: web.Request, call: Call) -> web.Response:
        member, refusal = self._check(call, "r_member_postAnalytics")
        if refusal:
            return refusal
        params = restli_query(call.raw_query) or {}
        metric = params.get("queryType")
        if metric not in ("IMPRESSION", "MEMBERS_REACHED", "RESHARE", "REACTION", "COMMENT"):
            return li_error(400, "queryType is required", "ILLEGAL_ARGUMENT")
        if params.get("q") == "me":
            key = "me"
        elif params.get("q") == "entity":
            match = re.fullmatch(r"\((\w+):([^)]*)\)", params.get("entity", ""))
            if not match:
                return li_error(400, "entity must be (share:urn) or (ugc:urn)", "ILLEGAL_ARGUMENT")
            if match.group(1) not in ENTITY_UNION:
                # As LinkedIn answers `(ugcPost:…)` (a captured 400; shared/PLATFORMS.md audit notes).
                return li_error(400, f"Invalid param. Please see errorDetails for more information. ERROR :: "
                                     f"/entity :: \"{match.group(1)}\" is not a member type of union [ share, ugc ]",
                                "ILLEGAL_ARGUMENT")
            if not unquote(match.group(2)).startswith(ENTITY_UNION[match.group(1)]):
                return li_error(400, f"ERROR :: /entity/{match.group(1)} :: {unquote(match.group(2))} is not a "
                                     f"valid {match.group(1)} URN", "ILLEGAL_ARGUMENT")
            key = unquote(match.group(2))
            if key in self.throttled_analytics:
                return self.rate_limited(call)
            post = self.posts.get(key)
            if post is None or post["author"] != f"urn:li:person:{member}":
                return li_error(403, f"Not enough permissions to access analytics of {key}", "ACCESS_DENIED", 100)
        else:
            return li_error(400, "Invalid finder", "ILLEGAL_ARGUMENT")
        return web.json_response({"paging": {"start": 0, "count": 10}, "elements": [
            {"count": self.member_stats.get((key, metric), 0),
             "metricType": {"com.linkedin.adsexternalapi.memberanalytics.v1.CreatorPostAnalyticsMetricTypeV1":
                            metric}}]})

