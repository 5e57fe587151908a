"""The one seam where every feature's Slack listeners are wired into the bolt app."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.handlers import (
    approvals,
    audit,
    commands,
    compose,
    connect,
    context,
    digests,
    failures,
    home,
    importing,
    lifecycle,
    posts,
    queue,
    review_links,
    roles,
    series,
    settings,
    slots,
    stats,
)

# Each module has register(app); a module may also offer `/picmim` subcommands as SUBCOMMANDS.
FEATURES = (home, lifecycle, connect, posts, settings, roles, compose, queue, approvals, review_links, stats,
            digests, audit, importing, series, slots)


def register(app: AsyncApp, runtime) -> None:
    context.register(app, runtime)  # first: every listener takes its session, workspace, person and subject
    failures.register(app)  # a database outage is said in words, once in the log
    subcommands: dict = {}
    for feature in FEATURES:
        subcommands.update(getattr(feature, "SUBCOMMANDS", {}))
    # bolt tries each listener's matchers in the order they were added: `/picmim`, the busiest, goes first
    # so a command is not matched against every button and modal first.
    commands.register(app, subcommands)
    for feature in FEATURES:
        feature.register(app)
