"""The language of what people read: pages, mails, error messages (docs/i18n.md).

A request's language is its account's choice (`account.language`), else the best match of the
browser's `Accept-Language` among the served languages, else English. It is held in a context
variable for the request's task, so `gettext` and the templates' `_()` and `{% trans %}` say
everything in it, and one request's language never reaches another's render. Code that writes
for someone else (a mail to each recipient) says so with `using(language)`.

The msgids are the English texts: English needs no catalog. The other languages' catalogs are
compiled from consent/locale/*/LC_MESSAGES/messages.po at build (`pybabel compile`); the server
refuses to start without them (`check_catalogs`).
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from functools import cache
from gettext import NullTranslations
from pathlib import Path
from typing import Any

from babel import Locale, UnknownLocaleError
from babel.numbers import format_decimal
from babel.support import LazyProxy, Translations

LOCALE_DIR = Path(__file__).parent.parent / "locale"
DOMAIN = "messages"
DEFAULT = "en"
LANGUAGES = ("en", "es")  # served: English (the msgids) and each catalog in LOCALE_DIR
# How each language names itself, for a choice of language.
LANGUAGE_NAMES = {"en": "English", "es": "Español"}
COMPILE = f"pybabel compile -d {LOCALE_DIR} -D {DOMAIN}"

_language: contextvars.ContextVar[str] = contextvars.ContextVar("consent.language", default=DEFAULT)


class CatalogMissing(RuntimeError):
    """A served language has no compiled catalog, or one older than its .po."""


def check_catalogs(locale_dir: Path = LOCALE_DIR) -> None:
    """Refuses to start with a catalog missing or stale: the pages would be half translated. An
    installed wheel ships the .mo files only (compiled by its build); a source checkout has
    both, and the .mo must not be older than the .po it is compiled from."""
    for language in LANGUAGES:
        if language == DEFAULT:
            continue
        po = locale_dir / language / "LC_MESSAGES" / f"{DOMAIN}.po"
        mo = po.with_suffix(".mo")
        if not mo.exists():
            raise CatalogMissing(f"The {language} catalog is not compiled ({mo} is missing): run `{COMPILE}`.")
        if po.exists() and po.stat().st_mtime > mo.stat().st_mtime:
            raise CatalogMissing(f"The {language} catalog is older than {po}: run `{COMPILE}`.")


@cache
def translations(language: str) -> NullTranslations:
    if language == DEFAULT:
        return NullTranslations()
    return Translations.load(str(LOCALE_DIR), [language], DOMAIN)


def served(language: str | None) -> str | None:
    """`language` if it is served (an account's stored choice may predate a removed one)."""
    return language if language in LANGUAGES else None


def negotiate(accept_language: str | None) -> str:
    """The served language the browser prefers most (`es-ES,es;q=0.9,en;q=0.8` → es), else English."""
    preferred: list[tuple[float, int, str]] = []
    for position, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if tag.strip() and quality > 0:
            preferred.append((-quality, position, tag.strip().replace("_", "-")))
    tags = [tag for _, _, tag in sorted(preferred)]
    # Babel matches a region to its language (es-ES → es) and aliases; "*" is anything, English.
    best = Locale.negotiate(tags, list(LANGUAGES), sep="-")
    return str(best) if best is not None else DEFAULT


def language_of(account_language: str | None, accept_language: str | None) -> str:
    return served(account_language) or negotiate(accept_language)


def current() -> str:
    return _language.get()


def use(language: str) -> None:
    """This task's language from now on (a request's, set by `LanguageMiddleware`)."""
    _language.set(served(language) or DEFAULT)


@contextmanager
def using(language: str | None) -> Iterator[str]:
    """Writes in `language` for a while, such as one recipient's mail, then goes back."""
    token = _language.set(served(language) or DEFAULT)
    try:
        yield _language.get()
    finally:
        _language.reset(token)


def gettext(message: str) -> str:
    return translations(_language.get()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return translations(_language.get()).ngettext(singular, plural, n)


_ = gettext


def lazy_gettext(message: str) -> Any:
    """A text translated each time it is used, in the language of that moment: for module
    constants such as the labels, read while serving many languages."""
    return LazyProxy(gettext, message, enable_cache=False)


class LazyLabels(Mapping[str, str]):
    """A mapping of codes to texts marked with `lazy_gettext`, whose values are translated as
    they are read: `labels.PHASE_NAMES["draft"]` says "Borrador" in a Spanish request."""

    def __init__(self, texts: Mapping[str, Any]) -> None:
        self.texts = dict(texts)

    def __getitem__(self, key: str) -> str:
        return str(self.texts[key])

    def __iter__(self) -> Iterator[str]:
        return iter(self.texts)

    def __len__(self) -> int:
        return len(self.texts)


def number(value: float) -> str:
    """A count or number as the language writes it (1,234 in English, 1.234 in Spanish)."""
    return format_decimal(value, locale=_language.get())


def locale() -> Locale:
    try:
        return Locale.parse(_language.get())
    except (UnknownLocaleError, ValueError):
        return Locale.parse(DEFAULT)


def install(env: Any) -> None:
    """Gives a Jinja environment `_()`, `ngettext()` and `{% trans %}` in the current language,
    read at each call (one environment renders for every language), `format_number()` for counts,
    and `page_language()` for `<html lang>`. Multi-line `trans` blocks are trimmed, like HTML reads them."""
    env.add_extension("jinja2.ext.i18n")
    env.install_gettext_callables(gettext, ngettext, newstyle=True)
    env.policies["ext.i18n.trimmed"] = True
    env.globals.update(format_number=number, page_language=current)


def N_(message: str) -> str:
    """Marks a constant for the catalog, untranslated: it is translated where it is said."""
    return message
