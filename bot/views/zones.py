"""Choosing a time zone and a reaction from a list instead of typing one (settings and the digest modal):
the common zones grouped by region, each with its offset today, and the common reactions."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from bot.views.blocks import option, plain

ZONES: dict[str, tuple[str, ...]] = {
    "Americas": (
        "Pacific/Honolulu", "America/Anchorage", "America/Los_Angeles", "America/Vancouver", "America/Denver",
        "America/Phoenix", "America/Chicago", "America/Mexico_City", "America/New_York", "America/Toronto",
        "America/Bogota", "America/Lima", "America/Caracas", "America/Halifax", "America/Santiago",
        "America/St_Johns", "America/Argentina/Buenos_Aires", "America/Sao_Paulo"),
    "Europe": (
        "Europe/London", "Europe/Dublin", "Europe/Lisbon", "Europe/Madrid", "Europe/Paris", "Europe/Brussels",
        "Europe/Amsterdam", "Europe/Berlin", "Europe/Zurich", "Europe/Rome", "Europe/Vienna", "Europe/Copenhagen",
        "Europe/Oslo", "Europe/Stockholm", "Europe/Warsaw", "Europe/Prague", "Europe/Budapest", "Europe/Athens",
        "Europe/Bucharest", "Europe/Helsinki", "Europe/Kyiv", "Europe/Istanbul", "Europe/Moscow"),
    "Africa and the Middle East": (
        "Africa/Casablanca", "Africa/Lagos", "Africa/Cairo", "Africa/Johannesburg", "Africa/Nairobi",
        "Asia/Jerusalem", "Asia/Riyadh", "Asia/Dubai", "Asia/Tehran"),
    "Asia": (
        "Asia/Karachi", "Asia/Kolkata", "Asia/Dhaka", "Asia/Bangkok", "Asia/Jakarta", "Asia/Ho_Chi_Minh",
        "Asia/Kuala_Lumpur", "Asia/Singapore", "Asia/Manila", "Asia/Hong_Kong", "Asia/Shanghai", "Asia/Taipei",
        "Asia/Seoul", "Asia/Tokyo"),
    "Australia and the Pacific": (
        "Australia/Perth", "Australia/Adelaide", "Australia/Brisbane", "Australia/Melbourne", "Australia/Sydney",
        "Pacific/Auckland"),
    "Universal": ("UTC",),
}
_REGION_OF = {"America": "Americas", "Europe": "Europe", "Africa": "Africa and the Middle East",
              "Asia": "Asia", "Australia": "Australia and the Pacific", "Pacific": "Australia and the Pacific"}


def known_zone(name: str | None) -> bool:
    try:
        return bool(name) and ZoneInfo(name) is not None
    except (ValueError, KeyError, OSError):  # OSError: "Europe" is a folder of zones
        return False


def zone_label(name: str, now: datetime | None = None) -> str:
    """"New York (UTC−05:00)": the place as people say it, and its offset today."""
    if name == "UTC":
        return "UTC (Coordinated Universal Time)"
    offset = (now or datetime.now(UTC)).astimezone(ZoneInfo(name)).utcoffset()
    minutes = int(offset.total_seconds() // 60) if offset is not None else 0
    sign = "+" if minutes >= 0 else "−"
    place = name.rsplit("/", 1)[-1].replace("_", " ")
    return f"{place} (UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d})"


def zone_select(action_id: str, initial: str | None, *, also: Iterable[str | None] = (), emoji: bool = False,
                now: datetime | None = None) -> dict:
    """A static select of the common zones, grouped by region. `initial` (and each of `also`: a saved zone, the
    person's own) is offered even when it is not a common one; an unknown name is left out."""
    groups = {region: list(names) for region, names in ZONES.items()}
    listed = {n for names in groups.values() for n in names}
    for extra in (initial, *also):
        if extra and extra not in listed and known_zone(extra):
            region = _REGION_OF.get(extra.split("/", 1)[0], "Other")
            groups.setdefault(region, []).append(extra)
            listed.add(extra)
    option_groups, chosen = [], None
    for region, names in groups.items():
        options = [option(zone_label(n, now), n, emoji=emoji) for n in names[:100]]
        option_groups.append({"label": plain(region, emoji=emoji), "options": options})
        chosen = chosen or next((o for o in options if o["value"] == initial), None)
    element = {"type": "static_select", "action_id": action_id,
               "placeholder": plain("Choose a time zone", emoji=emoji), "option_groups": option_groups}
    if chosen:
        element["initial_option"] = chosen
    return element


# ---- reactions --------------------------------------------------------------------------------------------------

APPROVE_REACTIONS = ("white_check_mark", "heavy_check_mark", "+1", "ok_hand", "rocket", "tada", "star",
                     "green_heart", "100", "ballot_box_with_check")
REJECT_REACTIONS = ("x", "no_entry", "no_entry_sign", "-1", "octagonal_sign", "negative_squared_cross_mark",
                    "heavy_multiplication_x", "red_circle")


def reaction_select(action_id: str, common: Iterable[str], current: str | None, *, emoji: bool = False) -> dict:
    """The common reactions, each shown as itself and its name; the saved one is kept even when uncommon."""
    names = list(dict.fromkeys(common))
    if current and current not in names:
        names.insert(0, current)
    options = [option(f":{n}:  {n}", n, emoji=emoji) for n in names]
    chosen = next((o for o in options if o["value"] == current), None)
    element = {"type": "static_select", "action_id": action_id, "placeholder": plain("Choose a reaction", emoji=emoji),
               "options": options}
    if chosen:
        element["initial_option"] = chosen
    return element
