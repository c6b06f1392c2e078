"""Every code a unit, an officer or the council reads, as one Vietnamese word.

Codes stay English in the warehouse and in `--json`; email, web, CLI, Prefect artifacts,
the demo and the reports turn them into words only through these maps, so a concept
reads the same everywhere (`tests/test_words.py` fails when a channel differs).  At the
bottom of the domain: it imports nothing.
"""

from __future__ import annotations

# What the checks made of a submission (`submissions.outcome`), and a unit with none
OUTCOME = {
    "accepted": "Đã tiếp nhận",
    "accepted_with_warnings": "Đã tiếp nhận, có lưu ý",
    "rejected": "Chưa đạt",
    "unreadable": "Không đọc được tệp",
    "duplicate": "Trùng lần gửi trước",
    "missing": "Chưa nộp",
}

# Why an arrival is not read, the same on every channel (folder, mailbox, web page)
REFUSAL = {
    "format": (
        "không nhận tệp định dạng {suffix} (chỉ nhận .xlsx, .csv hoặc thư .eml); "
        "hãy lưu lại thành tệp .xlsx"
    ),
    "document": (
        "không nhận tệp {suffix} làm báo cáo: báo cáo là biểu mẫu Excel, hãy lưu "
        "lại thành tệp .xlsx; văn bản kế hoạch thì gửi cùng lúc với biểu mẫu của "
        "đơn vị, cùng tên tệp, ví dụ ke-hoach-2025_TX-01.xlsx và "
        "ke-hoach-2025_TX-01.pdf, hoặc đính kèm cùng một thư"
    ),
    "no_workbook": ("thư không kèm tệp báo cáo; hãy đính kèm tệp .xlsx theo biểu mẫu rồi gửi lại"),
    "archive": (
        "tệp nén không được mở; hãy giải nén, rồi gửi trực tiếp tệp .xlsx theo biểu mẫu, "
        "không nén thành zip hay rar"
    ),
    "winmail": (
        "tệp winmail.dat là thư Outlook soạn ở kiểu RTF, không lấy được tệp đính kèm; "
        "hãy chọn định dạng thư HTML hoặc văn bản thường, đính kèm lại tệp .xlsx rồi gửi lại"
    ),
    "too_large": (
        "tệp quá lớn ({detail}), không đọc; hãy gửi riêng tệp báo cáo .xlsx, không kèm "
        "ảnh hay tệp lớn"
    ),
}

# A formula saved without its value (a workbook written by a program, never opened)
UNCOMPUTED_FORMULA = "công thức chưa được tính; mở tệp bằng Excel hoặc LibreOffice rồi lưu lại"

# The answer to a file sent again after it was accepted (`acknowledge.resend_email`)
RESENT = "Tệp này đã nhận trước đó, lúc {when}, và đã được ghi nhận; không cần gửi lại."

# Review states of a version (`thidua.review`); None: the unit has sent nothing.
# Lower case: they are read mid-sentence ("trạng thái: chờ duyệt").
REVIEW_STATE = {
    "received": "chờ duyệt",
    "has_issues": "có lỗi",
    "approved": "đã duyệt",
    "returned": "trả lại",
    "rejected": "không chấp nhận",
    None: "chưa nộp",
}

# Reminder stages (`thidua.calendar.stage_dates`)
STAGE = {
    "mo": "Mở kỳ báo cáo",
    "t7": "Nhắc trước hạn 7 ngày làm việc",
    "t3": "Nhắc trước hạn 3 ngày làm việc",
    "t1": "Nhắc trước hạn 1 ngày làm việc",
    "qua-han": "Báo quá hạn (1 ngày làm việc sau hạn)",
    "don-doc": "Đôn đốc (5 ngày làm việc sau hạn)",
}

# What became of a message we sent (acknowledgments, reminders, alerts)
SEND_STATUS = {
    "sent": "Đã gửi",
    "failed": "Chưa gửi được",
    "skipped": "Không có người nhận",
    "bounced": "Bị trả lại",
}

# What became of the report mail to the tier above (`thidua rollup … --email`), by the
# `status` of its outcome: sent, kept in the outbox (no SMTP server configured), failed
REPORT_MAIL = {
    "sent": "Đã gửi thư báo cáo tới {name} <{email}>.",
    "outbox": "Chưa gửi thư báo cáo tới {name} <{email}>: chưa cấu hình máy chủ thư (SMTP), "
    "thư được lưu trong hộp thư đi: {outbox}",
    "failed": "Chưa gửi được thư báo cáo tới {name} <{email}>: {error}",
}

