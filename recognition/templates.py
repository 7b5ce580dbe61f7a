"""Face templates encrypted at rest with AES-256-GCM, with a key id so keys can rotate.

Token layout (bytes): ``b"STFT1"`` · key id length (1 byte) · key id (ASCII) · 12-byte nonce ·
ciphertext and 16-byte tag. The plaintext is a small JSON header (encoder, dimension, capture
count) followed by the float32 vector. The magic, version and key id are authenticated as
associated data, so changing any of them makes decryption fail. A fresh random nonce per
encryption is safe far beyond the number of templates one system holds.

Keys come from configuration, for example ``SKILLTRACE_TEMPLATE_KEYS="2025a:<base64 of 32 bytes>,
2024b:<...>"`` with ``SKILLTRACE_TEMPLATE_KEY_ID=2025a``; ``parse_keys`` reads that format.
To rotate: add a key, make it current, re-encrypt with ``TemplateCipher.rotate`` (tokens of old
keys keep decrypting while their key is listed), then drop the old key.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
from collections.abc import Mapping

import numpy as np
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from .errors import TemplateError
from .types import Template

__all__ = ["TemplateCipher", "generate_key", "parse_keys"]

_MAGIC = b"STFT1"
_KEY_ID = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


def generate_key() -> str:
    """A new random 256-bit key, base64-encoded for configuration."""
    return base64.b64encode(AESGCM.generate_key(bit_length=256)).decode("ascii")


def parse_keys(spec: str) -> dict[str, bytes]:
    """Parse ``"id1:base64key,id2:base64key"`` into ``{key_id: 32-byte key}``.

    Raises:
        ValueError: malformed entry, bad key id, key not 32 bytes, or a repeated id.
    """
    keys: dict[str, bytes] = {}
    for part in filter(None, (p.strip() for p in spec.split(","))):
        key_id, sep, encoded = part.partition(":")
        if not sep or not _KEY_ID.match(key_id):
            raise ValueError(f"bad template key entry {key_id!r}: expected id:base64key")
        try:
            key = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            raise ValueError(f"template key {key_id!r} is not base64") from None
        if len(key) != 32:
            raise ValueError(f"template key {key_id!r} must be 32 bytes, got {len(key)}")
        if key_id in keys:
            raise ValueError(f"template key id {key_id!r} repeated")
        keys[key_id] = key
    return keys


class TemplateCipher:
    """Encrypts templates with the current key and decrypts with any listed key.

    Args:
        keys: ``{key_id: 32-byte key}``, e.g. from ``parse_keys``.
        current_key_id: the id new tokens are written with.
    """

    def __init__(self, keys: Mapping[str, bytes], current_key_id: str) -> None:
        if current_key_id not in keys:
            raise ValueError(f"current key id {current_key_id!r} is not among the keys")
        for key_id, key in keys.items():
            if not _KEY_ID.match(key_id) or len(key) != 32:
                raise ValueError(f"template key {key_id!r}: bad id or not 32 bytes")
        self._keys = {k: AESGCM(v) for k, v in keys.items()}
        self.current_key_id = current_key_id

    @staticmethod
    def key_id_of(token: bytes) -> str:
        """The key id a token was written with (to find tokens needing rotation)."""
        if len(token) < len(_MAGIC) + 2 or not token.startswith(_MAGIC):
            raise TemplateError("not a template token")
        n = token[len(_MAGIC)]
        key_id = token[len(_MAGIC) + 1 : len(_MAGIC) + 1 + n]
        try:
            return key_id.decode("ascii")
        except UnicodeDecodeError:
            raise TemplateError("bad key id in token") from None

    def encrypt(self, template: Template) -> bytes:
        """Encrypt a template with the current key; returns the token (about 560 bytes)."""
        vector = np.asarray(template.vector, dtype="<f4")
        header = json.dumps({"encoder": template.encoder, "dim": int(vector.size), "captures": template.captures}).encode()
        plaintext = len(header).to_bytes(2, "big") + header + vector.tobytes()
        kid = self.current_key_id.encode("ascii")
        prefix = _MAGIC + bytes([len(kid)]) + kid
        nonce = os.urandom(12)
        return prefix + nonce + self._keys[self.current_key_id].encrypt(nonce, plaintext, prefix)

    def decrypt(self, token: bytes, *, expected_encoder: str | None = None) -> Template:
        """Decrypt a token.

        Args:
            token: from ``encrypt``.
            expected_encoder: if given, refuse a template made by another encoder.

        Raises:
            TemplateError: unknown key id, wrong key, tampered or truncated token, or another
                encoder than ``expected_encoder``.
        """
        key_id = self.key_id_of(token)
        cipher = self._keys.get(key_id)
        if cipher is None:
            raise TemplateError(f"unknown template key id {key_id!r}")
        start = len(_MAGIC) + 1 + len(key_id)
        nonce, body = token[start : start + 12], token[start + 12 :]
        if len(nonce) != 12:
            raise TemplateError("truncated template token")
        try:
            plaintext = cipher.decrypt(nonce, body, token[:start])
        except InvalidTag:
            raise TemplateError("template cannot be decrypted: wrong key or altered token") from None
        n = int.from_bytes(plaintext[:2], "big")
        header = json.loads(plaintext[2 : 2 + n])
        vector = np.frombuffer(plaintext[2 + n :], dtype="<f4").astype(np.float32)
        if vector.size != header["dim"]:
            raise TemplateError("template vector has the wrong length")
        if expected_encoder is not None and header["encoder"] != expected_encoder:
            raise TemplateError(f"template made by {header['encoder']}, expected {expected_encoder}")
        return Template(vector, header["encoder"], int(header["captures"]))

    def rotate(self, token: bytes) -> bytes:
        """Re-encrypt a token under the current key (a no-op re-encryption if it already is)."""
        return self.encrypt(self.decrypt(token))
