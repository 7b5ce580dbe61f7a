"""Concurrent writers over real HTTP: the same new activity from many requests at once, and
the same statement id twice at once, give 200 or 409, never a 500."""

from __future__ import annotations

import http.client
import json
import threading
import uuid
from urllib.parse import urlparse

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


def test_same_statement_id_at_once_is_never_a_server_error(live_lrs, headers):
    body = statement(id=str(uuid.uuid4()))
    statuses = _post_all(live_lrs, headers, [body] * 4)
    assert set(statuses) <= {200, 409} and 200 in statuses
