"""What Picmim sends into Slack on its own, not in answer to a person: a post's status message, review cards,
token-health alerts, digests and shared reports. Jobs, services' callbacks and listeners all call these."""
