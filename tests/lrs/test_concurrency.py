"""Concurrent writers over real HTTP: the same new activity from many requests at once, the
same statements from many clients at once (all succeed), the same id with other content (one
wins, the rest 409), and a reader polling with Consistent-Through while writers post."""

from __future__ import annotations

import http.client
import json
import threading
import uuid
from urllib.parse import quote, urlparse

from tests.lrs.factories import statement


def _post_all(base: str, headers: dict, bodies: list) -> list[int]:
    address = urlparse(base)
    statuses: list[int] = []
    barrier = threading.Barrier(len(bodies))

    def send(body) -> None:
        conn = http.client.HTTPConnection(address.hostname, address.port, timeout=60)
        barrier.wait()
        conn.request("POST", "/xapi/statements", body=json.dumps(body),
                     headers={**headers, "Content-Type": "application/json"})
        statuses.append(conn.getresponse().status)
        conn.close()

    threads = [threading.Thread(target=send, args=(body,)) for body in bodies]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


def test_same_new_activity_from_concurrent_requests(live_lrs, headers):
    activity = {"id": f"http://example.com/activities/{uuid.uuid4()}",
                "definition": {"name": {"en-US": "New"}}}
    statuses = _post_all(live_lrs, headers, [statement(object=activity) for _ in range(6)])
    assert statuses == [200] * 6


def test_same_statement_posted_at_once_is_200_for_every_client(live_lrs, headers):
    """A retry of a write still in flight is no conflict: 409 is for other content only."""
    for _ in range(3):
        body = [statement(id=str(uuid.uuid4())) for _ in range(3)]
        assert _post_all(live_lrs, headers, [body] * 8) == [200] * 8


def test_same_statement_put_at_once_is_204_for_every_client(live_lrs, headers):
    address = urlparse(live_lrs)
    for _ in range(3):
        ident = str(uuid.uuid4())
        statuses: list[int] = []
        barrier = threading.Barrier(8)

        def put() -> None:
            conn = http.client.HTTPConnection(address.hostname, address.port, timeout=60)
            barrier.wait()
            conn.request("PUT", f"/xapi/statements?statementId={ident}",
                         body=json.dumps(statement()),
                         headers={**headers, "Content-Type": "application/json"})
            statuses.append(conn.getresponse().status)
            conn.close()

        threads = [threading.Thread(target=put) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert statuses == [204] * 8


def test_same_id_with_other_content_at_once_is_one_200_and_409s(live_lrs, headers):
    ident = str(uuid.uuid4())
    bodies = [statement(id=ident, result={"score": {"raw": n}}) for n in range(4)]
    statuses = _post_all(live_lrs, headers, bodies)
    assert sorted(statuses) == [200, 409, 409, 409]


def _get(base: str, headers: dict, path: str) -> tuple[dict, str]:
    address = urlparse(base)
    conn = http.client.HTTPConnection(address.hostname, address.port, timeout=60)
    conn.request("GET", path, headers=headers)
    response = conn.getresponse()
    body = json.loads(response.read())
    assert response.status == 200, body
    through = response.getheader("X-Experience-API-Consistent-Through")
    conn.close()
    return body, through


def _poll_once(base: str, headers: dict, since: str | None, seen: set) -> str:
    """Read every statement stored after `since` (all pages); return the Consistent-Through
    of the first page, the `since` of the next poll."""
    path = "/xapi/statements?ascending=true" + (f"&since={quote(since)}" if since else "")
    body, through = _get(base, headers, path)
    seen.update(s["id"] for s in body["statements"])
    while body["more"]:
        body, _ = _get(base, headers, body["more"])
        seen.update(s["id"] for s in body["statements"])
    return through


def test_reader_polling_with_consistent_through_misses_nothing(live_lrs, headers):
    """A reader that polls with since=<the previous Consistent-Through>, as the spec intends,
    while four writers post batches, sees every statement written."""
    written: list[str] = []
    address = urlparse(live_lrs)

    def write() -> None:
        conn = http.client.HTTPConnection(address.hostname, address.port, timeout=60)
        for _ in range(8):
            batch = [statement(id=str(uuid.uuid4())) for _ in range(40)]
            conn.request("POST", "/xapi/statements", body=json.dumps(batch),
                         headers={**headers, "Content-Type": "application/json"})
            response = conn.getresponse()
            response.read()
            assert response.status == 200
            written.extend(s["id"] for s in batch)
        conn.close()

    seen: set[str] = set()
    writers = [threading.Thread(target=write) for _ in range(4)]
    for thread in writers:
        thread.start()
    since = None
    while any(thread.is_alive() for thread in writers):
        since = _poll_once(live_lrs, headers, since, seen)
    for thread in writers:
        thread.join()
    _poll_once(live_lrs, headers, since, seen)
    assert len(written) == 4 * 8 * 40
    assert set(written) - seen == set()
