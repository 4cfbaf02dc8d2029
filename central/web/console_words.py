"""The live console's words, in the request's language, for console.js.

console.js draws tiles, alerts and commands itself, so it cannot use gettext: the page carries
these words as a JSON data block (<script type="application/json" id="console-words">) and the
script looks them up with t(key, values). A key is the English text, so a missing word shows in
English. Values are written {name} and filled in by the script. A count's words are given per
plural category of Intl.PluralRules ("one", "many", "other"), made here with ngettext.
"""

from __future__ import annotations

from collections.abc import Callable

from central.web import labels
from central.web.translation import _, ngettext, pgettext
from protocol import CommandType
from protocol.models import EventState, Severity, ViolationType

# One number in each CLDR plural category ngettext can tell apart, for English and French.
_PLURAL_SAMPLES = {"one": 1, "many": 1_000_000, "other": 2}


def _counted(forms: Callable[[int], str]) -> dict[str, str]:
    """A count's text for each plural category (forms(n) is an ngettext call)."""
    return {category: forms(sample) for category, sample in _PLURAL_SAMPLES.items()}


def _warnings(n: int) -> str:
    # %(count)s is given as "{count}": the script puts the number in.
    return ngettext("%(count)s warning", "%(count)s warnings", n, count="{count}")


def _open_alerts(n: int) -> str:
    return ngettext("%(count)s open alert", "%(count)s open alerts", n, count="{count}")


def _texts() -> dict[str, str]:
    return {
        # The live feed's state, top right.
        "connecting…": _("connecting…"),
        "live": pgettext("live feed", "live"),
        "reconnecting…": _("reconnecting…"),
        "the action failed": _("the action failed"),
        # A tile.
        "trust score so far": _("trust score so far"),
        "no candidate": _("no candidate"),
        "no progress yet": _("no progress yet"),
        "{state} · {answered}/{total}": _("{state} · {answered}/{total}"),
        "{time} left": _("{time} left"),
        "off: {stages}": _("off: {stages}"),
        "Seat {seat}, {connection}, {alerts}": _("Seat {seat}, {connection}, {alerts}"),
        # An alert in the feed.
        "{what} ({severity}, {state})": _("{what} ({severity}, {state})"),
        "{who} at the seat {time}": _("{who} at the seat {time}"),
        "you are on the way": _("you are on the way"),
        "{who} is on the way": _("{who} is on the way"),
        "seen by {who}": _("seen by {who}"),
        "Acknowledge": _("Acknowledge"),
        "Invigilator to send to the seat": _("Invigilator to send to the seat"),
        "Send": pgettext("dispatch", "Send"),
        "Send instead": _("Send instead"),
        "At seat": _("At seat"),
        # The seat panel.
        "Seat {seat}": _("Seat {seat}"),
        "none": pgettext("evidence", "none"),
        "Latest snapshot of seat {seat}": _("Latest snapshot of seat {seat}"),
        "{type} clip": _("{type} clip"),
        "Warning “{text}”": _("Warning “{text}”"),
        "Message “{text}”": _("Message “{text}”"),
        "Time {minutes} min": _("Time {minutes} min"),
        "{time} by {who}": _("{time} by {who}"),
        "End the exam at this seat?": _("End the exam at this seat?"),
    }


def _connections() -> dict[str, str]:
    return {
        "online": pgettext("device state", "online"),
        "stale": pgettext("device state", "stale"),
        "offline": pgettext("device state", "offline"),
    }


def _exam_states() -> dict[str, str]:
    # The kiosk's exam state in its heartbeat (protocol.models.ExamProgress.state).
    return {
        "idle": pgettext("kiosk exam state", "idle"),
        "checkin": pgettext("kiosk exam state", "check-in"),
        "ready": pgettext("kiosk exam state", "ready"),
        "running": pgettext("kiosk exam state", "running"),
        "paused": pgettext("kiosk exam state", "paused"),
        "submitted": pgettext("kiosk exam state", "submitted"),
    }


def _command_types() -> dict[str, str]:
    words = {
        CommandType.WARN: pgettext("command", "Warning"),
        CommandType.PAUSE: pgettext("command", "Pause"),
        CommandType.RESUME: pgettext("command", "Resume"),
        CommandType.END_EXAM: pgettext("command", "End exam"),
        CommandType.LOAD_EXAM: pgettext("command", "Load exam"),
        CommandType.ENROL: pgettext("command", "Enrolment"),
        CommandType.MESSAGE: pgettext("command", "Message"),
        CommandType.ADJUST_TIME: pgettext("command", "Time adjustment"),
    }
    return {str(code.value): word for code, word in words.items()}


def _command_states() -> dict[str, str]:
    # central.services.commands.STATE_RANK's states.
    return {
        "queued": pgettext("command state", "queued"),
        "published": pgettext("command state", "sent"),
        "received": pgettext("command state", "received"),
        "done": pgettext("command state", "done"),
        "rejected": pgettext("command state", "rejected"),
        "expired": pgettext("command state", "expired"),
        "failed": pgettext("command state", "failed"),
    }


def console_words() -> dict[str, object]:
    """Everything console.js shows, built inside the request (gettext needs its locale)."""
    return {
        "texts": _texts(),
        "counts": {
            "{count} warning(s)": _counted(_warnings),
            "{count} open alert(s)": _counted(_open_alerts),
        },
        "connections": _connections(),
        "exam_states": _exam_states(),
        "violation_types": {t.value: labels.violation_type(t.value) for t in ViolationType},
        "severities": {s.value: labels.severity(s.value) for s in Severity},
        "event_states": {s.value: labels.event_state(s.value) for s in EventState},
        "command_types": _command_types(),
        "command_states": _command_states(),
    }
