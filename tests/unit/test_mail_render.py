"""Rendering, dates, the catalog and the message builder: pure, no database, no network."""

from __future__ import annotations

import datetime as dt
import itertools
from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest

from engine.settings import load_settings
from notifications.catalog import load_catalog, parse_catalog
from notifications.config import mail_config
from notifications.message import (
    BadMessage,
    Composed,
    _boundary,
    build_message,
    message_id_for,
)
from notifications.outbox import backoff
from notifications.render import Renderer, TemplateProblem, ensure_plain, vi_date
from notifications.samples import all_samples, sample_context
from workflows.errors import InputError

CFG = mail_config(load_settings(env={"NCKH_DATA_DIR": "/nonexistent"}))
CATALOG = load_catalog()


def test_vietnamese_dates_pad_the_day_and_january_february_only() -> None:
    assert vi_date(dt.date(2025, 3, 5)) == "ngày 05 tháng 3 năm 2025"
    assert vi_date(dt.date(2025, 1, 15)) == "ngày 15 tháng 01 năm 2025"
    assert vi_date(dt.date(2025, 2, 1)) == "ngày 01 tháng 02 năm 2025"
    assert vi_date("2025-12-31") == "ngày 31 tháng 12 năm 2025"


def test_every_packaged_template_renders_in_both_languages() -> None:
    assert Renderer(CATALOG).check(all_samples(CFG, CATALOG)) == []


def test_html_is_escaped_and_text_is_not() -> None:
    ctx = sample_context(CFG, CATALOG, "task_registered", "vi")
    ctx["task"] = {**ctx["task"], "title": "<script>alert(1)</script> & co"}
    out = Renderer(CATALOG).render("task_registered", "vi", ctx)
    assert "<script>" not in out.html and "&lt;script&gt;" in out.html
    assert "<script>alert(1)</script> & co" in out.text
    assert "&lt;" not in out.subject and "\n" not in out.subject


def test_a_missing_variable_fails_loudly_with_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "vi").mkdir()
    (tmp_path / "vi" / "test.txt").write_text("line one\n{{ nobody.knows }}\n")
    problems = Renderer(CATALOG, tmp_path).check(all_samples(CFG, CATALOG))
    assert len(problems) == 1
    assert "vi/test.txt:2" in problems[0] and "'nobody' is undefined" in problems[0]


def test_a_broken_override_is_reported_not_rendered(tmp_path: Path) -> None:
    (tmp_path / "en").mkdir()
    (tmp_path / "en" / "reminder.html").write_text("<p>{% if %}</p>\n")
    with pytest.raises(TemplateProblem, match=r"en/reminder.html:1"):
        Renderer(CATALOG, tmp_path).render("reminder", "en",
                                           sample_context(CFG, CATALOG, "reminder", "en"))


def test_the_sandbox_refuses_unsafe_attributes_and_non_plain_context(tmp_path: Path) -> None:
    (tmp_path / "vi").mkdir()
    (tmp_path / "vi" / "test.txt").write_text("{{ ''.__class__.__mro__ }}\n")
    with pytest.raises(TemplateProblem):
        Renderer(CATALOG, tmp_path).render("test", "vi", sample_context(CFG, CATALOG, "test",
                                                                        "vi"))
    with pytest.raises(TypeError, match="not plain data"):
        ensure_plain({"task": object()})


def test_a_packaged_template_under_an_overridden_layout_renders_in_the_sandbox(
        tmp_path: Path) -> None:
    """Any override puts its whole language in the sandbox: test.html is packaged, but it
    extends the administrator's layout, which must not reach Python internals."""
    (tmp_path / "vi").mkdir()
    (tmp_path / "vi" / "_layout.html").write_text(
        "{{ ''.__class__.__mro__[1].__subclasses__() }}{% block body %}{% endblock %}\n")
    renderer = Renderer(CATALOG, tmp_path)
    assert renderer.overridden("vi") and not renderer.overridden("en")
    ctx = sample_context(CFG, CATALOG, "test", "vi")
    with pytest.raises(TemplateProblem, match=r"vi/_layout\.html:1"):
        renderer.render("test", "vi", ctx)
    # English has no override: its packaged templates render as before.
    assert "nckh" in renderer.render("test", "en", sample_context(CFG, CATALOG, "test", "en")).text


