"""Every check a submission goes through: id, severity, plain Vietnamese text, what to do.

The text is what a unit reads in its acknowledgment, so it names the problem in words a
clerk uses and says how to fix it.  Intake, parsing and the GX suites all report through
`Problem`, so every finding ends up the same way in `validation_results` and the email.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from thidua import words

ERROR, WARNING = "error", "warning"
# Errors that concern one row only: the row is left out, the rest of the report counts
ROW_ERRORS = frozenset({"reward_form", "reward_subject", "subject_type"})


@dataclass(frozen=True)
class Rule:
    severity: str
    text: str  # str.format template; fields differ per rule
    fix: str


RULES: dict[str, Rule] = {
    # -- the file ------------------------------------------------------------------
    "unreadable": Rule(
        ERROR,
        "Không mở được tệp: {reason}.",
        "Mở tệp bằng Excel hoặc LibreOffice Calc; nếu tệp có mật khẩu, bỏ "
        "mật khẩu; lưu lại thành tệp Excel dạng .xlsx (Lưu thành → Sổ làm "
        "việc Excel), rồi gửi lại tệp vừa lưu. Nên điền vào đúng biểu mẫu đã "
        "gửi kèm thư mở kỳ báo cáo.",
    ),
    "archive_ignored": Rule(
        WARNING,
        "Tệp “{value}” đi kèm (tệp nén hoặc winmail.dat) không được mở.",
        "Nếu trong đó có báo cáo khác, gửi tệp .xlsx đính kèm trực tiếp.",
    ),
    "manifest": Rule(
        ERROR,
        "Tệp kê khai “{value}” không xác nhận tệp số liệu “{book}”: {reason}.",
        "Gửi lại đúng hai tệp thidua đã lập (tệp .xlsx và tệp kê khai .json cùng tên), "
        "không sửa tệp .xlsx sau khi lập; biểu mẫu điền tay thì gửi không kèm tệp kê khai.",
    ),
    "missing_sheet": Rule(
        ERROR,
        "Thiếu trang tính “{value}”.",
        "Dùng đúng mẫu đã gửi; không xoá hay đổi tên trang tính.",
    ),
    "missing_key": Rule(
        ERROR,
        "Trang Thông tin (ThongTin) thiếu mục “{label}”.",
        "Dùng đúng biểu mẫu đã gửi; không xoá dòng nào ở trang Thông tin.",
    ),
    "missing_column": Rule(
        ERROR,
        "Trang Chỉ tiêu (ChiTieu) thiếu cột “{header}”.",
        "Dùng đúng mẫu đã gửi; không xoá hay đổi tên cột.",
    ),
    "header_only": Rule(
        ERROR,
        "Tệp chỉ có dòng tiêu đề, không có dòng số liệu nào.",
        "Ghi mỗi chỉ tiêu một dòng dưới dòng tiêu đề rồi gửi lại.",
    ),
    # -- who and which cycle -------------------------------------------------------
    "unknown_unit": Rule(
        ERROR,
        "Mã đơn vị “{value}” không có trong danh sách đơn vị.",
        "Ghi đúng mã đơn vị như trong mẫu đã gửi.",
    ),
    "csv_other_unit": Rule(
        ERROR,
        "Dòng này ghi mã đơn vị của đơn vị khác (“{value}”, không phải {unit}).",
        "Mỗi tệp chỉ báo cáo cho một đơn vị; số liệu của đơn vị khác do đơn vị đó tự gửi.",
    ),
    "sender_mismatch": Rule(
        ERROR,
        "Thư gửi từ {value}, không phải địa chỉ đã đăng ký của đơn vị ({email}).",
        "Gửi báo cáo từ hộp thư đã đăng ký của đơn vị, hoặc đề nghị "
        "Phòng Văn hoá – Xã hội cập nhật địa chỉ.",
    ),
    "sender_unauthenticated": Rule(
        ERROR,
        "Máy chủ thư của xã không xác nhận được thư này thật sự gửi từ {value} (kết quả: {auth}).",
        "Gửi lại từ hộp thư đã đăng ký của đơn vị; nếu vẫn bị, báo Phòng Văn hoá – Xã hội.",
    ),
    "other_unit": Rule(
        ERROR,
        "Tệp ghi mã đơn vị “{value}” nhưng thư gửi từ hộp thư đã đăng ký "
        "của đơn vị khác: {sender_unit} ({sender_name}).",
        "Mỗi đơn vị gửi báo cáo của mình từ hộp thư của đơn vị; kiểm tra lại "
        "mã đơn vị ở trang ThongTin.",
    ),
    "unknown_cycle": Rule(
        ERROR,
        "Kỳ báo cáo “{value}” không có hoặc chưa mở.",
        "Ghi đúng mã kỳ báo cáo như trong mẫu (ví dụ nam-2025).",
    ),
    "cycle_not_open": Rule(
        ERROR,
        "Kỳ báo cáo “{value}” chưa mở: nhận báo cáo từ {opens}.",
        "Mã kỳ báo cáo đã đúng, không cần sửa; gửi lại đúng tệp này từ {opens}.",
    ),
    "late": Rule(
        WARNING, "Nộp sau hạn {due} (tệp nhận lúc {received}).", "Đề nghị các kỳ sau gửi đúng hạn."
    ),
    # -- indicator rows ------------------------------------------------------------
    "missing_indicator": Rule(
        ERROR, "Thiếu chỉ tiêu {code} ({name}).", "Bổ sung dòng chỉ tiêu này (ghi 0 nếu không có)."
    ),
    "unknown_indicator": Rule(
        WARNING,
        "Mã chỉ tiêu “{value}” không có trong danh mục; dòng này không được tính.",
        "Xoá dòng này hoặc sửa đúng mã chỉ tiêu.",
    ),
    "not_applicable": Rule(
        WARNING,
        "Chỉ tiêu {code} ({name}) không thuộc phạm vi báo cáo "
        "của đơn vị (chỉ tiêu của: {holders}); số liệu ở dòng "
        "này không được tính.",
        "Không cần ghi chỉ tiêu này; dùng đúng biểu mẫu của đơn vị đã gửi kèm thư mở kỳ báo cáo.",
    ),
    "duplicate_indicator": Rule(
        ERROR, "Chỉ tiêu {code} có nhiều hơn một dòng.", "Giữ một dòng cho mỗi chỉ tiêu."
    ),
    "not_number": Rule(
        ERROR,
        "Giá trị “{value}” của {code} không phải là số.",
        "Nhập một số, không kèm chữ hay đơn vị tính.",
    ),
    "ambiguous_number": Rule(
        ERROR,
        "“{value}” ở {code} có thể hiểu theo hai cách (dấu chấm, dấu phẩy).",
        "Nhập số không có dấu phân cách hàng nghìn; phần thập phân dùng dấu phẩy (ví dụ 12,5).",
    ),
    "formula_error": Rule(
        ERROR,
        "Chỉ tiêu {code}: ô chứa lỗi công thức {value}.",
        "Sửa công thức hoặc nhập trực tiếp giá trị (ghi 0 nếu không có).",
    ),
    "formula_uncomputed": Rule(
        ERROR,
        "Ô có công thức “{value}” nhưng chưa có giá trị: " + words.UNCOMPUTED_FORMULA + ".",
        "Sau khi lưu lại, gửi lại tệp; hoặc nhập trực tiếp giá trị vào ô.",
    ),
    "info_date": Rule(
        ERROR,
        "{label} “{value}” (trang Thông tin) không phải là một ngày.",
        "Nhập ngày theo dạng ngày/tháng/năm, ví dụ 05/01/2026.",
    ),
    "not_finite": Rule(
        ERROR,
        "Giá trị “{value}” của {code} không phải là một số hữu hạn.",
        "Nhập một số cụ thể (ghi 0 nếu không có).",
    ),
    "number_too_large": Rule(
        ERROR,
        "Giá trị “{value}” của {code} quá lớn (vượt quá {limit}).",
        "Kiểm tra lại số liệu; có thể đã nhập thừa chữ số.",
    ),
    "text_number": Rule(
        WARNING,
        "Số ở {code} được nhập dạng chữ “{value}”, đã đọc là {read}.",
        "Kiểm tra lại; nên nhập ô dạng số.",
    ),
    "required_value": Rule(
        ERROR, "Chưa nhập giá trị chỉ tiêu {code}.", "Nhập giá trị (ghi 0 nếu không có)."
    ),
    "min": Rule(
        ERROR,
        "{code} = {value}: không được nhỏ hơn {min}.",
        "Kiểm tra lại số liệu; số lượng không thể âm.",
    ),
    "max": Rule(
        ERROR,
        "{code} = {value}: không được lớn hơn {max}.",
        "Kiểm tra lại số liệu; tỷ lệ tính theo phần trăm, từ 0 đến 100.",
    ),
    "integer": Rule(
        ERROR, "{code} = {value}: phải là số nguyên.", "Nhập số nguyên (không có phần thập phân)."
    ),
    "at_most": Rule(
        ERROR,
        "{code} = {value} lớn hơn {ref} = {ref_value}; {code} không thể vượt quá {ref}.",
        "Kiểm tra lại hai chỉ tiêu {code} và {ref}.",
    ),
    "warn_at_most": Rule(
        WARNING,
        "{code} = {value} lớn hơn {limit} ({expr}); số liệu có vẻ bất thường.",
        "Kiểm tra lại; nếu đúng, ghi giải thích ở cột Ghi chú.",
    ),
    "target_order": Rule(
        WARNING,
        "{code}: chỉ tiêu đăng ký {value} thấp hơn chỉ tiêu năm trước ({prev}); chỉ tiêu "
        "tính lũy kế từ đầu giai đoạn nên năm sau không thấp hơn năm trước.",
        "Kiểm tra lại chỉ tiêu đăng ký của hai năm; nếu đúng, ghi giải thích ở cột Ghi chú.",
    ),
    "target_reached": Rule(
        WARNING,
        "{code}: chỉ tiêu đăng ký năm {year} là {value}, thấp hơn kết quả đơn vị đã đạt "
        "({reached}, theo các báo cáo năm đã tiếp nhận đến năm {through}); chỉ tiêu tính "
        "lũy kế từ đầu giai đoạn nên không thấp hơn kết quả đã đạt.",
        "Kiểm tra lại chỉ tiêu đăng ký; nếu đúng, ghi giải thích ở cột Ghi chú.",
    ),
    "yoy": Rule(
        WARNING,
        "{code} = {value} chênh lệch quá {factor} lần so với năm trước ({prev}).",
        "Kiểm tra lại; nếu đúng, ghi giải thích ở cột Ghi chú.",
    ),
    "sk_rows": Rule(
        WARNING,
        "SK01 = {value} nhưng trang Sáng kiến (SangKien) có {n} sáng kiến.",
        "Ghi SK01 bằng số sáng kiến liệt kê ở trang Sáng kiến.",
    ),
    "all_zero": Rule(
        WARNING,
        "Mọi chỉ tiêu đều bằng 0.",
        "Kiểm tra lại; nếu đúng, ghi giải thích ở mục “Tóm tắt kết quả nổi bật”, trang Thông tin.",
    ),
    "percent_ambiguous": Rule(
        WARNING,
        "Tỷ lệ ở {code} được nhập là {value}, đã hiểu là {read} %.",
        "Nếu không đúng, nhập tỷ lệ từ 0 đến 100, ví dụ 85 hoặc 85%.",
    ),
    "percent_sign": Rule(
        ERROR,
        "Giá trị “{value}” của {code} có dấu %, nhưng chỉ tiêu này không phải là tỷ lệ.",
        "Nhập một số (đơn vị tính: {unit}), không kèm dấu %.",
    ),
    # -- ThongTin narrative fields, compiled into the commune's report ---------------
    "narrative_empty": Rule(
        WARNING,
        "Chưa ghi mục “{label}” ở trang Thông tin; nội dung "
        "mục này được tổng hợp vào phần “{section}” của báo "
        "cáo của xã.",
        "Ghi ngắn gọn nội dung vào ô này (tối đa {limit} ký tự); nếu "
        "đơn vị không có nội dung, ghi “Không có”.",
    ),
    "narrative_too_long": Rule(
        WARNING,
        "Mục “{label}” dài {length} ký tự, quá giới hạn "
        "{limit} ký tự; báo cáo của xã chỉ trích {limit} ký "
        "tự đầu.",
        "Rút gọn nội dung còn tối đa {limit} ký tự; chi tiết gửi kèm bằng văn bản.",
    ),
    "narrative_copied": Rule(
        WARNING,
        "Mục “{label}” ở trang Thông tin trùng nguyên văn với nội dung {other} đã báo "
        "cáo trong kỳ này; báo cáo của xã chỉ ghi nội dung này một lần.",
        "Ghi nội dung riêng của đơn vị (kết quả, đánh giá của chính đơn vị); nếu đúng là "
        "giống nhau, không cần sửa.",
    ),
    # -- other sheets --------------------------------------------------------------
    "reward_form": Rule(
        ERROR,
        "Hình thức khen thưởng “{value}” không có trong danh sách "
        "của kỳ này; riêng dòng đề nghị này chưa được tính (các phần "
        "khác của báo cáo vẫn được tiếp nhận).",
        "Chọn một hình thức trong danh sách thả xuống: {allowed}; rồi gửi lại tệp.",
    ),
    "reward_subject": Rule(
        ERROR,
        "Dòng {line} trang Đề nghị khen thưởng: “{form}” chỉ tặng cho {allowed}, không "
        "tặng cho {subject} (“{name}”); riêng dòng đề nghị này chưa được tính.",
        "Đề nghị hình thức khác cho {subject}, hoặc đề nghị cho tập thể; rồi gửi lại tệp.",
    ),
    "subject_type": Rule(
        ERROR,
        "Dòng {line} trang Đề nghị khen thưởng: đối tượng “{value}” không phải là Tập "
        "thể, Cá nhân hay Hộ gia đình; riêng dòng đề nghị này chưa được tính.",
        "Chọn Tập thể, Cá nhân hoặc Hộ gia đình trong danh sách thả xuống; rồi gửi lại tệp.",
    ),
    "initiative_date": Rule(
        WARNING,
        "Ngày áp dụng {value} của sáng kiến “{title}” nằm "
        "ngoài thời gian tính số liệu của kỳ ({start} – {end}).",
        "Kiểm tra lại ngày áp dụng; chỉ kê các sáng kiến áp dụng trong kỳ.",
    ),
    "initiative_date_text": Rule(
        WARNING,
        "Ngày áp dụng “{value}” của sáng kiến “{title}” không phải là một ngày.",
        "Nhập ngày theo dạng ngày/tháng/năm, ví dụ 15/09/2025.",
    ),
}


@dataclass(frozen=True)
class Problem:
    """One finding, mapped to a sheet and cell when it has one."""

    rule_id: str
    severity: str
    sheet: str | None
    cell: str | None  # ChiTieu!D7
    value: str | None
    message_vi: str
    fix_vi: str = ""


def problem(
    rule_id: str,
    cell: str | None = None,
    value: object = None,
    sheet: str | None = None,
    **fields: object,
) -> Problem:
    """A Problem of a known rule, its message filled from `fields` (and `value`)."""
    rule = RULES[rule_id]
    shown = fmt(value)
    return Problem(
        rule_id,
        rule.severity,
        sheet or (cell.split("!")[0] if cell else None),
        cell,
        None if value is None else shown,
        rule.text.format(value=shown, **fields),
        rule.fix.format(value=shown, **fields),
    )


# a parenthesis of ASCII text with a word in it: a library's words, never ours (ours
# carry Vietnamese letters, "(chỉ nhận .xlsx, .csv hoặc thư .eml)", or a file suffix
# alone, "(.xls)", which is no word)
_ENGLISH = re.compile(r"\s*\([ -'*-~]*(?<![.\w])[A-Za-z]{3,}[ -'*-~]*\)")


def plain_reason(reason: str) -> str:
    """An unreadable file's reason without the library's own words: a parenthesis
    holding an exception text ("tệp hỏng (File is not a zip file)") is dropped."""
    return _ENGLISH.sub("", reason).strip() or "tệp bị hỏng"


def megabytes(size: int) -> str:
    """Bytes as megabytes the Vietnamese way: 25, 1.234,5."""
    return fmt(round(size / 2**20, 1))


def too_large(size: int | None, cap_mb: float) -> str:
    """The one reason for a file or mail over the cap (None: its size is not known,
    only that it passed the cap)."""
    shown = f"{megabytes(size)} MB" if size is not None else f"hơn {fmt(cap_mb)} MB"
    return words.REFUSAL["too_large"].format(detail=f"{shown}, tối đa {fmt(cap_mb)} MB")


def fmt(value: object) -> str:
    """A number as a Vietnamese reader expects it: 1.234,5; whole numbers without
    decimals; never raises.  Magnitudes a grouped form would hide or blow up (below
    0,0001 or from 10^16) are shown as written (`-1e-300`, not "-0")."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return "" if value is None else str(value)
    if isinstance(value, int):
        return f"{value:,}".replace(",", ".")
    if math.isnan(value):
        return ""
    if math.isinf(value):
        return "vô cực" if value > 0 else "âm vô cực"
    if value and not 5e-5 <= abs(value) < 1e16:
        return f"{value:.15g}".replace(".", ",")
    sign, value = ("-" if value < 0 else ""), abs(value)
    whole, _, frac = f"{value:.4f}".rstrip("0").rstrip(".").partition(".")
    return sign + f"{int(whole):,}".replace(",", ".") + ("," + frac if frac else "")
