"""One address rule: refused where an address is entered, so a message never dies for it.

Registration, the configured sender and office, and the message builder all use
`workflows.addresses`. An address that got in before the rule (or straight into the database)
is left out of the message, noted on the row, and everyone else still receives it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import update

from engine.app import App, build
from engine.directory import UnitInput
from engine.doctor import check_addresses
from engine.settings import load_settings
from storage.models import Person
from tests.conftest import make_settings
from tests.integration.mailfixtures import (
    CONTACT,
    HEAD,
    MAIL_ENV,
    PI,
    T0,
    addresses,
    maildir_messages,
    province,
    rows,
)
from workflows import addresses as rule
from workflows.errors import InputError

REFUSED_BY_SERVERS = ["nguyễn.an@bvdk.example.vn", "giam..doc@bvdk.example.vn",
                      ".an@bvdk.example.vn", "an.@bvdk.example.vn", "an@bvdk_tinh.vn",
                      "an@bvdk", "an@-bvdk.vn", "a\u00a0n@bvdk.vn",
                      "an@bvdk.example.vn\r\nBcc: x@y.vn"]


@pytest.mark.parametrize("address", REFUSED_BY_SERVERS)
def test_addresses_mail_servers_refuse_are_refused_with_a_reason(address: str) -> None:
    reason = rule.problem(address)
    assert reason is not None
    with pytest.raises(InputError, match=r"(?s)^invalid e-mail '.*': "):
        rule.normalise(address)


@pytest.mark.parametrize("address", ["nguyen.van.an@bvdktinh.vn", "o'brien@example.com",
                                     "a+nckh@sub.example.vn", "nckh@localhost"])
def test_ordinary_addresses_pass_and_are_lower_cased(address: str) -> None:
    assert rule.normalise(address.upper() if "'" not in address else address) == address


@pytest.fixture
def mapp(db_url: str, tmp_path: Path) -> Iterator[App]:
    application = build(make_settings(db_url, tmp_path, **MAIL_ENV))
    yield application
    application.close()


def test_registration_refuses_an_address_the_builder_would_refuse(mapp: App) -> None:
    province(mapp)
    before, people = rows(mapp), mapp.engine.list_people()
    for bad in ("nguyễn.an@bvdk.example.vn", "giam..doc@bvdk.example.vn"):
        with pytest.raises(InputError, match="invalid e-mail"):
            mapp.engine.add_person(email=bad, name="Nguyễn An", role="pi", unit_code="BVDK",
                                   now=T0)
        with pytest.raises(InputError, match="invalid head e-mail of unit BVX"):
            mapp.engine.add_unit(UnitInput("BVX", "Bệnh viện X", "BS. X", bad), now=T0)
        with pytest.raises(InputError, match="invalid --pi-email"):
            mapp.engine.create_task(unit_code="BVDK", level="unit", title="Đề tài", pi_email=bad,
                                    pi_name="Nguyễn An", now=T0)
    assert mapp.engine.list_people() == people and len(mapp.engine.list_units()) == 1
    assert len(rows(mapp)) == len(before)


def test_a_bad_address_already_in_the_directory_is_left_out_and_the_others_get_the_mail(
        mapp: App, tmp_path: Path) -> None:
    """Six of 22 messages used to die for all their recipients when one address was bad."""
    province(mapp)
    with mapp.engine.transaction() as s:  # registered before the rule existed
        s.execute(update(Person).where(Person.email == HEAD)
                  .values(email="giam..doc@bvdk.example.vn"))
    task = mapp.engine.create_task(unit_code="BVDK", level="unit", title="Đề tài thứ hai",
                                   pi_email=PI, year=2025, now=T0)
    assert task
    counts = mapp.tick(T0)["outbox"]
    sent = [r for r in rows(mapp) if r.state == "sent"]
    assert counts.get("dead", 0) == 0 and counts["sent"] == len(sent)
    for msg in maildir_messages(tmp_path):
        assert "giam..doc@bvdk.example.vn" not in addresses(msg, "To") + addresses(msg, "Cc")
    # The unit's copies of both registrations, in one letter: the head's bad address left out
    # and noted, the research contact gets it.
    (letter,) = [r for r in sent if r.kind == "letter"]
    assert letter.last_error and "not sent to giam..doc@bvdk.example.vn" in letter.last_error
    got = {a for msg in maildir_messages(tmp_path) for a in addresses(msg, "To")}
    assert CONTACT in got and PI in got


@pytest.mark.parametrize(("env", "message"), [
    ({"NCKH_MAIL_FROM": "nckh@soyte..example.vn"},
     "invalid sender address (NCKH_MAIL_FROM / mail_from) 'nckh@soyte..example.vn'"),
    ({"NCKH_OFFICE_EMAIL": "phòng.nvy@soyte.example.vn"},
     "invalid office address (NCKH_OFFICE_EMAIL / office_email)"),
])
def test_a_malformed_configured_address_stops_nckh_at_start_and_doctor_fails(
        sqlite_url: str, tmp_path: Path, env: dict[str, str], message: str) -> None:
    settings = make_settings(sqlite_url, tmp_path, **env)
    with pytest.raises(InputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        build(settings)
    check = check_addresses(load_settings(env={"NCKH_DATA_DIR": str(tmp_path),
                                               "NCKH_DATABASE_URL": sqlite_url, **env}))
    assert check.status == "fail" and "address" in check.detail


@pytest.mark.parametrize(("sender", "smtp", "status"), [
    ("nckh@localhost", "127.0.0.1", "fail"),         # the default, with a real server: fail
    ("nckh@soyte.local", "127.0.0.1", "fail"),
    ("nckh@soyte.nckh.example", "127.0.0.1", "fail"),
    ("nckh@localhost", None, "ok"),                   # the maildir: a valid way to try nckh
    ("nckh@soyte.phutho.gov.vn", "127.0.0.1", "ok"),
])
def test_doctor_fails_a_sender_no_server_would_deliver_once_smtp_is_configured(
        tmp_path: Path, sender: str, smtp: str | None, status: str) -> None:
    env = {"NCKH_DATA_DIR": str(tmp_path), "NCKH_MAIL_FROM": sender,
           "NCKH_OFFICE_EMAIL": "nvy@soyte.phutho.gov.vn"}
    check = check_addresses(load_settings(env=env | ({"NCKH_SMTP_HOST": smtp} if smtp else {})))
    assert check.status == status, check
    if status == "fail":
        assert f"sender {sender} will be rejected" in check.detail
        assert check.fix is not None and "NCKH_MAIL_FROM" in check.fix