def test_overrides_are_read_when_the_renderer_is_built(tmp_path: Path) -> None:
    renderer = Renderer(CATALOG, tmp_path)
    ctx = sample_context(CFG, CATALOG, "test", "vi")
    packaged = renderer.render("test", "vi", ctx)
    (tmp_path / "vi").mkdir()
    (tmp_path / "vi" / "test.subject.txt").write_text("Thử cấu hình\n")
    # An override written after start waits for the next start (and its template check).
    assert renderer.render("test", "vi", ctx) == packaged
    assert Renderer(CATALOG, tmp_path).render("test", "vi", ctx).subject == "Thử cấu hình"


def test_the_catalog_rejects_unknown_roles_and_kinds() -> None:
    with pytest.raises(InputError, match="unknown role 'boss'"):
        parse_catalog("kinds:\n  x: {to: [boss]}\n", "k.yaml")
    with pytest.raises(InputError, match="unknown kind 'y'"):
        parse_catalog("kinds:\n  x: {to: [pi]}\nevents:\n  start: y\n", "k.yaml")
    with pytest.raises(InputError, match="unknown notification kind 'nope'"):
        CATALOG.kind("nope")


def test_vietnamese_subject_survives_folding_with_its_spaces() -> None:
    subject = ("[Sở Y tế] V/v tiếp nhận đăng ký đề tài “Đánh giá kết quả điều trị tăng huyết áp "
               "tại tuyến huyện” năm 2025")
    msg = build_message(mail_from="nckh@syt.vn", from_name="Phòng Nghiệp vụ Y – Sở Y tế",
                        reply_to=None, to=[{"name": "Nguyễn Thị Hoa, BS", "email": "a@b.vn"}],
                        cc=[], subject=subject, text="x", html=None, message_id="<1@syt.vn>",
                        date=dt.datetime(2025, 1, 1, tzinfo=dt.UTC), kind="k")
    parsed = BytesParser(policy=policy.default).parsebytes(msg.data)
    assert parsed["Subject"] == subject
    assert [a.addr_spec for a in parsed["To"].addresses] == ["a@b.vn"]  # the comma stays a name
    assert parsed["To"].addresses[0].display_name == "Nguyễn Thị Hoa, BS"


@pytest.mark.parametrize("subject", [
    "Hạn", "Đ" * 200, "a" + "ế" * 60, "[Sở Y tế] " * 12, "x " * 50 + "đề tài ký", "😀 ổ" * 30,
    "Report due " * 15,
])
def test_any_subject_round_trips_in_lines_of_at_most_78(subject: str) -> None:
    data = _compose(subject=subject).data
    head = data.split(b"\r\n\r\n", 1)[0].decode("ascii")
    start = head.index("Subject:")
    lines = head[start:].split("\r\n")
    lines = lines[:1] + [line for line in itertools.takewhile(
        lambda line: line.startswith(" "), lines[1:])]
    assert all(len(line) <= 78 for line in lines)
    parsed = BytesParser(policy=policy.default).parsebytes(data)
    assert parsed["Subject"] == " ".join(subject.split())


def test_an_address_with_a_newline_is_refused() -> None:
    with pytest.raises(BadMessage):
        build_message(mail_from="nckh@syt.vn", from_name="x", reply_to=None,
                      to=[{"name": "", "email": "a@b.vn\r\nBcc: c@d.vn"}], cc=[], subject="s",
                      text="t", html=None, message_id="<1@x>", date=dt.datetime.now(dt.UTC),
                      kind="k")


