"""Every action_id, block_id prefix and callback_id the app uses, in one place."""

COMMAND = "/picmim"

# Connecting accounts
HOME_CONNECT = "home_connect"  # App Home's "Connect an account" button
CONNECT_PLATFORM = "connect_platform"  # a "Connect" button in the platform list (value: platform key)
CONNECT_LINK_OPENED = "connect_link_opened"  # the private link button (opens a URL; acked only)
BLUESKY_HANDLE_VIEW = "bluesky_handle"
BLUESKY_HANDLE_BLOCK = "bluesky_handle_block"
BLUESKY_HANDLE_INPUT = "bluesky_handle_input"
CHOOSE_ACCOUNTS_BLOCK = "choose_accounts_"  # + the group's first index
CHOOSE_ACCOUNTS_BOXES = "choose_accounts_boxes"
CHOOSE_ACCOUNTS_SAVE = "choose_accounts_save"  # value: the OAuth state's id
ACCOUNT_REFRESH = "account_refresh"  # value: the connection's id
ACCOUNT_RECONNECT = "account_reconnect"
ACCOUNT_DISCONNECT = "account_disconnect"
ACCOUNT_MENU = "account_menu"  # an account row's overflow menu (option values: "<action>:<connection id>")
ACCOUNT_MENU_REFRESH, ACCOUNT_MENU_RECONNECT, ACCOUNT_MENU_DISCONNECT = "refresh", "reconnect", "disconnect"

# Workspace settings
SETTINGS_VIEW = "settings"
SETTINGS_MANAGERS_BLOCK = "settings_managers"
SETTINGS_MANAGERS_INPUT = "settings_managers_policy"
SETTINGS_MANAGER_USERS_BLOCK = "settings_manager_users"
SETTINGS_MANAGER_USERS_INPUT = "settings_manager_users_input"
SETTINGS_APPROVAL_REQUIRED_BLOCK = "settings_approval_required"
SETTINGS_APPROVAL_REQUIRED_INPUT = "settings_approval_required_input"  # checkbox value: "required"
SETTINGS_APPROVAL_CHANNEL_BLOCK = "settings_approval_channel"
SETTINGS_APPROVAL_CHANNEL_INPUT = "settings_approval_channel_input"
SETTINGS_APPROVERS_BLOCK = "settings_approvers"
SETTINGS_APPROVERS_INPUT = "settings_approvers_input"
SETTINGS_APPROVER_GROUP_BLOCK = "settings_approver_group"
SETTINGS_APPROVER_GROUP_INPUT = "settings_approver_group_input"  # option values: a user group's id, or "-"
SETTINGS_APPROVALS_NEEDED_BLOCK = "settings_approvals_needed"
SETTINGS_APPROVALS_NEEDED_INPUT = "settings_approvals_needed_input"
SETTINGS_SELF_APPROVAL_BLOCK = "settings_self_approval"
SETTINGS_SELF_APPROVAL_INPUT = "settings_self_approval_input"  # checkbox value: "allowed"
SETTINGS_APPROVE_REACTION_BLOCK = "settings_approve_reaction"
SETTINGS_APPROVE_REACTION_INPUT = "settings_approve_reaction_input"
SETTINGS_REJECT_REACTION_BLOCK = "settings_reject_reaction"
SETTINGS_REJECT_REACTION_INPUT = "settings_reject_reaction_input"
SETTINGS_ALERTS_CHANNEL_BLOCK = "settings_alerts_channel"
SETTINGS_ALERTS_CHANNEL_INPUT = "settings_alerts_channel_input"
SETTINGS_EXPIRY_DAYS_BLOCK = "settings_expiry_days"
SETTINGS_EXPIRY_DAYS_INPUT = "settings_expiry_days_input"  # option values: days before expiry
SETTINGS_TIMEZONE_BLOCK = "settings_timezone"
SETTINGS_TIMEZONE_INPUT = "settings_timezone_input"
SETTINGS_FOLLOWUPS_BLOCK = "settings_followups"
SETTINGS_FOLLOWUPS_INPUT = "settings_followups_input"  # option values: hours after a post goes live
SETTINGS_REMINDER_HOURS_BLOCK = "settings_reminder_hours"
SETTINGS_REMINDER_HOURS_INPUT = "settings_reminder_hours_input"
SETTINGS_REMINDERS_MAX_BLOCK = "settings_reminders_max"
SETTINGS_REMINDERS_MAX_INPUT = "settings_reminders_max_input"
SETTINGS_GRACE_BLOCK = "settings_grace"
SETTINGS_GRACE_INPUT = "settings_grace_input"  # minutes a waiting post may pass its time before it expires

