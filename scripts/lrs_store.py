"""The LRS benchmark's store (`scripts/bench_lrs.py`): statements drawn from
scripts/data/lrs_bench.json, and a bulk loader that writes them straight into the tables, row
for row what the LRS writes when the same statements are POSTed by the bench credential (the
statement row, its agent and activity links, and the activity definitions).

The LRS's own code (`lrs.records`) completes the template once, with `{field}` placeholders
where the drawn values, the id and the `stored` time go; each statement is then one text
substitution. The rows go in by COPY on PostgreSQL and a batched executemany on SQLite, a
transaction per chunk. `stored` continues the store's clock (a millisecond apart at least, after
the latest statement already stored), so keys follow `stored` as the LRS keeps them
(`lrs.commands.insert_statements`); tests/lrs/test_bench_store.py checks what this writes
against statements POSTed through the API. Nothing in `app/` or `lrs/` imports this module.
"""

from __future__ import annotations

import json
import random
import re
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Iterable, Iterator

from sqlalchemy import select, text
from sqlalchemy.engine import Engine

from lrs.auth import Principal
from lrs.records import activity_definitions, complete_statement, statement_links
from lrs.storage.tables import Activity, Credential, Statement

INPUTS = json.loads((Path(__file__).resolve().parent / "data" / "lrs_bench.json").read_text())
_FIELD = re.compile(r"\{(agent|verb|activity|parent|registration|id|stored)\}")
# The template as JSON text: one substitution and one parse per statement is several times
# cheaper than walking the template for each of a million.
_TEMPLATE = json.dumps(INPUTS["template"])
_CHUNK = 100_000


def fill(template: str, fields: dict[str, str]) -> str:
    """`template` with each `{field}` replaced by its value in `fields`."""
    return _FIELD.sub(lambda match: fields[match.group(1)], template)


def formatter(template: str) -> str:
    """`template` as a `str.format` pattern (its other braces doubled): `format_map` fills
    a statement's fields in C, several times faster than `fill`."""
    parts = _FIELD.split(template)
    return "".join(part.replace("{", "{{").replace("}", "}}") if index % 2 == 0
                   else "{" + part + "}" for index, part in enumerate(parts))


def draw(rng: random.Random) -> dict[str, str]:
    """The values of one statement: agent, verb, activity, parent, registration and an id."""
    fields = {key: str(rng.randrange(INPUTS[plural])) for key, plural in
              (("agent", "agents"), ("verb", "verbs"), ("activity", "activities"),
               ("parent", "parents"))}
    fields["registration"] = _uuid_text(rng.randrange(INPUTS["registrations"]))
    # version 4, variant RFC 4122, as uuid.uuid4() makes them
    fields["id"] = _uuid_text(rng.getrandbits(128) & ~(0xF000 << 64 | 0xC << 60)
                              | 0x4000 << 64 | 0x8 << 60)
    return fields


def _uuid_text(number: int) -> str:
    """`str(uuid.UUID(int=number))`, without building the object."""
    digits = f"{number:032x}"
    return f"{digits[:8]}-{digits[8:12]}-{digits[12:16]}-{digits[16:20]}-{digits[20:]}"


def make_statement(rng: random.Random) -> dict:
    """One statement as a client sends it (no id): the template with values drawn at random."""
    return json.loads(fill(_TEMPLATE, draw(rng)))


def statement_as_sent(fields: dict[str, str]) -> dict:
    """The statement of `fields` as a client sends it, with its id (last, where the LRS puts
    the id it assigns)."""
    return {**json.loads(fill(_TEMPLATE, fields)), "id": fields["id"]}


class Prototype:
    """What the LRS stores for the template statement, as text with `{field}` placeholders:
    the payload, the agent and activity links, the activity definitions."""

    def __init__(self, authority: dict, version: str = "1.0.3") -> None:
        moment = datetime(2000, 1, 1, tzinfo=timezone.utc)
        completed = complete_statement(INPUTS["template"], moment, authority, version)
        marks = {completed["id"]: "{id}", completed["stored"]: "{stored}"}
        self.payload = formatter(_marked(json.dumps(completed), marks))
        self.verb = formatter(completed["verb"]["id"])
        agents, activities = statement_links(completed)
        self.agents = [(formatter(ifi), direct) for ifi, direct in agents.items()]
        self.activities = [(formatter(iri), direct) for iri, direct in activities.items()]
        self.definitions = [(iri, json.dumps(definition))
                            for iri, definition in activity_definitions(completed)]


def _marked(rendered: str, marks: dict[str, str]) -> str:
    for value, mark in marks.items():
        rendered = rendered.replace(json.dumps(value)[1:-1], mark)
    return rendered


def identity(engine: Engine, key: str, home_page: str) -> tuple[dict, uuid.UUID]:
    """(authority, credential id) that the LRS, its authority homePage set to `home_page`,
    puts on what the credential with the public key `key` stores."""
    with engine.connect() as conn:
        row = conn.execute(select(Credential.id, Credential.name)
                           .where(Credential.key == key)).one()
    principal = Principal(row.id, key, row.name, frozenset())
    return principal.authority(home_page.rstrip("/")), row.id


