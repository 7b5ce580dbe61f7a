"""The simulated clients of scripts/load_test.py: trainees checking in and out with real face
frames, xAPI clients posting statements, and the latency/ack book-keeping they share."""
from __future__ import annotations

import re
import threading
import time
import uuid
from collections import defaultdict

import requests

CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
TIMEOUT = 120


class Book:
    """Latencies and outcomes per endpoint, and what the server acknowledged (thread-safe)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.latency: dict[str, list[float]] = defaultdict(list)
        self.errors: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        self.acked_check_ins: list[dict] = []
        self.acked_check_outs: list[dict] = []
        self.acked_statements: list[str] = []

    def call(self, label: str, send):
        """Run ``send()``, time it, count a non-2xx answer or a failed connection as an error."""
        started = time.perf_counter()
        try:
            response = send()
        except requests.RequestException as exc:
            with self.lock:
                self.latency[label].append(time.perf_counter() - started)
                self.errors[label][type(exc).__name__] += 1
            return None
        with self.lock:
            self.latency[label].append(time.perf_counter() - started)
            if response.status_code >= 300:
                self.errors[label][str(response.status_code)] += 1
        return response


def _token(html: str) -> str:
    match = CSRF.search(html)
    if not match:
        raise RuntimeError("no CSRF token on the page")
    return match.group(1)


class Trainee:
    """One trainee's browser: signs in, then a paced check-in, then a paced check-out."""

    def __init__(self, base: str, username: str, password: str, book: Book):
        self.base, self.username, self.password = base, username, password
        self.book = book
        self.http, self.token = requests.Session(), ""

    def sign_in(self) -> bool:
        try:
            page = self.http.get(f"{self.base}/login", timeout=TIMEOUT)
            self.book.call("POST /login", lambda: self.http.post(f"{self.base}/login", timeout=TIMEOUT, data={
                "username": self.username, "password": self.password, "csrf_token": _token(page.text)}))
            self.token = _token(self.http.get(f"{self.base}/", timeout=TIMEOUT).text)
            return True
        except (requests.RequestException, RuntimeError):
            return False

    def check(self, purpose: str) -> None:
        """One server-paced check: the conversation answered by the live responder
        (tests.attendance_helpers.respond), then the check with its nonce."""
        from tests.attendance_helpers import respond
        path, headers = purpose.replace("_", "-"), {"X-CSRFToken": self.token}
        response = self.book.call("POST /api/attendance/conversation", lambda: self.http.post(
            f"{self.base}/api/attendance/conversation", json={"purpose": purpose}, headers=headers, timeout=TIMEOUT))
        if response is None or response.status_code != 201:
            time.sleep(0.5)  # the server or the database is down (fault mode): do not spin
            return
        nonce = response.json()["nonce"]

        def send(frame: bytes) -> dict:
            answer = self.book.call("POST /api/attendance/conversation/<nonce>/frame", lambda: self.http.post(
                f"{self.base}/api/attendance/conversation/{nonce}/frame", headers=headers, timeout=TIMEOUT,
                files={"frame": ("f.jpg", frame, "image/jpeg")}))
            return answer.json() if answer is not None and answer.status_code == 200 else {"phase": "failed"}

        respond(send)
        response = self.book.call(f"POST /api/attendance/{path}", lambda: self.http.post(
            f"{self.base}/api/attendance/{path}", data={"nonce": nonce}, headers=headers, timeout=TIMEOUT))
        if response is not None and response.status_code == 200 and response.json().get("accepted"):
            ack = {"user": self.username, **response.json()}
            with self.book.lock:
                (self.book.acked_check_ins if purpose == "check_in" else self.book.acked_check_outs).append(ack)

    def run(self, deadline: float) -> None:
        while not self.token and time.monotonic() < deadline and not self.sign_in():
            time.sleep(1)
        while time.monotonic() < deadline:
            self.check("check_in")
            if time.monotonic() < deadline:
                self.check("check_out")


class XapiClient:
    """Posts batches of statements with ids of its own, as content would."""

    def __init__(self, base: str, auth: tuple[str, str], book: Book, batch: int = 10):
        self.base, self.book, self.batch = base, book, batch
        self.http = requests.Session()
        self.http.auth = auth
        self.http.headers["X-Experience-API-Version"] = "1.0.3"

    def statements(self) -> list[dict]:
        return [{"id": str(uuid.uuid4()),
                 "actor": {"objectType": "Agent", "mbox": f"mailto:load{uuid.uuid4().hex[:6]}@example.com"},
                 "verb": {"id": "http://adlnet.gov/expapi/verbs/experienced", "display": {"en-US": "experienced"}},
                 "object": {"id": "http://example.com/activities/load-test"}} for _ in range(self.batch)]

    def run(self, deadline: float) -> None:
        while time.monotonic() < deadline:
            batch = self.statements()
            response = self.book.call("POST /xapi/statements", lambda: self.http.post(
                f"{self.base}/xapi/statements", json=batch, timeout=TIMEOUT))
            if response is not None and response.status_code == 200:
                with self.book.lock:
                    self.book.acked_statements.extend(s["id"] for s in batch)
            elif response is None or response.status_code >= 500:
                time.sleep(0.5)  # the server or the database is down (fault mode): do not spin


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")
