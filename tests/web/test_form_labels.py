"""Every form field on every page a demo account reaches is labelled (a <label>, or aria-label
for a cell of a table whose header names it): a placeholder is not a label."""
from html.parser import HTMLParser

import pytest

from app.services.demo import seed_demo
from tests.factories import PASSWORD
from tests.web.crawl import ACCOUNTS, pages

#: Controls that need no label: nothing the user types or picks.
UNLABELLED_TYPES = {"hidden", "submit", "button", "reset", "image"}


class _Fields(HTMLParser):
    """Collects form controls that are neither inside a <label>, named by one's ``for``, nor given
    an ``aria-label``/``aria-labelledby``."""

    def __init__(self):
        super().__init__()
        self.fields, self.label_for = [], set()
        self.open_labels = 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "label":
            self.open_labels += 1
            if a.get("for"):
                self.label_for.add(a["for"])
        elif tag in ("input", "select", "textarea") and a.get("type", "text") not in UNLABELLED_TYPES:
            named = self.open_labels or a.get("aria-label") or a.get("aria-labelledby")
            self.fields.append((a.get("name") or a.get("id") or tag, a.get("id"), bool(named)))

    def handle_endtag(self, tag):
        if tag == "label" and self.open_labels:
            self.open_labels -= 1

    def unlabelled(self) -> list[str]:
        return [name for name, ident, named in self.fields if not named and ident not in self.label_for]


def _crawl(client, limit: int = 80) -> dict[str, list[str]]:
    """Pages reachable from the home page with their unlabelled fields."""
    problems = {}
    for path, html in pages(client, limit):
        parser = _Fields()
        parser.feed(html)
        if parser.unlabelled():
            problems[path] = parser.unlabelled()
    return problems


@pytest.mark.parametrize("account", ACCOUNTS)
def test_every_form_field_a_demo_account_reaches_is_labelled(client, auth, account):
    seed_demo(PASSWORD)
    auth.login(account, PASSWORD)
    assert _crawl(client) == {}


def test_the_check_finds_a_placeholder_only_field():
    parser = _Fields()
    parser.feed('<form><input name="code" placeholder="代码"><label>名称 <input name="name"></label>'
                '<label for="d">日期</label><input id="d" name="day"><input type="hidden" name="x"></form>')
    assert parser.unlabelled() == ["code"]
