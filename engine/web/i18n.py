"""The web pages' words, Vietnamese first. A key missing in English falls back to Vietnamese."""

from __future__ import annotations

import datetime as dt

LANGS = ("vi", "en")

WORDS: dict[str, dict[str, str]] = {
    "app": {"vi": "Theo dõi nhiệm vụ khoa học và công nghệ",
            "en": "Research task tracking"},
    "signin": {"vi": "Đăng nhập", "en": "Sign in"},
    "signout": {"vi": "Đăng xuất", "en": "Sign out"},
    "email": {"vi": "Địa chỉ thư điện tử đã đăng ký", "en": "Registered e-mail address"},
    "send_link": {"vi": "Gửi liên kết đăng nhập", "en": "Send me a sign-in link"},
    "link_sent": {"vi": "Nếu địa chỉ này đã được đăng ký, một liên kết đăng nhập (dùng một lần, "
                        "trong 15 phút) vừa được gửi tới hộp thư. Xin kiểm tra hộp thư.",
                  "en": "If this address is registered, a sign-in link (single use, valid 15 "
                        "minutes) has been sent. Please check your mailbox."},
    "password": {"vi": "Mật khẩu", "en": "Password"},
    "office_signin": {"vi": "Cán bộ Phòng Nghiệp vụ Y có mật khẩu", "en": "Office staff with a "
                      "password"},
    "signin_with_password": {"vi": "Đăng nhập bằng mật khẩu", "en": "Sign in with password"},
    "confirm_signin": {"vi": "Bấm nút dưới đây để đăng nhập.",
                       "en": "Press the button below to sign in."},
    "continue": {"vi": "Tiếp tục", "en": "Continue"},
    "refused": {"vi": "Không thực hiện được", "en": "Not done"},
    "not_found": {"vi": "Không tìm thấy", "en": "Not found"},
    "bad_link": {"vi": "Liên kết không dùng được", "en": "This link cannot be used"},
    "bad_link_help": {"vi": "Liên kết có thể đã hết hạn, đã bị thu hồi hoặc không đúng. Xin nhập "
                            "địa chỉ thư điện tử đã đăng ký để nhận liên kết mới.",
                      "en": "The link may have expired, been revoked, or be wrong. Enter your "
                            "registered e-mail address to receive a fresh one."},
    "why_invalid": {"vi": "Liên kết này không đúng (có thể bị chép thiếu hoặc đã bị sửa).",
                    "en": "This link is not valid (it may be incomplete or altered)."},
    "why_used": {"vi": "Liên kết đăng nhập này đã được dùng; mỗi liên kết chỉ dùng được một lần.",
                 "en": "This sign-in link has been used already; each works once."},
    "why_expired": {"vi": "Liên kết này đã hết hạn.", "en": "This link has expired."},
    "why_revoked": {"vi": "Liên kết này đã bị Phòng Nghiệp vụ Y thu hồi.",
                    "en": "The office has revoked this link."},
    "why_inactive": {"vi": "Tài khoản của Quý vị không còn hoạt động trong hệ thống.",
                     "en": "Your account is no longer active."},
    "ask_fresh": {"vi": "Nhận liên kết mới", "en": "Get a fresh link"},
    "home": {"vi": "Trang chính", "en": "Home"},
    "tasks": {"vi": "Nhiệm vụ và báo cáo", "en": "Tasks and reports"},
    "no_tasks": {"vi": "Không có mục nào.", "en": "Nothing here."},
    "id": {"vi": "Mã", "en": "ID"},
    "unit": {"vi": "Đơn vị", "en": "Unit"},
    "title": {"vi": "Tên", "en": "Title"},
    "state": {"vi": "Trạng thái", "en": "State"},
    "deadline": {"vi": "Hạn", "en": "Deadline"},
    "overdue": {"vi": "Quá hạn", "en": "Overdue"},
    "next": {"vi": "Việc cần làm tiếp", "en": "Expected next"},
    "investigator": {"vi": "Chủ nhiệm", "en": "Investigator"},
    "task_dates": {"vi": "Thời gian thực hiện", "en": "Start and end"},
    "funding": {"vi": "Nguồn kinh phí", "en": "Funding"},
    "task_members": {"vi": "Thành viên tham gia", "en": "Co-investigators"},
    "extras_optional": {"vi": "Thời gian, kinh phí, thành viên (nếu có)",
                        "en": "Dates, funding, team (optional)"},
    "starts_on": {"vi": "Ngày bắt đầu", "en": "Start date"},
    "ends_on": {"vi": "Ngày kết thúc", "en": "End date"},
    "funding_amount": {"vi": "Kinh phí (đồng)", "en": "Amount (VND)"},
    "members_hint": {"vi": "mỗi dòng một người: Họ tên <thư điện tử>:vai trò",
                     "en": "one per line: Name <e-mail>:role"},
    "year": {"vi": "Năm", "en": "Year"},
    "history": {"vi": "Lịch sử", "en": "History"},
    "deadlines": {"vi": "Các hạn", "en": "Deadlines"},
    "actions": {"vi": "Thao tác", "en": "Actions"},
    "reason": {"vi": "Lý do", "en": "Reason"},
    "done": {"vi": "Đã thực hiện", "en": "Done"},
    "signed_in_as": {"vi": "Đăng nhập với tư cách", "en": "Signed in as"},
    "by": {"vi": "bởi", "en": "by"},
    "recorded_for": {"vi": "ghi nhận bởi {who} (Phòng Nghiệp vụ Y) thay mặt đơn vị {unit}",
                     "en": "recorded by {who} (office) for unit {unit}"},
    "error_summary": {"vi": "Có lỗi cần sửa", "en": "There is a problem"},
    "action_link_intro": {"vi": "Liên kết này dành riêng cho {name}, cho mục dưới đây. Mở "
                                "liên kết không thay đổi gì; chỉ khi bấm nút thì thao tác mới "
                                "được thực hiện.",
                          "en": "This link is for {name} only, for the item below. Opening it "
                                "changes nothing; only pressing a button acts."},
    "nothing_to_do": {"vi": "Hiện không có thao tác nào Quý vị có thể thực hiện với mục này.",
                      "en": "There is nothing you can do on this item now."},
    "csrf": {"vi": "Biểu mẫu đã hết hạn hoặc không hợp lệ. Xin tải lại trang và thử lại.",
             "en": "The form has expired or is not valid. Reload the page and try again."},
    "too_large": {"vi": "Tệp quá lớn.", "en": "The file is too large."},
    "lang_other": {"vi": "English", "en": "Tiếng Việt"},
    "doc_number": {"vi": "Số văn bản của đơn vị", "en": "The unit's document number"},
    "doc_date": {"vi": "Ngày văn bản", "en": "Document date"},
    "note": {"vi": "Ghi chú", "en": "Note"},
    "file": {"vi": "Tệp đính kèm (PDF, DOCX hoặc XLSX)", "en": "File (PDF, DOCX or XLSX)"},
    "behalf": {"vi": "Ghi nhận thay mặt đơn vị {unit} (chủ nhiệm: {who})",
               "en": "Record for unit {unit} (investigator: {who})"},
    "behalf_help": {"vi": "Khi đơn vị gửi văn bản giấy hoặc thư điện tử: thao tác được ghi nhận "
                          "là của chủ nhiệm, do Quý vị ghi nhận thay mặt đơn vị.",
                    "en": "When the unit wrote on paper or by e-mail: the step is the "
                          "investigator's, recorded by you on the unit's behalf."},
    "file_optional": {"vi": "Tệp đính kèm, nếu có (PDF, DOCX hoặc XLSX)",
                      "en": "Attached file, if any (PDF, DOCX or XLSX)"},
    "submissions": {"vi": "Văn bản đã gửi", "en": "Documents sent"},
    "received": {"vi": "nhận ngày", "en": "received"},
    "register": {"vi": "Sổ tiếp nhận văn bản", "en": "Intake register"},
    "incoming_no": {"vi": "Số đến", "en": "Incoming no."},
    "received_on": {"vi": "Ngày nhận", "en": "Received"},
    "channel": {"vi": "Hình thức", "en": "Channel"},
    "channel_web": {"vi": "Trực tuyến", "en": "Web"},
    "channel_email": {"vi": "Thư điện tử", "en": "E-mail"},
    "channel_paper": {"vi": "Văn bản giấy", "en": "Paper"},
    "received_by": {"vi": "Người gửi / ghi nhận", "en": "Sent / recorded by"},
    "record_paper": {"vi": "Ghi nhận văn bản đơn vị gửi bằng giấy hoặc thư điện tử",
                     "en": "Record a document a unit sent on paper or by e-mail"},
    "item": {"vi": "Báo cáo / nhiệm vụ", "en": "Report / task"},
    "set_password": {"vi": "Đặt mật khẩu", "en": "Set a password"},
    "repeat": {"vi": "Nhập lại mật khẩu", "en": "Repeat the password"},
    "password_help": {"vi": "Chỉ cán bộ Phòng Nghiệp vụ Y có mật khẩu (ít nhất 12 ký tự); mọi "
                            "người khác đăng nhập bằng liên kết gửi qua thư điện tử.",
                      "en": "Only the office's people hold a password (at least 12 characters); "
                            "everyone else signs in with a link sent by e-mail."},
    "dashboard": {"vi": "Bảng theo dõi toàn tỉnh", "en": "Province dashboard"},
    "unit_kind": {"vi": "Loại đơn vị", "en": "Unit kind"},
    "all": {"vi": "Tất cả", "en": "All"},
    "public": {"vi": "Công lập", "en": "Public"},
    "private": {"vi": "Ngoài công lập", "en": "Private"},
    "filter": {"vi": "Lọc", "en": "Filter"},
    "cell_done": {"vi": "Đúng hạn", "en": "On time"},
    "cell_late": {"vi": "Muộn", "en": "Late"},
    "cell_overdue": {"vi": "Quá hạn", "en": "Overdue"},
    "cell_open": {"vi": "Chưa đến hạn", "en": "Not yet due"},
    "rate": {"vi": "Tỷ lệ đúng hạn", "en": "On-time rate"},
    "research": {"vi": "Đề tài, sáng kiến", "en": "Research tasks"},
    "province": {"vi": "Toàn tỉnh", "en": "Province"},
    "search": {"vi": "Tìm kiếm", "en": "Search"},
    "search_label": {"vi": "Tên đề tài, chủ nhiệm, đơn vị hoặc số quyết định",
                     "en": "Title, investigator, unit or decision number"},
    "search_empty": {"vi": "Nhập một vài chữ để tìm (có dấu hay không dấu đều được).",
                     "en": "Type a few words to search (with or without Vietnamese marks)."},
    "search_none": {"vi": "Không tìm thấy mục nào cho “{query}”.",
                    "en": "Nothing found for “{query}”."},
    "search_count": {"vi": "Tìm thấy {n} mục.", "en": "{n} found."},
    "search_first": {"vi": "Hiển thị {n} mục đầu; xin thêm từ để thu hẹp.",
                     "en": "The first {n} are shown; add words to narrow."},
    "decision_no": {"vi": "Số quyết định", "en": "Decision number"},
    "sessions": {"vi": "Sinh hoạt khoa học", "en": "Science sessions"},
    "no_sessions": {"vi": "Chưa ghi nhận buổi sinh hoạt khoa học nào.",
                    "en": "No science session recorded."},
    "record_session": {"vi": "Ghi nhận buổi sinh hoạt khoa học đã tổ chức",
                       "en": "Record a science session held"},
    "session_date": {"vi": "Ngày tổ chức", "en": "Date held"},
    "department": {"vi": "Khoa/phòng", "en": "Department"},
    "topic": {"vi": "Chủ đề", "en": "Topic"},
    "presenter": {"vi": "Người trình bày", "en": "Presenter"},
    "presenter_email": {"vi": "Thư điện tử của người trình bày", "en": "Presenter's e-mail"},
    "presenter_name": {"vi": "Họ tên người trình bày", "en": "Presenter's name"},
    "if_unregistered": {"vi": "(nếu chưa có trong hệ thống)", "en": "(if not registered)"},
    "presenter_is_pi": {"vi": "Là chủ nhiệm đề tài đang thực hiện",
                        "en": "Leads a current task"},
    "presenter_is_pi_help": {"vi": "Hệ thống tự xác định người trình bày có là chủ nhiệm một "
                                   "đề tài đang thực hiện của đơn vị hay không.",
                             "en": "Whether the presenter leads a current task of the unit is "
                                   "worked out from the register."},
    "attendance": {"vi": "Số người tham dự", "en": "Attendance"},
    "minutes_file": {"vi": "Biên bản, nếu có (PDF, DOCX hoặc XLSX)",
                     "en": "Minutes, if any (PDF, DOCX or XLSX)"},
    "yes": {"vi": "Có", "en": "Yes"},
    "no": {"vi": "Không", "en": "No"},
    "register_task": {"vi": "Đăng ký đề tài, sáng kiến mới", "en": "Register a new task or "
                      "initiative"},
    "level": {"vi": "Loại nhiệm vụ", "en": "Kind of task"},
    "new_investigator": {"vi": "– Chủ nhiệm mới (nhập họ tên và thư điện tử dưới đây) –",
                         "en": "– A new investigator (name and e-mail below) –"},
    "new_pi_name": {"vi": "Họ tên chủ nhiệm mới", "en": "New investigator's name"},
    "new_pi_email": {"vi": "Thư điện tử của chủ nhiệm mới", "en": "New investigator's e-mail"},
    "timers_pending": {"vi": "Nhắc hạn, đôn đốc sẽ gửi", "en": "Reminders and follow-ups due"},
    "no_timers": {"vi": "Không còn thư nhắc hạn, đôn đốc nào chờ gửi.",
                  "en": "No reminder or follow-up is waiting."},
    "timer_reminder": {"vi": "Nhắc hạn, {days} ngày trước hạn {due}",
                       "en": "Reminder, {days} days before {due}"},
    "timer_deadline": {"vi": "Thông báo quá hạn (hạn {due})", "en": "Overdue notice (due {due})"},
    "timer_escalation": {"vi": "Đôn đốc: {role} (hạn {due})",
                         "en": "Follow-up to {role} (due {due})"},
    "timer_auto_event": {"vi": "Tự động: {event}", "en": "Automatic: {event}"},
    "role_pi": {"vi": "chủ nhiệm", "en": "the investigator"},
    "role_unit_head": {"vi": "thủ trưởng đơn vị", "en": "the unit head"},
    "role_office": {"vi": "Phòng Nghiệp vụ Y (trong bản tổng hợp)",
                    "en": "the office (in its digest)"},
    "role_council": {"vi": "Hội đồng khoa học", "en": "the science council"},
    "mails_about": {"vi": "Thư đã gửi về nhiệm vụ này", "en": "E-mails about this item"},
    "no_mails": {"vi": "Chưa có thư nào.", "en": "No e-mail yet."},
    "mail_queued": {"vi": "Lập ngày", "en": "Queued"},
    "mail_sent": {"vi": "Đã gửi", "en": "Sent"},
    "mail_waiting": {"vi": "chờ gửi", "en": "waiting"},
    "mail_dead": {"vi": "không gửi được", "en": "could not be sent"},
    "mail_to": {"vi": "Người nhận", "en": "To"},
    "mail_in_letter": {"vi": "(trong thư chung của ngày)", "en": "(in that day's letter)"},
    "report_topics": {"vi": "Các đề tài, nhiệm vụ thuộc nội dung báo cáo (tình hình hôm nay)",
                      "en": "Topics this report covers (as they stand today)"},
    "report_topics_none": {"vi": "Đơn vị chưa có đề tài, nhiệm vụ nào thuộc nội dung báo cáo "
                                 "này.",
                           "en": "The unit has no topic this report covers."},
    "topic_title": {"vi": "Đề tài, nhiệm vụ", "en": "Topic"},
    "topic_pi": {"vi": "Chủ nhiệm", "en": "Investigator"},
    "topic_result": {"vi": "Kết quả", "en": "Result"},
    "topic_due": {"vi": "thời hạn", "en": "due"},
    "topic_no": {"vi": "số", "en": "no."},
    "topic_grade": {"vi": "xếp loại", "en": "graded"},
    "applications": {"vi": "Ứng dụng kết quả, chuyển giao, hợp tác",
                     "en": "Application of results, transfers, agreements"},
    "app_kind": {"vi": "Hình thức", "en": "Kind"},
    "app_place": {"vi": "Nơi áp dụng / nhận", "en": "Where"},
    "app_receiver": {"vi": "Loại nơi nhận", "en": "Receiver"},
    "app_since": {"vi": "Từ ngày", "en": "Since"},
    "app_doc": {"vi": "Hợp đồng / thỏa thuận", "en": "Contract / agreement"},
}


def word(key: str, lang: str) -> str:
    entry = WORDS.get(key)
    if entry is None:
        return key
    return entry.get(lang) or entry["vi"]


def percent(value: float, lang: str) -> str:
    """A rate as the reader writes it: "66,7%" in Vietnamese, "66.7%" in English."""
    text = f"{value:.1f}%"
    return text.replace(".", ",") if lang == "vi" else text


def dmy(value: object) -> str:
    """dd/mm/yyyy (and HH:MM for a time) for people; ISO strings are accepted."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        try:
            value = (dt.datetime.fromisoformat(value) if "T" in value
                     else dt.date.fromisoformat(value))
        except ValueError:
            return str(value)
    if isinstance(value, dt.datetime):
        return value.strftime("%d/%m/%Y %H:%M")
    if isinstance(value, dt.date):
        return value.strftime("%d/%m/%Y")
    return str(value)