# A post's status message
POST_RETRY = "post_retry"  # value: the target's id (failed, or unconfirmed and checked by a person)
POST_MARK_PUBLISHED = "post_mark_published"  # value: the target's id (unconfirmed, found live)
POST_EDIT = "post_edit"  # value: the post's id (still scheduled or waiting for approval): the compose modal
POST_CANCEL = "post_cancel"  # value: the post's id (still scheduled or waiting for approval)

# Composing a post
COMPOSE_VIEW = "compose"  # the compose modal (submitted, or closed into a draft)
COMPOSE_SHORTCUT = "compose_from_message"  # the "Post to social" message shortcut
COMPOSE_TEXT_BLOCK = "compose_text"
COMPOSE_TEXT_INPUT = "compose_text_input"
COMPOSE_MEDIA_BLOCK = "compose_media"
COMPOSE_MEDIA_INPUT = "compose_media_input"
COMPOSE_ACCOUNTS_BLOCK = "compose_accounts"
COMPOSE_ACCOUNTS_INPUT = "compose_accounts_input"  # option values: account ids
COMPOSE_VARIANT_BLOCK = "compose_variant_"  # + the platform's key
COMPOSE_VARIANT_INPUT = "compose_variant_input"
COMPOSE_COMMENT_BLOCK = "compose_first_comment"
COMPOSE_COMMENT_INPUT = "compose_first_comment_input"
COMPOSE_WHEN_BLOCK = "compose_when"
COMPOSE_WHEN_INPUT = "compose_when_input"  # value: now | schedule
COMPOSE_AT_BLOCK = "compose_at"
COMPOSE_AT_INPUT = "compose_at_input"
COMPOSE_VIDEO_BLOCK = "compose_video"
COMPOSE_VIDEO_INPUT = "compose_video_input"  # checkbox values: optimise | trim
COMPOSE_COVER_BLOCK = "compose_cover"
COMPOSE_COVER_INPUT = "compose_cover_input"  # the cover frame's time, in seconds
COMPOSE_TIKTOK_PRIVACY_BLOCK = "compose_tiktok_privacy"
COMPOSE_TIKTOK_PRIVACY_INPUT = "compose_tiktok_privacy_input"  # option values: TikTok privacy levels
COMPOSE_SETTING_BLOCK = "compose_set_"  # + "<platform>:<field>": a platform's own setting (title, privacy…)
COMPOSE_SETTING_INPUT = "compose_set_input"
COMPOSE_BOARD_BLOCK = "compose_board_"  # + a Pinterest account's id: the board its pin goes to
COMPOSE_BOARD_INPUT = "compose_board_input"  # option values: board ids
COMPOSE_ALT_BLOCK = "compose_alt_"  # + a picture's position: its alt text
COMPOSE_ALT_INPUT = "compose_alt_input"
COMPOSE_DESCRIBE = "compose_describe"  # "Add alt text" button: shows a field per attached picture
COMPOSE_LINK_PREVIEW = "compose_link_preview"  # "Preview link card" button: fetches the link's card again
# Repeating a post (bot/views/series.py): how often, on which weekdays, and how it ends
COMPOSE_REPEAT_BLOCK = "compose_repeat"
COMPOSE_REPEAT_INPUT = "compose_repeat_input"  # value: none | daily | weekly | monthly
COMPOSE_REPEAT_DAYS_BLOCK = "compose_repeat_days"
COMPOSE_REPEAT_DAYS_INPUT = "compose_repeat_days_input"  # checkbox values: 0 (Monday) … 6 (Sunday)
COMPOSE_REPEAT_TIMES_BLOCK = "compose_repeat_times"
COMPOSE_REPEAT_TIMES_INPUT = "compose_repeat_times_input"
COMPOSE_REPEAT_UNTIL_BLOCK = "compose_repeat_until"
COMPOSE_REPEAT_UNTIL_INPUT = "compose_repeat_until_input"
DRAFT_OPEN = "draft_open"  # a draft's "Open" button in /picmim drafts (value: the post's id)