def _compose(**overrides: object) -> Composed:
    args: dict[str, object] = dict(
        mail_from="nckh@syt.vn", from_name="Phòng Nghiệp vụ Y – Sở Y tế",
        reply_to="pnvy@syt.vn", to=[{"name": "Nguyễn Thị Hoa", "email": "a@b.vn"}],
        cc=[{"name": "", "email": "c@d.vn"}], subject="Hạn nộp báo cáo", text="Kính gửi chị Hoa\n",
        html="<p>Kính gửi</p>\n", message_id="<nckh.outbox.7.20250101000000@syt.vn>",
        date=dt.datetime(2025, 1, 1, tzinfo=dt.UTC), kind="reminder",
        attachments=[("báo cáo quý.csv", b"a;b\n", "text/csv"),
                     ("han-2025-05-01.ics", b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n",
                      "text/calendar")])
    args.update(overrides)
    return build_message(**args)  # type: ignore[arg-type]


def test_a_message_is_the_same_bytes_every_time_and_parses_to_what_was_given() -> None:
    msg = _compose()
    assert _compose().data == msg.data  # a re-send after a crash is byte for byte the same
    assert msg.recipients == ("a@b.vn", "c@d.vn")
    assert all(len(line) <= 998 for line in msg.data.split(b"\r\n"))
    assert b"\n" not in msg.data.replace(b"\r\n", b"")
    parsed = BytesParser(policy=policy.default).parsebytes(msg.data)
    assert [p.defects for p in parsed.walk()] == [[]] * 6
    assert parsed.get_content_type() == "multipart/mixed"
    assert parsed["Subject"] == "Hạn nộp báo cáo" and parsed["X-Nckh-Kind"] == "reminder"
    assert parsed["Message-ID"] == "<nckh.outbox.7.20250101000000@syt.vn>"
    assert parsed["From"].addresses[0].display_name == "Phòng Nghiệp vụ Y – Sở Y tế"
    assert str(parsed["Reply-To"].addresses[0].addr_spec) == "pnvy@syt.vn"
    assert parsed.get_body(("plain",)).get_content() == "Kính gửi chị Hoa\n"
    assert parsed.get_body(("html",)).get_content() == "<p>Kính gửi</p>\n"
    files = {a.get_filename(): a for a in parsed.iter_attachments()}
    assert files["báo cáo quý.csv"].get_content() == "a;b\n"
    assert files["han-2025-05-01.ics"].get_param("method") == "PUBLISH"
    plain = BytesParser(policy=policy.default).parsebytes(
        _compose(html=None, attachments=[], text="plain ASCII\n").data)
    assert plain.get_content_type() == "text/plain" and plain["Content-Transfer-Encoding"] == "7bit"
    assert plain.get_content().replace("\r\n", "\n") == "plain ASCII\n"


def test_a_body_that_contains_the_boundary_cannot_add_a_part() -> None:
    mid = "<nckh.outbox.7.20250101000000@syt.vn>"
    text = "\n".join(f"--{_boundary(f'{mid}/alternative', [])}{end}"
                      for end in ("", "--", "\nContent-Type: text/html")) + "\n"
    parsed = BytesParser(policy=policy.default).parsebytes(
        _compose(text=text, attachments=[]).data)
    assert [p.get_content_type() for p in parsed.walk()] == [
        "multipart/alternative", "text/plain", "text/html"]
    assert parsed.get_body(("plain",)).get_content().replace("\r\n", "\n") == text


def test_line_breaks_in_a_subject_or_kind_are_collapsed_not_obeyed() -> None:
    parsed = BytesParser(policy=policy.default).parsebytes(
        _compose(subject="Hạn\r\nBcc: x@y.vn", kind="k\nBcc: x@y.vn").data)
    assert parsed["Bcc"] is None
    assert parsed["Subject"] == "Hạn Bcc: x@y.vn" and parsed["X-Nckh-Kind"] == "k Bcc: x@y.vn"


