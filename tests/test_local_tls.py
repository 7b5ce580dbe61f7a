"""`flask tls local-cert` (behind `HTTPS=1 make run`): a certificate a browser can verify, and the
app served over HTTPS with it."""
import ssl
import stat
import threading
import urllib.request
from pathlib import Path

from cryptography import x509
from werkzeug.serving import make_server


def test_local_cert_is_written_once_and_serves_https(app, runner):
    first = runner.invoke(args=["tls", "local-cert", "--port", "5443"])
    assert first.exit_code == 0, first.output
    assert "wrote a self-signed certificate" in first.output and "https://127.0.0.1:5443/" in first.output
    folder = Path(app.instance_path) / "tls"
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    assert stat.S_IMODE(key_path.stat().st_mode) == 0o600
    cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "localhost" in names.get_values_for_type(x509.DNSName)
    assert "127.0.0.1" in {str(ip) for ip in names.get_values_for_type(x509.IPAddress)}
    before = cert_path.read_bytes()
    again = runner.invoke(args=["tls", "local-cert"])
    assert "wrote" not in again.output and cert_path.read_bytes() == before

    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(cert_path, key_path)
    server = make_server("127.0.0.1", 0, app, ssl_context=server_context)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        client_context = ssl.create_default_context(cafile=str(cert_path))
        with urllib.request.urlopen(f"https://127.0.0.1:{server.port}/healthz",
                                    context=client_context, timeout=30) as answer:
            assert answer.status == 200
    finally:
        server.shutdown()
        thread.join()