# The queue of scheduled posts (/picmim queue); each button's value is the post's id
QUEUE_PUBLISH_NOW = "queue_publish_now"
QUEUE_RESCHEDULE = "queue_reschedule"
QUEUE_CANCEL = "queue_cancel"
QUEUE_EDIT = "queue_edit"  # opens the compose modal on a queued post
QUEUE_SKIP = "queue_skip"  # a series' occurrence: not published, the series goes on
QUEUE_EDIT_SERIES = "queue_edit_series"  # the compose modal on the occurrence's series
QUEUE_STOP_SERIES = "queue_stop_series"  # ends the series and cancels its waiting occurrences
QUEUE_RESCHEDULE_VIEW = "queue_reschedule_view"
QUEUE_AT_BLOCK = "queue_at"
QUEUE_AT_INPUT = "queue_at_input"

# Approvals: the review card's buttons (value: "<post id>:<version>") and the comment modal
REVIEW_APPROVE = "review_approve"
REVIEW_REQUEST_CHANGES = "review_request_changes"  # opens the comment modal
REVIEW_REJECT = "review_reject"  # opens the comment modal
REVIEW_EDIT = "review_edit"  # the author only: the compose modal on the post
REVIEW_COMMENT_VIEW = "review_comment"
REVIEW_COMMENT_BLOCK = "review_comment_block"
REVIEW_COMMENT_INPUT = "review_comment_input"
# Reviewers outside Slack: a review link for one version of the post (value "post:version")
REVIEW_SHARE = "review_share"  # opens the share modal
REVIEW_REVOKE_LINKS = "review_revoke_links"
REVIEW_SHARE_VIEW = "review_share"
REVIEW_SHARE_NAME_BLOCK = "review_share_name_block"
REVIEW_SHARE_NAME_INPUT = "review_share_name_input"
REVIEW_SHARE_DAYS_BLOCK = "review_share_days_block"
REVIEW_SHARE_DAYS_INPUT = "review_share_days_input"

AUDIT_EXPORT = "audit_export"  # value: JSON {"q": what was asked about, "d": days}

# Analytics: /picmim stats and digests
STATS_SHARE = "stats_share"  # value: JSON {"a": account ids | "t": target id, "d": days, "n": nonce}
DIGEST_SUBSCRIBE_VIEW = "digest_subscribe"
DIGEST_CHANNEL_BLOCK = "digest_channel"
DIGEST_CHANNEL_INPUT = "digest_channel_input"
DIGEST_FREQUENCY_BLOCK = "digest_frequency"
DIGEST_FREQUENCY_INPUT = "digest_frequency_input"  # option values: daily | weekly | monthly
DIGEST_WEEKDAY_BLOCK = "digest_weekday"
DIGEST_WEEKDAY_INPUT = "digest_weekday_input"  # option values: 0 (Monday) … 6
DIGEST_DAY_BLOCK = "digest_day"
DIGEST_DAY_INPUT = "digest_day_input"  # option values: 1 … 31
DIGEST_TIME_BLOCK = "digest_time"
DIGEST_TIME_INPUT = "digest_time_input"
DIGEST_ZONE_BLOCK = "digest_zone"
DIGEST_ZONE_INPUT = "digest_zone_input"
DIGEST_ACCOUNTS_BLOCK = "digest_accounts"
DIGEST_ACCOUNTS_INPUT = "digest_accounts_input"  # option values: account ids
DIGEST_PLATFORMS_BLOCK = "digest_platforms"
DIGEST_PLATFORMS_INPUT = "digest_platforms_input"  # option values: platform keys
DIGEST_UNSUBSCRIBE = "digest_unsubscribe"  # value: the subscription's id

# App Home and /picmim help
NEW_POST = "new_post"  # "New post": the compose modal (from Home, or from /picmim help in a channel)
HOME_QUEUE = "home_queue"  # Home's "Queue": the queued posts in a modal
# Home's calendar: the week shown and the account filter (values: a HomeWeek, JSON); a post's details (PostRef)
HOME_WEEK_PREVIOUS = "home_week_previous"
HOME_WEEK_NEXT = "home_week_next"
HOME_WEEK_THIS = "home_week_this"
HOME_ACCOUNT_FILTER = "home_account_filter"  # a static select; each option's value is a HomeWeek
HOME_POST_OPEN = "home_post_open"  # a post's details in a modal, with the queue's buttons
HOME_DAY_MORE = "home_day_more"  # "+ N more on Tuesday": the queue in a modal
HOME_POST_VIEW = "home_post"  # the details modal (metadata: {"post_id"}); its queue buttons answer in it

