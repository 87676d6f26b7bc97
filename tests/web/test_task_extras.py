"""A task's dates, funding and team on the web: typed in the unit's register form (optional,
each bad input beside its box with nothing saved) and shown read-only on the item page to those
who may see the task."""

from __future__ import annotations

import html

from tests.web.webfixtures import HEAD, OTHER_HEAD, Site, csrf, error_beside, sign_in, snapshot


def test_a_unit_head_registers_a_task_with_its_extras_and_its_page_shows_them(
        site: Site, tasks: dict[str, int]) -> None:
    b = sign_in(site, HEAD)
    page = b.get("/don-vi/BVDK")
    assert 'id="t_ends"' in page.data.decode() and 'value="provincial_fund"' in page.data.decode()
    done = b.post("/don-vi/BVDK/nhiem-vu", data={
        "csrf_token": csrf(page.data), "t_title": "Đề tài ba năm", "t_level": "unit",
        "t_year": "2025", "t_pi": "", "t_pi_name": "ThS. Đỗ Văn Tùng",
        "t_pi_email": "tung@bvdk.example.vn", "t_starts": "01/07/2025", "t_ends": "30/06/2027",
        "t_funding_source": "provincial_fund", "t_funding_amount": "150.000.000",
        "t_members": "Lê Thị Hoa <hoa@bvdk.example.vn>:thư ký\r\n\r\nTrần Nam:thành viên\r\n"})
    assert done.status_code == 302, done.data.decode()
    item = done.headers["Location"].split("?")[0]
    shown = html.unescape(b.get(item).data.decode())
    for text in ("Thời gian thực hiện</dt><dd id=\"task-dates\">01/07/2025 – 30/06/2027",
                 "Quỹ KH&CN tỉnh, 150.000.000 đ", "<li>Lê Thị Hoa – thư ký</li>",
                 "<li>Trần Nam – thành viên</li>"):
        assert text in shown, text
    assert sign_in(site, OTHER_HEAD).get(item).status_code == 404


def test_bad_extras_are_refused_beside_their_box_and_nothing_is_saved(
        site: Site, tasks: dict[str, int]) -> None:
    b = sign_in(site, HEAD)
    good = {"csrf_token": csrf(b.get("/don-vi/BVDK").data), "t_title": "Đề tài mới",
            "t_level": "unit", "t_year": "2025", "t_pi": "", "t_pi_name": "Đỗ Văn Tùng",
            "t_pi_email": "tung@bvdk.example.vn"}
    before = snapshot(site)
    for change, field, message in [
        ({"t_starts": "01/07/2025", "t_ends": "30/06/2025"}, "t_ends",
         "end date 30/06/2025 is before the start date 01/07/2025"),
        ({"t_funding_source": "provincial_fund", "t_funding_amount": "-1"},
         "t_funding_amount", "funding amount '-1': expected a whole number"),
        ({"t_funding_source": "ngan-hang"}, "t_funding_source", "funding source 'ngan-hang'"),
        ({"t_members": "Lê Thị Hoa"}, "t_members", "member 'Lê Thị Hoa': expected"),
    ]:
        answer = b.post("/don-vi/BVDK/nhiem-vu", data={**good, **change})
        assert answer.status_code == 400, change
        assert message in error_beside(answer.data, field), change
    assert snapshot(site) == before