# Where a unit stands in a rollup's cycle (`warehouse.rollups` completeness)
REPORTING_STATUS = {"on_time": "Đúng hạn", "late": "Nộp muộn", "missing": "Chưa nộp"}

# Our messages to a unit, by kind: what a bounce answers, what a failing-mail alert names
MAIL_KIND = {
    "reminder": "Thư nhắc hạn",
    "acknowledgment": "Thư báo nhận",
    "resend": "Thư trả lời tệp gửi lại",
}

SEVERITY = {"error": "Lỗi", "warning": "Lưu ý"}

CYCLE_KIND = {"ke_hoach": "Kế hoạch", "nam": "Năm", "so_ket": "Sơ kết", "tong_ket": "Tổng kết"}
# The unit's own document a cycle asks for (`document: required` in cycles.yaml), by kind
DOCUMENT = {
    "ke_hoach": "Văn bản kế hoạch",
    "so_ket": "Báo cáo sơ kết",
    "tong_ket": "Báo cáo tổng kết",
}
DOCUMENT_OTHER = "Văn bản của đơn vị"  # a kind not named above

# Why a mail went to the quarantine folder (`mail_messages.reason`, comma-separated)
QUARANTINE_REASON = {
    "sender_mismatch": "người gửi không phải địa chỉ đã đăng ký của đơn vị",
    "sender_unauthenticated": "máy chủ thư không xác thực được người gửi (DKIM/SPF)",
    "unreadable": "không có tệp báo cáo đọc được",
}

# Column headers shared by the CLI tables, the Prefect artifacts and the reports
HEADER = {
    "cycle": "Kỳ báo cáo",
    "cycle_id": "Kỳ báo cáo",
    "kind": "Loại",
    "title": "Tên kỳ",
    "id": "Mã kỳ",
    "period_start": "Từ ngày",
    "period_end": "Đến ngày",
    "due_original": "Hạn theo kế hoạch",
    "due_date": "Hạn nộp",
    "stage_date": "Ngày nhắc",
    "expected_units": "Số đơn vị phải nộp",
    "expected": "Phải nộp",
    "submitted": "Đã nộp",
    "accepted": "Đã tiếp nhận",
    "on_time": "Đúng hạn",
    "late": "Nộp muộn",
    "missing": "Chưa nộp",
    "unit": "Đơn vị",
    "unit_code": "Đơn vị",
    "code": "Mã",
    "name": "Tên",
    "block": "Khối",
    "grp": "Khối thi đua",
    "email": "Email",
    "version": "Lần gửi",
    "outcome": "Kết quả",
    "errors": "Lỗi",
    "warnings": "Lưu ý",
    "received_at": "Nhận lúc",
    "counted_version": "Lần được tính",
    "severity": "Mức",
    "cell": "Vị trí",
    "value": "Giá trị đã đọc",
    "message_vi": "Vấn đề",
    "fix_vi": "Cách sửa",
    "ack": "Thư xác nhận",
    "file": "Tệp",
    "sender": "Người gửi",
    "reason": "Lý do",
    "stage": "Đợt nhắc",
    "units": "Số đơn vị",
    "to_send": "Sẽ gửi",
    "sent": "Đã gửi",
    "failed": "Chưa gửi được",
    "skipped_sent": "Bỏ qua (đã gửi)",
    "skipped_submitted": "Bỏ qua (đã nộp)",
    "status": "Trạng thái",
    "recipients": "Người nhận",
    "error": "Lỗi",
    "to": "Gửi tới",
    "cc": "Đồng gửi",
    "plan_documents": "Có văn bản của đơn vị (kế hoạch, báo cáo)",
    "plan_document": "Văn bản kế hoạch",
    "indicator_name": "Chỉ tiêu",
    "address": "Địa chỉ",
    "answers": "Thư bị trả lại",
    "review": "Trạng thái duyệt",
    "decided_at": "Lúc",
    "from_state": "Từ",
    "to_state": "Sang",
    "actor": "Người quyết định",
    "comment": "Ý kiến",
    "reporting_rate": "Tỷ lệ nộp (%)",
    "on_time_rate": "Tỷ lệ đúng hạn (%)",
    "sources": "Số lần gửi được tổng hợp",
}


def quarantine_reason(reason: str | None) -> str:
    """ "sender_mismatch,unreadable" in the officer's words."""
    return "; ".join(QUARANTINE_REASON.get(r, r) for r in (reason or "").split(",") if r)


# Where an award of the register came from (`award_register.origin`); otherwise the name
# of the danh sách workbook it was imported from.
REGISTER_ORIGIN = {"thidua": "Hội đồng xét (thidua)", "nhap-tay": "Nhập tay"}
