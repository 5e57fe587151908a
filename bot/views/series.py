"""Block Kit for recurring posts: the compose window's Repeat part (how often, which weekdays, how it ends) and
the warning for networks that refuse the same words twice."""

from __future__ import annotations

from bot import ids
from bot.services.series import DAILY, MONTHLY, WEEKDAYS, WEEKLY, Repeat
from bot.views.blocks import choices, context, input_block, option

NO_REPEAT = "none"
FREQUENCY_CHOICES = ((NO_REPEAT, "Does not repeat"), (DAILY, "Every day"), (WEEKLY, "Every week"),
                     (MONTHLY, "Every month, on the first date's day"))


def repeat_blocks(repeat: Repeat | None, warning: str | None = None) -> list[dict]:
    """Repeat (choosing brings up its parts), the weekdays of a weekly series, how it ends, and `warning`."""
    options = [option(text, value) for value, text in FREQUENCY_CHOICES]
    current = repeat.frequency if repeat else NO_REPEAT
    select = input_block(ids.COMPOSE_REPEAT_BLOCK, "Repeat", choices(
        "static_select", ids.COMPOSE_REPEAT_INPUT, options,
        initial=next((o for o in options if o["value"] == current), options[0])), optional=True,
        hint="At the time above, in your own time zone (summer time included). Each time becomes its own post in "
             "/picmim queue, where you can skip or edit one, or edit or stop the series.")
    select["dispatch_action"] = True  # a frequency brings up its weekdays and its end
    blocks = [select]
    if repeat is None:
        return blocks
    if repeat.frequency == WEEKLY:
        days = [option(name, str(n)) for n, name in enumerate(WEEKDAYS)]
        blocks.append(input_block(ids.COMPOSE_REPEAT_DAYS_BLOCK, "On", choices(
            "checkboxes", ids.COMPOSE_REPEAT_DAYS_INPUT, days,
            initial=[d for d in days if int(d["value"]) in repeat.weekdays]), optional=True))
    times = {"type": "number_input", "action_id": ids.COMPOSE_REPEAT_TIMES_INPUT, "is_decimal_allowed": False,
             "min_value": "1"}
    if repeat.times is not None:
        times["initial_value"] = str(repeat.times)
    until = {"type": "datepicker", "action_id": ids.COMPOSE_REPEAT_UNTIL_INPUT}
    if repeat.ends_on is not None:
        until["initial_date"] = repeat.ends_on.isoformat()
    blocks += [input_block(ids.COMPOSE_REPEAT_TIMES_BLOCK, "Number of times", times, optional=True,
                           hint="How many times in all, the first included. Or give a last day below."),
               input_block(ids.COMPOSE_REPEAT_UNTIL_BLOCK, "Last day", until, optional=True,
                           hint="The series ends after this day.")]
    if warning:
        blocks.append(context(warning))  # our own words: a `/picmim queue` in them stays code
    return blocks
