"""Every page a demo account reaches says stored codes in words: no snake_case code
(`no_check_out`, `hours_ledger`) and no Python or JSON literal (`None`, `True`, `null`) and no
internal name (the audit actor `system`, the liveness action `blink`) in the visible text. Code shown on purpose is marked up as such (<code>, <pre>) and the audit log's
raw record column (`td.payload`) shows the record as stored; user names are names."""
import re
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import User
from app.services.demo import seed_demo
from tests.factories import PASSWORD
from tests.web.test_form_labels import ACCOUNTS, SKIP

CODE = re.compile(r"\b(?:[a-z]+_[a-z_]+|None|True|False|null|system|blink)\b")
RAW = re.compile(r'<td class="payload">.*?</td>', re.S)


class _VisibleText(HTMLParser):
    """Links, and the text a reader sees (titles, placeholders and labels for assistive
    technology included), outside code, scripts and styles."""

    HIDDEN = {"script", "style", "code", "pre", "textarea"}

    def __init__(self):
        super().__init__()
        self.links, self.text, self.hidden = [], [], 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
        self.hidden += tag in self.HIDDEN
        self.text += [a[k] for k in ("title", "placeholder", "aria-label") if a.get(k)]

    def handle_endtag(self, tag):
        self.hidden -= tag in self.HIDDEN and self.hidden > 0

    def handle_data(self, data):
        if not self.hidden:
            self.text.append(data)

    def codes(self) -> set[str]:
        return {m.group(0) for chunk in self.text for m in CODE.finditer(chunk)}


def _codes_on_pages(client, limit: int = 120) -> dict[str, set[str]]:
    """Pages reachable from the home page by links (same site, GET) with the codes they show."""
    names = set(db.session.scalars(select(User.username)))
    seen, queue, found = set(), ["/"], {}
    while queue and len(seen) < limit:
        path = queue.pop(0)
        if path in seen:
            continue
        seen.add(path)
        response = client.get(path)
        if response.status_code != 200 or "text/html" not in response.content_type:
            continue
        parser = _VisibleText()
        parser.feed(RAW.sub("", response.text))
        if parser.codes() - names:
            found[path] = parser.codes() - names
        for href in parser.links:
            target = urlsplit(urljoin(path, href))
            if not target.netloc and target.scheme in ("", "http") and not any(s in target.path for s in SKIP):
                queue.append(target.path + (f"?{target.query}" if target.query else ""))
    assert len(seen) > 5, "the crawl reached almost nothing"
    return found


@pytest.mark.parametrize("account", ACCOUNTS)
def test_no_page_a_demo_account_reaches_shows_a_stored_code(client, auth, account):
    seed_demo(PASSWORD)
    auth.login(account, PASSWORD)
    assert _codes_on_pages(client) == {}


def test_the_check_finds_a_code_outside_code_markup():
    parser = _VisibleText()
    parser.feed('<p>原因：no_check_out</p><p title="None">x</p><code>hours_ledger</code><script>a_b=1</script>')
    assert parser.codes() == {"no_check_out", "None"}
