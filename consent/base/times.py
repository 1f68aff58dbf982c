"""Times as people see and type them: every stored time is UTC; each is shown in the viewer's
time zone, with the zone's name, and a time typed in a form is read in that zone
(docs/time_zones.md). Pure functions, and the Jinja filters that call them."""

from __future__ import annotations

import functools
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo, available_timezones

import jinja2
from babel import Locale
from babel.dates import format_date, format_time, get_timezone_location

from consent.base import i18n
from consent.base.errors import bad_field
from consent.base.i18n import gettext as _

MAX_ZONE = 64  # account.time_zone, circle.time_zone
TYPED = "%Y-%m-%dT%H:%M"  # what a datetime-local field sends and is given


@functools.cache
def known_zones() -> frozenset[str]:
    return frozenset(available_timezones())


def zone_named(name: str | None) -> ZoneInfo | None:
    """The IANA zone of that name; None for none, or a name the server does not know (a
    cookie or a form can say anything)."""
    return ZoneInfo(name) if name and name in known_zones() else None


def check_zone(name: str) -> str:
    """A time zone typed or sent: an IANA name, such as America/Mexico_City."""
    name = name.strip()
    if zone_named(name) is None:
        raise bad_field(
            "time_zone",
            _("{{Field}} “{name}” is not known: use a name such as America/Mexico_City.").format(name=name[:MAX_ZONE]),
        )
    return name


def choose_zone(*names: str | None) -> ZoneInfo:
    """The first of `names` that is a zone (the account's, the browser's, the circle's), else UTC."""
    for name in names:
        if (zone := zone_named(name)) is not None:
            return zone
    return ZoneInfo("UTC")


def as_moment(value: datetime | str) -> datetime:
    """A stored time (a datetime, or ISO 8601 as events carry it), aware; a naive one is UTC,
    as the database gives them back on SQLite."""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def zone_abbreviation(moment: datetime, zone: ZoneInfo, locale: str | None = None) -> str:
    """The zone's short name at that moment ("CST"); its long one where the language has no
    short one ("Central European Standard Time" rather than "+0100")."""
    locale = locale or i18n.current()  # the language of the request, mail or event at hand
    short = format_time(moment, "z", tzinfo=zone, locale=locale)
    return format_time(moment, "zzzz", tzinfo=zone, locale=locale) if short[:1] in "+-" else short


def format_moment(value: datetime | str, zone: ZoneInfo, locale: str | None = None) -> str:
    """A time in `zone`, with the zone's name: "Dec 10, 2026, 12:00 PM CST"."""
    locale = locale or i18n.current()  # the language of the request, mail or event at hand
    local = as_moment(value).astimezone(zone)
    pattern = str(Locale.parse(locale).datetime_formats["medium"])
    day, clock = format_date(local, "medium", locale=locale), format_time(local, "short", locale=locale)
    when = pattern.replace("'", "").replace("{1}", day).replace("{0}", clock)
    return f"{when} {zone_abbreviation(local, zone, locale)}"


def format_day(value: date | datetime | str, zone: ZoneInfo, locale: str | None = None) -> str:
    """A date ("Jun 30, 2027"); a time's date in `zone`."""
    locale = locale or i18n.current()  # the language of the request, mail or event at hand
    if isinstance(value, str):
        value = datetime.fromisoformat(value) if "T" in value else date.fromisoformat(value)
    if isinstance(value, datetime):
        value = as_moment(value).astimezone(zone).date()
    return format_date(value, "medium", locale=locale)


def zone_label(zone: ZoneInfo, at: datetime, locale: str | None = None) -> str:
    """The zone a form's time is typed in: "Mexico (Mexico City) Time (CST)"; "UTC" for UTC
    (a zone of no place: UTC, Etc/UTC, GMT)."""
    locale = locale or i18n.current()  # the language of the request, mail or event at hand
    if "/" not in zone.key or zone.key.startswith("Etc/"):
        return zone_abbreviation(at, zone, locale)
    return f"{get_timezone_location(zone, locale=locale)} ({zone_abbreviation(at, zone, locale)})"


def typed(value: datetime | str | None, zone: ZoneInfo) -> str:
    """A time as a datetime-local field shows it, in `zone`: "2026-12-10T12:00"."""
    return as_moment(value).astimezone(zone).strftime(TYPED) if value else ""


def read_typed(text: str, zone: ZoneInfo, field: str = "closes_at") -> datetime | None:
    """A time typed in a form, read in `zone`, in UTC; None when empty. One with an offset
    keeps it. A local time that does not exist (the hour skipped when clocks go forward) is
    refused; one that happens twice (the hour repeated when they go back) is the earlier."""
    text = text.strip()
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise bad_field(field, _("{Field} must be a date and time.")) from None
    if moment.tzinfo is not None:
        return moment.astimezone(UTC)
    local = moment.replace(tzinfo=zone, fold=0)  # fold 0: the earlier of a repeated hour
    if local.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != moment:
        raise bad_field(
            field,
            _("{{Field}}: {moment} does not exist in {zone} (the clocks go forward then): choose another time.").format(
                moment=moment.strftime("%Y-%m-%d %H:%M"), zone=zone.key
            ),
        )
    return local.astimezone(UTC)


def _zone(context: Any) -> ZoneInfo:
    zone = context.get("zone")
    return zone if isinstance(zone, ZoneInfo) else ZoneInfo("UTC")


@jinja2.pass_context
def when_filter(context: Any, value: datetime | str | None) -> str:
    """`{{ moment | when }}`: in the page's `zone`, with the zone's name."""
    return format_moment(value, _zone(context)) if value else ""


@jinja2.pass_context
def day_filter(context: Any, value: date | datetime | str | None) -> str:
    """`{{ day | day }}`: a date, or a time's date in the page's `zone`."""
    return format_day(value, _zone(context)) if value else ""


@jinja2.pass_context
def typed_filter(context: Any, value: datetime | str | None) -> str:
    """`{{ moment | typed }}`: a datetime-local field's value, in the page's `zone`."""
    return typed(value, _zone(context))


@jinja2.pass_context
def zone_label_global(context: Any) -> str:
    """`{{ zone_label() }}`: the zone the page's times are typed in."""
    return zone_label(_zone(context), datetime.now(UTC))


def utc_iso(value: datetime | str | None) -> str:
    """`{{ moment | utc_iso }}`: a <time datetime="…"> attribute, ISO 8601 in UTC."""
    return as_moment(value).astimezone(UTC).isoformat() if value else ""


FILTERS = {"when": when_filter, "day": day_filter, "typed": typed_filter, "utc_iso": utc_iso}
GLOBALS = {"zone_label": zone_label_global}
