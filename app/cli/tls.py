"""`flask tls local-cert`: a self-signed certificate for serving `make run` over HTTPS on a LAN.

Browsers open the camera only in a secure context (HTTPS, or http://localhost), so a phone on the
LAN needs HTTPS even for a trial. The certificate names localhost, this host and its LAN
addresses; it lives in instance/tls/ (never committed) and each browser must accept it once.
Production uses a real certificate at its TLS proxy instead.
"""
from __future__ import annotations

import ipaddress
import os
import socket
from datetime import datetime, timedelta, timezone
from pathlib import Path

import click
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from flask import current_app
from flask.cli import AppGroup

tls_cli = AppGroup("tls", help="HTTPS for a local trial.")
VALID_DAYS = 365


def lan_addresses() -> list[str]:
    """This host's addresses a phone on the LAN could use (the route's source address; no packet
    is sent), plus the loopback address."""
    found = {"127.0.0.1"}
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(("192.0.2.1", 9))  # TEST-NET-1: only picks the outgoing interface
            found.add(probe.getsockname()[0])
    except OSError:
        pass
    return sorted(found)


def write_local_certificate(folder: Path, addresses: list[str]) -> tuple[Path, Path]:
    """A fresh EC P-256 key and a self-signed certificate for localhost, this host's name and
    ``addresses``, written to ``folder`` (key mode 0600)."""
    folder.mkdir(parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    names = [x509.DNSName("localhost"), x509.DNSName(socket.gethostname())]
    names += [x509.IPAddress(ipaddress.ip_address(a)) for a in addresses]
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "SkillTrace local trial")])
    now = datetime.now(timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + timedelta(days=VALID_DAYS))
            .add_extension(x509.SubjectAlternativeName(names), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .sign(key, hashes.SHA256()))
    key_path, cert_path = folder / "key.pem", folder / "cert.pem"
    fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                   serialization.NoEncryption()))
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return cert_path, key_path


def _still_good(cert_path: Path, addresses: list[str]) -> bool:
    if not cert_path.exists():
        return False
    cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    named = {str(ip) for ip in cert.extensions.get_extension_for_class(
        x509.SubjectAlternativeName).value.get_values_for_type(x509.IPAddress)}
    fresh = cert.not_valid_after_utc > datetime.now(timezone.utc) + timedelta(days=7)
    return fresh and set(addresses) <= named


@tls_cli.command("local-cert")
@click.option("--port", default=5000, show_default=True, help="Port printed in the addresses.")
def local_cert(port: int) -> None:
    """Write instance/tls/cert.pem and key.pem (kept while valid and naming this host's addresses)."""
    folder = Path(current_app.instance_path) / "tls"
    addresses = lan_addresses()
    if not _still_good(folder / "cert.pem", addresses):
        write_local_certificate(folder, addresses)
        click.echo(f"wrote a self-signed certificate to {folder}")
    click.echo("open on this computer or a phone on the same network (accept the certificate once):")
    for address in ["localhost", *addresses]:
        click.echo(f"  https://{address}:{port}/")
