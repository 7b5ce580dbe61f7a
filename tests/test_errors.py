"""An exception nothing handles: a 500 that saves nothing, logged with its traceback under a
request id that the page or the JSON answer shows."""
from __future__ import annotations

import logging
import re

import pytest


class Broken(Exception):
    """What a bug in a view raises."""


@pytest.fixture
def broken_app(app):
    """The app with one extra route that fails the way a bug would."""
    def fail():
        raise Broken("a bug")
    app.add_url_rule("/broken", "broken", fail)
    app.add_url_rule("/api/broken", "api_broken", fail)
    return app


def _logged_ids(caplog) -> list[str]:
    return [m.group(1) for record in caplog.records
            if record.exc_info and isinstance(record.exc_info[1], Broken)
            for m in [re.search(r"request id (\w+)", record.getMessage())] if m]


def test_unexpected_error_on_a_page_is_logged_with_the_id_the_page_shows(broken_app, caplog):
    caplog.set_level(logging.ERROR)
    response = broken_app.test_client().get("/broken")
    assert response.status_code == 500
    ids = _logged_ids(caplog)
    assert len(ids) == 1 and ids[0] in response.get_data(as_text=True)


def test_unexpected_error_in_the_api_is_logged_with_the_id_the_json_gives(broken_app, caplog):
    caplog.set_level(logging.ERROR)
    response = broken_app.test_client().get("/api/broken")
    assert response.status_code == 500
    assert _logged_ids(caplog) == [response.get_json()["request_id"]]