# Roles: /picmim roles (who may post where) and account groups
ROLES_VIEW = "roles"  # metadata: {"scope": "a<account id>" | "g<group id>"}
ROLES_ADMINS_BLOCK = "roles_admins"
ROLES_ADMINS_INPUT = "roles_admins_input"
ROLES_ADMIN_GROUP_BLOCK = "roles_admin_group"
ROLES_ADMIN_GROUP_INPUT = "roles_admin_group_input"
ROLES_SCOPE_BLOCK = "roles_scope"
ROLES_SCOPE_INPUT = "roles_scope_input"  # option values: a scope; choosing one shows its pickers (views.update)
ROLES_PEOPLE_BLOCK = "roles_people_"  # + role + "_" + scope: a new scope's pickers start from what it has
ROLES_PEOPLE_INPUT = "roles_people_input"
ROLES_GROUP_BLOCK = "roles_usergroup_"  # + role + "_" + scope
ROLES_GROUP_INPUT = "roles_usergroup_input"  # option values: a user group's id, or "-"
ROLES_GROUP_NEW = "roles_group_new"
ROLES_GROUP_EDIT = "roles_group_edit"  # value: the group's id
ROLES_OPEN = "roles_open"  # /picmim settings' "Roles…": the roles window over it
GROUP_VIEW = "account_group"  # metadata: {"group_id": id}
GROUP_NAME_BLOCK = "group_name"
GROUP_NAME_INPUT = "group_name_input"
GROUP_ACCOUNTS_BLOCK = "group_accounts"
GROUP_ACCOUNTS_INPUT = "group_accounts_input"  # option values: account ids
GROUP_APPROVERS_BLOCK = "group_approvers"
GROUP_APPROVERS_INPUT = "group_approvers_input"
GROUP_APPROVER_GROUP_BLOCK = "group_approver_group"
GROUP_APPROVER_GROUP_INPUT = "group_approver_group_input"
GROUP_APPROVAL_CHANNEL_BLOCK = "group_approval_channel"
GROUP_APPROVAL_CHANNEL_INPUT = "group_approval_channel_input"
GROUP_DIGEST_CHANNEL_BLOCK = "group_digest_channel"
GROUP_DIGEST_CHANNEL_INPUT = "group_digest_channel_input"
GROUP_DELETE_BLOCK = "group_delete"
GROUP_DELETE_INPUT = "group_delete_input"  # checkbox value: "delete"
# Bulk import: /picmim import (a CSV file of posts)
IMPORT_VIEW = "import"  # the window taking the file
IMPORT_FILE_BLOCK = "import_file"
IMPORT_FILE_INPUT = "import_file_input"  # file_input: one CSV file
IMPORT_ALL_BLOCK = "import_all"
IMPORT_ALL_INPUT = "import_all_input"  # checkbox value: "all" (all or nothing)

# When to post: posting slots per account, and the compose window's quick choices (c20)
ACCOUNT_MENU_SLOTS = "slots"  # the accounts list's ⋯ option "Posting slots…" ("slots:<connection id>")
SETTINGS_SLOTS = "settings_slots"  # the settings window's "Posting slots" button
SLOTS_VIEW = "posting_slots"  # metadata: the account's id
SLOTS_ACCOUNT_BLOCK = "slots_account"
SLOTS_ACCOUNT_INPUT = "slots_account_input"  # choosing another account shows its slots
SLOTS_DAY_BLOCK = "slots_day_"  # + the weekday (0 = Monday)
SLOTS_DAY_INPUT = "slots_day_input"  # option values: "HH:MM"
COMPOSE_WHEN_AT = "at:"  # a best time's value in the compose window's "When": "at:<seconds since 1970>"
COMPOSE_WHEN_SLOT = "slot:"  # the next free slot's: "slot:<account id>:<seconds since 1970>"
