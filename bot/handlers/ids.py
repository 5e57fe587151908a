"""Every action_id and callback_id the app uses, in one place."""

COMMAND = "/picmim"

# App Home
HOME_CONNECT = "home_connect"
HOME_HELP = "home_help"
