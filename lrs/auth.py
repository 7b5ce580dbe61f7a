"""Credentials: key/secret generation, secret hashing (argon2), HTTP Basic parsing, xAPI
scopes, and the authority Agent a credential stamps on the statements it stores."""

from __future__ import annotations

import base64
import binascii
import hashlib
import secrets
import threading
import time
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from lrs.exceptions import ForbiddenError, UnauthorizedError

SCOPES = ("statements/write", "statements/read", "statements/read/mine", "state", "define",
          "profile", "all/read", "all")
_CACHE_SECONDS = 60.0


@dataclass(frozen=True)
class Principal:
    """The authenticated client of one request."""

    credential_id: object
    key: str
    name: str
    scopes: frozenset[str]

    def authority(self, home_page: str) -> dict:
        """The Agent that becomes `authority` of what this client stores."""
        return {"objectType": "Agent", "name": self.name,
                "account": {"homePage": home_page, "name": self.key}}

    def require(self, *accepted: str) -> None:
        """Raise 403 unless one of `accepted` (or `all`) is among the scopes."""
        if "all" in self.scopes or self.scopes.intersection(accepted):
            return
        raise ForbiddenError(f"credential lacks scope {' or '.join(accepted)}")

    @property
    def reads_only_own(self) -> bool:
        """True when the client may read only the statements it stored."""
        return not self.scopes.intersection({"all", "all/read", "statements/read"})


def new_key_pair() -> tuple[str, str]:
    """A fresh (key, secret), both URL-safe and unguessable."""
    return secrets.token_hex(16), secrets.token_urlsafe(32)


def check_scopes(scopes: list[str]) -> list[str]:
    """Return `scopes` if each is an xAPI scope, else raise ValueError naming the bad one."""
    for scope in scopes:
        if scope not in SCOPES:
            raise ValueError(f"unknown scope {scope!r}; choose from {', '.join(SCOPES)}")
    return scopes


def parse_basic(header: str | None) -> tuple[str, str]:
    """Split an HTTP Basic Authorization header into (key, secret); 401 when unusable."""
    if not header or not header.lower().startswith("basic "):
        raise UnauthorizedError("HTTP Basic credentials are required")
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise UnauthorizedError("malformed Basic credentials") from exc
    key, sep, secret = decoded.partition(":")
    if not sep:
        raise UnauthorizedError("malformed Basic credentials")
    return key, secret


class SecretHasher:
    """Hashes secrets with argon2id and verifies them, remembering recent successes.

    argon2 costs tens of milliseconds by design; a busy client would pay that per request,
    so a success is remembered for a minute (per process, as a SHA-256 of hash and secret).
    `time_cost` and `memory_cost` (KiB) are argon2's; tests lower them.
    """

    def __init__(self, time_cost: int = 3, memory_cost: int = 65536) -> None:
        self._hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_cost)
        self._seen: dict[str, float] = {}
        self._lock = threading.Lock()

    def hash(self, secret: str) -> str:
        """The argon2id hash stored in place of a secret."""
        return self._hasher.hash(secret)

    def verify(self, secret_hash: str, secret: str) -> bool:
        """True when `secret` matches `secret_hash`."""
        token = hashlib.sha256(f"{secret_hash}\0{secret}".encode()).hexdigest()
        now = time.monotonic()
        with self._lock:
            if self._seen.get(token, 0.0) > now:
                return True
        try:
            self._hasher.verify(secret_hash, secret)
        except (VerificationError, InvalidHashError):
            return False
        with self._lock:
            if len(self._seen) > 10_000:
                self._seen.clear()
            self._seen[token] = now + _CACHE_SECONDS
        return True


class CredentialCache:
    """Per-process memory of recently authenticated credentials, keyed by a keyed BLAKE2
    digest of key and secret (never the secret itself).

    A hit spares the credential lookup (a database round trip and transaction) for `ttl`
    seconds: a revocation reaches this process at once (`forget`) and other processes within
    `ttl`. It also remembers the xAPI version each credential last declared, so that a request
    of that client without a version header is answered in its version.
    """

    def __init__(self, ttl: float = 5.0, size: int = 10_000) -> None:
        self.ttl = ttl
        self._size = size
        self._salt = secrets.token_bytes(32)
        self._principals: dict[bytes, tuple[Principal, float]] = {}
        self._versions: dict[bytes, str] = {}
        self._lock = threading.Lock()

    def _token(self, key: str, secret: str) -> bytes:
        return hashlib.blake2b(f"{key}\0{secret}".encode(), key=self._salt).digest()

    def get(self, key: str, secret: str) -> Principal | None:
        """The cached principal for this pair, if verified less than `ttl` seconds ago."""
        with self._lock:
            found = self._principals.get(self._token(key, secret))
        if found is None or found[1] <= time.monotonic():
            return None
        return found[0]

    def put(self, key: str, secret: str, principal: Principal) -> None:
        """Remember a pair just verified against the database."""
        if self.ttl <= 0:
            return
        with self._lock:
            if len(self._principals) >= self._size:
                self._principals.clear()
            self._principals[self._token(key, secret)] = (principal, time.monotonic() + self.ttl)

    def forget(self, key: str) -> None:
        """Drop every cached principal of `key` (after a revocation)."""
        with self._lock:
            for token in [t for t, (p, _) in self._principals.items() if p.key == key]:
                del self._principals[token]

    def remember_version(self, key: str, secret: str, version: str) -> None:
        """Note the version an authenticated client declared."""
        token = self._token(key, secret)
        with self._lock:
            if self._versions.get(token) != version:
                if len(self._versions) >= self._size:
                    self._versions.clear()
                self._versions[token] = version

    def version_of(self, key: str, secret: str) -> str | None:
        """The version this client last declared in this process, if any."""
        with self._lock:
            return self._versions.get(self._token(key, secret))
