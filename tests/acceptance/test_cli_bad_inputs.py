"""The catalogue of bad inputs (tests/acceptance/bad_inputs.py) run against `nckh`, on SQLite and
on PostgreSQL: each case gives one line on stderr starting `nckh: ` and naming the problem, the
documented exit code (2 bad input, 3 refused, 1 an operational failure), nothing on stdout, and
leaves the database unchanged.

Each database is prepared once per module through the engine API (units BVDK and TTYT-DH, four
people, task 1 proposed, 2 in progress, 3 accepted); every case runs on its own copy (a copied
SQLite file; `CREATE DATABASE … TEMPLATE …` on PostgreSQL). "Unchanged" means every row of every
table is identical, read through SQLAlchemy, except `refusal`: an audited attempt (refused, or by
someone outside the directory) adds exactly one row there, by design.

The catalogue runs in-process (`engine.cli.main.main` with the environment patched: the same
entry point as the console script, ~50 times faster); a handful of cases also run through the
installed console script in a subprocess, and must print and exit exactly alike.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, MetaData, create_engine, text

from engine.app import build
from engine.directory import UnitInput
from engine.settings import load_settings
from tests.acceptance.bad_inputs import (
    ACCEPTED,
    CASES,
    COUNCIL,
    HEAD_A,
    HEAD_B,
    IN_PROGRESS,
    NEW_CASES,
    NOW,
    OFFICE,
    PI,
    Case,
)
from tests.acceptance.cli import (
    Ran,
    cli_env,
    copy_db,
    dump_tables,
    nckh,
    nckh_in_process,
    refusals,
)
from tests.conftest import PG_ADMIN_URL, local, require_pg

# Through the console script as well: exit 2 and 3, an audited unknown person, bytes that are not
# UTF-8 in argv, a configuration error and database errors (exit 2 and exit 1).
SUBPROCESS_CASES = ("id-twenty-digits-show", "wrong-role", "unknown-person",
                    "text-title-not-utf8", "config-unknown-key-mail", "db-file-not-a-database",
                    "db-server-down")


@dataclass(frozen=True)
class Template:
    """A prepared database: where it is, its tables as reflected once, and what they hold (every
    copy starts with exactly these rows)."""

    kind: str  # sqlite | postgresql
    url: str
    meta: MetaData
    rows: dict[str, list[tuple[Any, ...]]]
    refused: list[tuple[Any, ...]]

    @classmethod
    def of(cls, kind: str, url: str) -> Template:
        meta = reflect(url)
        return cls(kind, url, meta, dump_tables(url, meta=meta), refusals(url))


def fill(url: str, data: Path) -> None:
    app = build(load_settings(env={"NCKH_DATA_DIR": str(data), "NCKH_DATABASE_URL": url}))
    e, t0 = app.engine, local(2025, 2, 3)
    e.add_unit(UnitInput("BVDK", "Bệnh viện Đa khoa tỉnh", "TS.BS Nguyễn Thị Hằng", HEAD_A),
               now=t0)
    e.add_unit(UnitInput("TTYT-DH", "Trung tâm Y tế huyện Đồng Hỷ", "BS.CKII Hoàng Văn Đức",
                         HEAD_B), now=t0)
    e.add_person(email=OFFICE, name="Phòng Nghiệp vụ Y", role="office", now=t0)
    e.add_person(email=COUNCIL, name="Hội đồng KHCN", role="council", now=t0)
    for title in ("Đề tài đề xuất", "Đề tài đang làm", "Đề tài đã nghiệm thu"):
        e.create_task(unit_code="BVDK", level="unit", title=title, pi_email=PI,
                      pi_name="ThS.BS Lê Văn Bình", year=2025, now=t0)
    for task, events in ((IN_PROGRESS, ("approve_outline", "start")),
                         (ACCEPTED, ("approve_outline", "start", "accept"))):
        for i, event in enumerate(events):
            e.fire(task, event, actor_email=OFFICE, now=local(2025, 3, 1 + i))
    app.close()


def reflect(url: str) -> MetaData:
    engine = create_engine(url)
    meta = MetaData()
    meta.reflect(engine)
    engine.dispose()
    return meta


def pg_url(name: str) -> str:
    return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name


_server: list[Engine] = []  # one pooled connection to the server, for every copy and drop


def on_server(*statements: str) -> None:
    if not _server:
        _server.append(create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT", pool_size=1))
    with _server[0].connect() as conn:
        for statement in statements:
            conn.execute(text(statement))


@pytest.fixture(scope="module",
                params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def template(request: pytest.FixtureRequest,
             tmp_path_factory: pytest.TempPathFactory) -> Iterator[Template]:
    data = tmp_path_factory.mktemp(f"template-{request.param}")
    if request.param == "sqlite":
        url = f"sqlite:///{data / 'nckh.db'}"
        fill(url, data)
        yield Template.of("sqlite", url)
        return
    require_pg()
    worker = str(getattr(request.config, "workerinput", {}).get("workerid", "main"))
    name = f"nckh_bad_inputs_{worker}_{os.getpid()}"
    on_server(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"')
    fill(pg_url(name), data)
    yield Template.of("postgresql", pg_url(name))
    for spare in [u for u in _pristine if u.startswith(pg_url(name) + "_")]:
        _pristine.discard(spare)
        on_server(f'DROP DATABASE IF EXISTS "{spare.rsplit("/", 1)[1]}" WITH (FORCE)')
    on_server(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    _server.pop().dispose()


@dataclass(frozen=True)
class Place:
    """Where one case runs: its own copy of the template, and its directory (`{dir}`)."""

    template: Template
    url: str
    dir: Path

    def env(self, case: Case) -> dict[str, str]:
        extra = {"NCKH_DATABASE_URL": self.url,
                 **{k: v.replace("{dir}", str(self.dir)) for k, v in case.env.items()}}
        return cli_env(self.dir / "data", NOW, **extra)


@contextmanager
def copy_of(template: Template, where: Path, suffix: str) -> Iterator[Place]:
    data = where / "data"
    if template.kind == "sqlite":
        yield Place(template, f"sqlite:///{copy_db(Path(template.url[10:]), data)}", where)
        return
    data.mkdir(parents=True)
    source = template.url.rsplit("/", 1)[1]
    name = f"{source}_{suffix}"
    if pg_url(name) in _pristine:  # the last case left it as the template is: reuse it
        _pristine.discard(pg_url(name))
    else:
        on_server(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)',
                  f'CREATE DATABASE "{name}" TEMPLATE "{source}"')
    try:
        yield Place(template, pg_url(name), where)
    finally:
        if pg_url(name) not in _pristine:
            on_server(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# Copies of the PostgreSQL template that a case proved unchanged (no setup, every table as the
# template's, no refusal row added): the next case of the worker runs on it instead of a new
# copy. CREATE DATABASE … TEMPLATE and DROP cost about 0.4 s a case, most of this file's time.
_pristine: set[str] = set()


@pytest.fixture
def fresh(template: Template, tmp_path: Path) -> Iterator[Place]:
    with copy_of(template, tmp_path / "case", "case") as place:
        yield place


def prepare(case: Case, place: Place) -> list[str]:
    """Write the case's files, run its setup; return its arguments."""
    if case.needs_pg:
        require_pg()
    for name, content in case.files.items():
        target = place.dir / name
        if isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_text(content.replace("{dir}", str(place.dir)), encoding="utf-8")
    if case.setup is not None:
        case.setup(place.url, place.dir)
    return [a.replace("{dir}", str(place.dir)) for a in case.args]