def _timeline(engine: Engine, count: int, span: timedelta) -> Iterator[datetime]:
    """`count` increasing `stored` times in milliseconds over `span`, after the store's latest
    statement (and from 30 days ago when the store is older or empty)."""
    with engine.connect() as conn:
        latest = conn.execute(select(Statement.stored).order_by(Statement.stored.desc())
                              .limit(1)).scalar()
    start = datetime.now(timezone.utc) - timedelta(days=30)
    if latest is not None and latest >= start:
        start = latest + timedelta(milliseconds=1)
    start = start.replace(microsecond=start.microsecond // 1000 * 1000)
    step = max(span // max(count, 1), timedelta(milliseconds=1))
    step = timedelta(milliseconds=step // timedelta(milliseconds=1))
    return (start + step * index for index in range(count))


class _Rows:
    """The rows of a chunk of statements, per table, in the driver's types."""

    def __init__(self, sqlite: bool) -> None:
        self.sqlite = sqlite
        self.statements: list[tuple] = []
        self.agents: list[tuple] = []
        self.activities: list[tuple] = []

    def key(self, value: str | None) -> str | None:
        """A UUID (as text) as the driver takes it: 32 hex digits on SQLite."""
        return value.replace("-", "") if self.sqlite and value is not None else value

    def add(self, prototype: Prototype, pk: int, fields: dict[str, str], stored: datetime,
            credential: str | None) -> None:
        column = stored.strftime("%Y-%m-%d %H:%M:%S.%f")
        rendered = f"{column[:10]}T{column[11:23]}Z"  # lrs.models.common.format_timestamp
        values = {**fields, "stored": rendered}
        moment = column if self.sqlite else stored
        verb = prototype.verb.format_map(values)
        self.statements.append((
            pk, self.key(fields["id"]), moment, moment, verb, self.key(fields["registration"]),
            False, self.key(credential), prototype.payload.format_map(values)))
        self.agents += [(pk, ifi.format_map(values), direct, verb)
                        for ifi, direct in prototype.agents]
        self.activities += [(pk, iri.format_map(values), direct)
                            for iri, direct in prototype.activities]


_COLUMNS = {
    "lrs_statements": "pk, id, stored, timestamp, verb_iri, registration, is_voided, "
                      "credential_id, payload",
    "lrs_statement_agents": "statement_pk, ifi, direct, verb_iri",
    "lrs_statement_activities": "statement_pk, iri, direct",
}


def _write(engine: Engine, rows: _Rows) -> None:
    """One chunk in one transaction: COPY on PostgreSQL, executemany on SQLite."""
    tables = {"lrs_statements": rows.statements, "lrs_statement_agents": rows.agents,
              "lrs_statement_activities": rows.activities}
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        for table, values in tables.items():
            if rows.sqlite:
                marks = ", ".join("?" * len(values[0]))
                cursor.executemany(f"INSERT INTO {table} ({_COLUMNS[table]}) VALUES ({marks})",
                                   values)
                continue
            with cursor.copy(f"COPY {table} ({_COLUMNS[table]}) FROM STDIN") as copy:
                for row in values:
                    copy.write_row(row)
        raw.commit()
    finally:
        raw.close()


def _save_definitions(engine: Engine, first_seen: dict[str, tuple[str, datetime]]) -> None:
    """The activity definitions of the loaded statements ({IRI: (definition, stored of the
    first statement that named it)}), except those of activities known already (the
    template's definitions never change, so the LRS would leave a known one as it is)."""
    table = Activity.__table__
    rows = [{"iri": iri, "definition": json.loads(definition), "updated": stored}
            for iri, (definition, stored) in first_seen.items()]
    if not rows:
        return
    with engine.begin() as conn:
        known = set(conn.execute(select(table.c.iri)).scalars())
        fresh = [row for row in rows if row["iri"] not in known]
        if fresh:
            conn.execute(table.insert(), fresh)


def load(engine: Engine, statements: Iterable[dict[str, str]], count: int,
         authority: dict, credential_id: uuid.UUID | None,
         span: timedelta = timedelta(days=29)) -> None:
    """Write `count` statements (each the `draw` fields of one) as the LRS stores what the
    credential `credential_id` (with `authority`) POSTs, `stored` spread over `span`."""
    sqlite = engine.dialect.name == "sqlite"
    prototype = Prototype(authority)
    with engine.connect() as conn:
        first = (conn.execute(text("SELECT max(pk) FROM lrs_statements")).scalar() or 0) + 1
    times = _timeline(engine, count, span)
    first_seen: dict[str, tuple[str, datetime]] = {}
    credential = None if credential_id is None else str(credential_id)
    rows = _Rows(sqlite)
    for pk, fields, stored in zip(range(first, first + count), statements, times):
        rows.add(prototype, pk, fields, stored, credential)
        for iri, definition in prototype.definitions:
            first_seen.setdefault(fill(iri, fields), (fill(definition, fields), stored))
        if len(rows.statements) == _CHUNK:
            _write(engine, rows)
            rows = _Rows(sqlite)
    if rows.statements:
        _write(engine, rows)
    _save_definitions(engine, first_seen)
    with engine.begin() as conn:
        if not sqlite:
            conn.execute(text("SELECT setval('lrs_statements_pk_seq', "
                              "(SELECT max(pk) FROM lrs_statements))"))
        conn.execute(text("ANALYZE"))


def bulk_load(engine: Engine, count: int, authority: dict, credential_id: uuid.UUID | None,
              seed: int = 1) -> None:
    """Load `count` statements drawn from `seed` (see `load`)."""
    rng = random.Random(seed)
    load(engine, (draw(rng) for _ in range(count)), count, authority, credential_id)
