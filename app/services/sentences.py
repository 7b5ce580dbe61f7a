"""A sentence kept as its English template and its values, so that one finding can be said in
English where English is what is read (the CLI, logs, JSON) and in the interface language on the
pages: `str(sentence)` is the English, `sentence.translated()` the reader's language. Templates
are marked with `N_` (a Babel keyword) and have their zh entries in messages.po; values may be
sentences themselves (a row's noun), said in the same language as the sentence around them, or
stored codes (`Code`: an audit action, a decision), said as stored in English and in words on the
pages."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext

from app.clock import local_now


def N_(template: str) -> str:
    """Mark ``template`` for translation without translating it now."""
    return template


@dataclass(frozen=True)
class Sentence:
    """An English ``template`` with ``%(name)s`` placeholders and its values (name, value) pairs."""

    template: str
    values: tuple[tuple[str, object], ...] = ()

    def __str__(self) -> str:
        return self.template % {k: str(v) for k, v in self.values} if self.values else self.template

    def translated(self) -> str:
        """The sentence in the interface language (needs an app context)."""
        values = {k: v.translated() if isinstance(v, (Sentence, Code)) else v for k, v in self.values}
        return gettext(self.template, **values)


@dataclass(frozen=True)
class Code:
    """A stored code in a sentence: the ``code`` itself in English (what the CLI's reader greps
    for), its ``label`` (a lazy string or a `Sentence`) in the interface language."""

    code: str
    label: object

    def __str__(self) -> str:
        return self.code

    def translated(self) -> str:
        label = self.label
        return label.translated() if isinstance(label, Sentence) else str(label)


def say(template: str, **values) -> Sentence:
    """The sentence ``template`` (marked with `N_`) with ``values``."""
    return Sentence(template, tuple(values.items()))


def instant(iso: str) -> Code:
    """An ISO instant as stored (English) and in Beijing time to the second (the pages); text
    that is not an instant (a tampered record can hold anything) is said as it is."""
    try:
        return Code(iso, f"{local_now(datetime.fromisoformat(iso)):%Y-%m-%d %H:%M:%S}")
    except (TypeError, ValueError):
        return Code(str(iso), str(iso))
