"""Every page a demo account reaches, in Chinese and in English, says stored codes in words: no
snake_case code (`no_check_out`, `hours_ledger`), no Python or JSON literal (`True`, `null`; in
Chinese also `None`) and no internal name (the audit actor `system`, the liveness action `blink`)
in the visible text. Code shown on purpose is marked up as such (<code>, <pre>), the audit log's
raw record column (`td.payload`) shows the record as stored, and user names are names."""
import re
from html.parser import HTMLParser

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import User
from app.services.demo import seed_demo
from tests.factories import PASSWORD
from tests.web.crawl import ACCOUNTS, pages

SNAKE = r"[a-z]+_[a-z_]+|True|False|null"
#: In Chinese, also the English words that stand for a stored value; in English they are words.
CODE = {"zh_CN": re.compile(rf"\b(?:{SNAKE}|None|system|blink)\b"), "en": re.compile(rf"\b(?:{SNAKE})\b")}
RAW = re.compile(r'<td class="payload">.*?</td>', re.S)


class _VisibleText(HTMLParser):
    """The text a reader sees (titles, placeholders and labels for assistive technology
    included), outside code, scripts and styles."""

    HIDDEN = {"script", "style", "code", "pre", "textarea"}

    def __init__(self, language: str = "zh_CN"):
        super().__init__()
        self.text, self.hidden, self.code = [], 0, CODE[language]

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.hidden += tag in self.HIDDEN
        self.text += [a[k] for k in ("title", "placeholder", "aria-label") if a.get(k)]

    def handle_endtag(self, tag):
        self.hidden -= tag in self.HIDDEN and self.hidden > 0

    def handle_data(self, data):
        if not self.hidden:
            self.text.append(data)

    def codes(self) -> set[str]:
        return {m.group(0) for chunk in self.text for m in self.code.finditer(chunk)}


def _codes_on_pages(client, language: str, limit: int = 120) -> dict[str, set[str]]:
    """Pages reachable from the home page with the codes they show."""
    names = set(db.session.scalars(select(User.username)))
    found = {}
    for path, html in pages(client, limit):
        parser = _VisibleText(language)
        parser.feed(RAW.sub("", html))
        if parser.codes() - names:
            found[path] = parser.codes() - names
    return found


@pytest.mark.parametrize("language", ["zh_CN", "en"])
@pytest.mark.parametrize("account", ACCOUNTS)
def test_no_page_a_demo_account_reaches_shows_a_stored_code(client, auth, account, language):
    seed_demo(PASSWORD)
    auth.login(account, PASSWORD)
    client.get(f"/language/{language}")
    assert _codes_on_pages(client, language) == {}


def test_the_check_finds_a_code_outside_code_markup():
    parser = _VisibleText()
    parser.feed('<p>原因：no_check_out</p><p title="None">x</p><code>hours_ledger</code><script>a_b=1</script>')
    assert parser.codes() == {"no_check_out", "None"}
