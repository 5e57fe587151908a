"""The sandbox: the real app with a simulated Slack workspace and simulated networks (`python -m bot sandbox`)."""
