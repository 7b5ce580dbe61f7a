"""The pages a signed-in demo account reaches from the home page by links (same site, GET),
for the checks that read every page (labels, words)."""
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

#: Links not to follow: they sign out, switch language, download or act on a GET.
SKIP = ("/logout", "/language/", "/static/", ".pdf", ".xlsx", ".csv", ".json", "/evidence/", "/api/")
ACCOUNTS = ("admin", "reviewer", "auditor", "instructor", "trainee")


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links = []

    def handle_starttag(self, tag, attrs):
        href = dict(attrs).get("href")
        if tag == "a" and href:
            self.links.append(href)


def pages(client, limit: int):
    """(path, HTML) of each page reached, breadth first, at most ``limit`` paths visited; fails
    when the crawl reaches almost nothing (a broken sign-in would pass every check vacuously)."""
    seen, queue = set(), ["/"]
    while queue and len(seen) < limit:
        path = queue.pop(0)
        if path in seen:
            continue
        seen.add(path)
        response = client.get(path)
        if response.status_code != 200 or "text/html" not in response.content_type:
            continue
        yield path, response.text
        links = _Links()
        links.feed(response.text)
        for href in links.links:
            target = urlsplit(urljoin(path, href))
            if not target.netloc and target.scheme in ("", "http") and not any(s in target.path for s in SKIP):
                queue.append(target.path + (f"?{target.query}" if target.query else ""))
    assert len(seen) > 5, "the crawl reached almost nothing"