Runner = Callable[..., Ran]


def check(case: Case, place: Place, run: Runner) -> None:
    """Run the case with `run` (in-process or the console script); assert the whole contract."""
    args = prepare(case, place)
    before, refused_before = place.template.rows, place.template.refused
    if case.setup is not None:  # the setup may have changed the copy
        before, refused_before = dump_tables(place.url, meta=place.template.meta), \
            refusals(place.url)

    result = run(place.env(case), *args)

    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("nckh: ")
    assert case.message in lines[0], lines[0]
    assert result.returncode == case.code, result.stderr
    assert result.stdout == ""
    assert dump_tables(place.url, meta=place.template.meta) == before
    after = refusals(place.url)
    added = after[len(refused_before):]
    assert after[: len(refused_before)] == refused_before
    if case.refusal:
        assert len(added) == 1 and added[0][4] in lines[0], added
    else:
        assert added == []
        if case.setup is None and place.template.kind == "postgresql":
            _pristine.add(place.url)


@pytest.mark.parametrize("case", [pytest.param(c, id=k) for k, c in CASES.items()])
def test_a_bad_input_gets_one_line_an_exit_code_and_changes_nothing(
        case: Case, fresh: Place) -> None:
    check(case, fresh, nckh_in_process)


@pytest.mark.parametrize("case_id", SUBPROCESS_CASES)
def test_the_console_script_answers_exactly_as_the_in_process_run(
        case_id: str, fresh: Place, tmp_path: Path) -> None:
    case = CASES[case_id]
    seen: list[Ran] = []

    def console_script(env: dict[str, str], *args: str) -> Ran:
        done = nckh(env, *args)
        seen.append(Ran(done.returncode, done.stdout, done.stderr))
        return seen[-1]

    check(case, fresh, console_script)
    # The same case in-process, on another copy of the database, in a directory whose path has
    # the same length as the first (a message may name the case's files).
    with copy_of(fresh.template, tmp_path / "twin", "twin") as twin:
        in_process = nckh_in_process(twin.env(case), *prepare(case, twin))
    expected = seen[0].stderr.replace(str(fresh.dir), str(twin.dir))
    assert in_process == Ran(seen[0].returncode, seen[0].stdout, expected)


def test_the_catalogue_has_at_least_110_cases_with_both_exit_codes_of_bad_input() -> None:
    assert len(CASES) >= 110
    assert len(NEW_CASES) >= 60
    codes = [c.code for c in CASES.values()]
    assert codes.count(2) >= 25 and codes.count(3) >= 4
    assert set(codes) == {1, 2, 3}


def test_the_catalogue_covers_every_class_of_the_input_rules() -> None:
    for prefix in ("id-", "year-", "date-", "text-", "unregistered-", "state-", "csv-",
                   "definition-yaml-", "config-", "data-dir-", "db-"):
        assert sum(k.startswith(prefix) for k in CASES) >= 1, prefix
    assert {CASES[k].code for k in SUBPROCESS_CASES} == {1, 2, 3}
    assert any(CASES[k].refusal and CASES[k].code == 2 for k in SUBPROCESS_CASES)
