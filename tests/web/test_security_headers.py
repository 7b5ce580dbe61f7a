"""Every response carries the security headers, pages and JSON alike."""
import pytest

from app.security import HEADERS


@pytest.mark.parametrize("path", ["/login", "/healthz", "/no-such-page", "/api/trainees"])
def test_security_headers(client, path):
    response = client.get(path)
    for name, value in HEADERS.items():
        assert response.headers.get(name) == value, name
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
