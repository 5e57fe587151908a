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

# Workspace settings
SETTINGS_VIEW = "settings"
SETTINGS_MANAGERS_BLOCK = "settings_managers"
SETTINGS_MANAGERS_INPUT = "settings_managers_policy"
SETTINGS_MANAGER_USERS_BLOCK = "settings_manager_users"
SETTINGS_MANAGER_USERS_INPUT = "settings_manager_users_input"

# A post's status message
POST_RETRY = "post_retry"  # value: the target's id (failed, or unconfirmed and checked by a person)
POST_MARK_PUBLISHED = "post_mark_published"  # value: the target's id (unconfirmed, found live)

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
DRAFT_OPEN = "draft_open"  # a draft's "Open" button in /picmim drafts (value: the post's id)

# The queue of scheduled posts (/picmim queue); each button's value is the post's id
QUEUE_PUBLISH_NOW = "queue_publish_now"
QUEUE_RESCHEDULE = "queue_reschedule"
QUEUE_CANCEL = "queue_cancel"
QUEUE_EDIT = "queue_edit"  # opens the compose modal on a queued post
QUEUE_RESCHEDULE_VIEW = "queue_reschedule_view"
QUEUE_AT_BLOCK = "queue_at"
QUEUE_AT_INPUT = "queue_at_input"