@pytest.mark.parametrize("field", [
    {"message_id": "<1@x>\nBcc: x@y.vn"}, {"message_id": "<1@x>\r"}, {"kind": "k\0"},
    {"to": [{"name": "", "email": "ngườidùng@b.vn"}]},
    {"attachments": [("a.txt", b"x", "text/plain\r\nX: y")]},
])
def test_a_header_that_would_break_the_message_is_refused(field: dict[str, object]) -> None:
    with pytest.raises(BadMessage):
        _compose(**field)


def test_message_id_is_a_function_of_the_row() -> None:
    at = dt.datetime(2025, 4, 16, 1, 2, 3, tzinfo=dt.UTC)
    assert message_id_for(42, at, "nckh@syt.vn") == "<nckh.outbox.42.20250416010203@syt.vn>"
    assert message_id_for(42, at, "nckh@syt.vn") == message_id_for(42, at, "nckh@syt.vn")


def test_backoff_doubles_up_to_the_cap_with_jitter_in_the_upper_half() -> None:
    import random

    rng = random.Random(7)
    base, cap = dt.timedelta(minutes=1), dt.timedelta(hours=1)
    for attempts, full in ((1, 60), (2, 120), (3, 240), (10, 3600), (60, 3600)):
        d = backoff(attempts, base, cap, rng).total_seconds()
        assert full / 2 <= d <= full


@pytest.mark.parametrize("sandboxed", [False, True])
def test_a_dict_read_as_an_attribute_gives_what_jinja_gives(sandboxed: bool) -> None:
    """The renderer's shortcut for `d.key` on a plain dict changes no answer: a key, a dict
    method of the same name (the method wins, as in Jinja), a missing key (undefined)."""
    import jinja2
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    from notifications.render import _Environment, _Sandbox

    ours = (_Sandbox if sandboxed else _Environment)(undefined=jinja2.StrictUndefined)
    stock = (ImmutableSandboxedEnvironment if sandboxed else jinja2.Environment)(
        undefined=jinja2.StrictUndefined)
    source = ("{{ d.a }}|{{ d.keys()|list }}|{{ d.items is callable }}|{{ d.get('a') }}|"
              "{{ d.n.x }}|{{ d.missing is defined }}|{{ o.real }}")
    context = {"d": {"a": "á", "keys": 1, "items": 2, "n": {"x": [1]}}, "o": 3}
    assert ours.from_string(source).render(context) == stock.from_string(source).render(
        context) == "á|['a', 'keys', 'items', 'n']|True|á|[1]|False|3"
    for env in (ours, stock):
        with pytest.raises(jinja2.UndefinedError, match="has no attribute 'missing'"):
            env.from_string("{{ d.missing }}").render(context)
        if sandboxed:  # a dict's own attributes still go through the sandbox's check
            with pytest.raises(jinja2.exceptions.SecurityError):
                env.from_string("{{ d.__class__.__mro__ }}").render(context)


def test_base64_bodies_are_the_stdlib_encoding_with_crlf_lines() -> None:
    import base64
    import random

    from notifications.message import _base64_lines

    rng = random.Random(7)
    for n in [*range(120), 57 * 40, 57 * 40 + 1, 10_000]:
        data = rng.randbytes(n)
        assert _base64_lines(data) == base64.encodebytes(data).replace(b"\n", b"\r\n")


def test_a_suspension_by_the_system_reads_as_a_recorded_status_not_a_decision() -> None:
    ctx = sample_context(CFG, CATALOG, "suspended", "vi")
    ctx["event"] = {**ctx["event"], "actor_role": "system", "reason": None}
    out = Renderer(CATALOG).render("suspended", "vi", ctx)
    assert "Hệ thống ghi nhận" in out.text
    assert "không phải quyết định tạm dừng" in out.text
    assert "tạm dừng thực hiện từ" not in out.text
    ctx["event"] = {**ctx["event"], "actor_role": "unit_head"}
    by_person = Renderer(CATALOG).render("suspended", "vi", ctx)
    assert "tạm dừng thực hiện từ" in by_person.text and "Hệ thống" not in by_person.text
