"""Check-ins per second through the real endpoint, for scripts/bench_hours.py.

gunicorn (2 sync workers, as deployed) serves SkillTrace on the benchmark's database. Trainees
with a face enrolled from ``../shared/faces/talking_head.mp4`` each sign in with their own HTTP
client, which loops: a server-paced conversation answered by the live responder (real frames
of each prompted action) → ``POST /api/attendance/check-in`` → the same → check-out. Every call
goes through the whole pipeline (decoding, detection, the paced actions, 1:1 match, the write
transaction with its statements and audit entries). The same run measures 1 client (the naive, serial way) and 4 concurrent clients.

gunicorn imports this module as ``bench_checkins:server_app()`` (from scripts/), with the
database and instance folder in BENCH_DATABASE_URL and BENCH_INSTANCE_PATH.
"""
from __future__ import annotations

import http.client
import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app import create_app  # noqa: E402

CSRF = re.compile(r'(?:name="csrf_token"[^>]*value|data-csrf)="([^"]+)"')


def server_app():
    """The app gunicorn serves: the benchmark's database, no check-in rate limit."""
    return create_app({"SKILLTRACE_ENV": "testing", "INSTANCE_PATH": os.environ["BENCH_INSTANCE_PATH"],
                       "SQLALCHEMY_DATABASE_URI": os.environ["BENCH_DATABASE_URL"],
                       "CHECK_IN_RATE_LIMIT": "100000 per minute"})


def seed_trainees(count: int) -> list[str]:
    """``count`` trainees with accounts, consent and a face, in a class running now (app context)."""
    from app.models import Role
    from tests.attendance_helpers import ENROL_FRAMES, running_class, talking_head, trainee_with_face
    from tests.factories import make_user

    admin, instructor = make_user(Role.ADMIN, "bench-admin"), make_user(Role.INSTRUCTOR, "bench-instructor")
    names = [f"bench-trainee-{i}" for i in range(count)]
    # enrolled from slightly different frames each, so no two templates are identical
    trainees = [trainee_with_face(admin, name, frames=[talking_head()[j + i] for j in ENROL_FRAMES])[1]
                for i, name in enumerate(names)]
    running_class(admin, instructor, trainees, minutes=600)
    return names


class Server:
    """gunicorn -w 2 on a free loopback port, serving `server_app()`."""

    def __init__(self, database_url: str, instance_path: str) -> None:
        env = {**os.environ, "BENCH_DATABASE_URL": database_url, "BENCH_INSTANCE_PATH": instance_path,
               "PYTHONPATH": str(ROOT)}
        self.port = _free_port()
        self.process = subprocess.Popen(
            [str(Path(sys.executable).parent / "gunicorn"), "-w", "2", "-b", f"127.0.0.1:{self.port}",
             "--timeout", "300", "--chdir", str(ROOT / "scripts"), "bench_checkins:server_app()"],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(300):
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200:
                    return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError("gunicorn did not start")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(30)


def _free_port() -> int:
    import socket
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Client:
    """One signed-in trainee checking in and out through the JSON API."""

    def __init__(self, base: str, username: str, password: str) -> None:
        self.base, self.http = base, requests.Session()
        page = self.http.get(f"{base}/login")
        self.http.post(f"{base}/login", data={"username": username, "password": password,
                                              "csrf_token": CSRF.search(page.text).group(1)})
        page = self.http.get(f"{base}/me/attendance")
        self.token = CSRF.search(page.text).group(1)

    def check(self, purpose: str) -> bool:
        """One server-paced check: start the conversation, stream the live responder's frames
        (tests.attendance_helpers.respond), then ask for the check with the nonce."""
        from tests.attendance_helpers import respond
        headers = {"X-CSRFToken": self.token}
        started = self.http.post(f"{self.base}/api/attendance/conversation", json={"purpose": purpose},
                                 headers=headers)
        if started.status_code != 201:
            return False
        nonce = started.json()["nonce"]

        def send(frame: bytes) -> dict:
            return self.http.post(f"{self.base}/api/attendance/conversation/{nonce}/frame", headers=headers,
                                  files={"frame": ("f.jpg", frame, "image/jpeg")}).json()

        respond(send)
        answer = self.http.post(f"{self.base}/api/attendance/{purpose.replace('_', '-')}",
                                data={"nonce": nonce}, headers=headers)
        return answer.status_code == 200

    def cycles(self, count: int, results: list) -> None:
        for _ in range(count):
            results.append(self.check("check_in"))
            results.append(self.check("check_out"))


def run_clients(clients: list[Client], cycles: int) -> tuple[float, int, int]:
    """Each client does ``cycles`` check-in/check-out pairs at once; (seconds, accepted, checks)."""
    results: list = []
    threads = [threading.Thread(target=c.cycles, args=(cycles, results)) for c in clients]
    clock = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - clock, sum(results), len(results)


def measure(database_url: str, instance_path: str, password: str, echo, cycles: int = 10) -> None:
    """Seed 4 trainees, start gunicorn, and print checks per second for 1 and 4 clients."""
    from tests.attendance_helpers import talking_head

    names = seed_trainees(4)
    talking_head()  # decode the video once, before any clock starts
    server = Server(database_url, instance_path)
    try:
        clients = [Client(server.url, name, password) for name in names]
        run_clients(clients[:2], 1)  # warm-up: each worker loads the face models once
        for group in (clients[:1], clients):
            took, accepted, checks = run_clients(group, cycles)
            echo(f"check-ins through gunicorn -w 2, {len(group)} client(s): {checks} face checks "
                 f"({checks // 2} check-ins + {checks // 2} check-outs, {accepted} accepted) in {took:.1f} s "
                 f"= {checks / took:.2f} checks/s, {checks / 2 / took:.2f} check-ins/s")
    finally:
        server.stop()
