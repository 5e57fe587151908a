"""Local servers that answer as Slack and each platform's API do (status codes, error bodies, limits): the sandbox's
simulated Slack and networks, and the tests' fakes."""
