"""The one settings resolver: `settings.toml`, then `secrets.toml` beside it (git-ignored),
then `THIDUA_<SECTION>_<KEY>` environment variables, each overriding the one before.

Resolved once per run (`Workspace.from_env`) and passed down; nothing else reads the
environment.  Broken settings stop with one `file:line: [section] key: message` per
problem (exit code 2 at the CLI), naming the environment variable when it was one.
Secrets are `SecretStr`: they never show in a repr, a log or an error.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from contextvars import ContextVar
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from thidua.errors import ConfigError

ENV_PREFIX = "THIDUA_"
REPO_CONFIG = Path(__file__).resolve().parent.parent / "config"
EMAIL_RE = re.compile(r"^[^@\s,;<>]+@[^@\s,;<>]+\.[A-Za-z0-9-]+$")
INDICATOR_CODE_RE = re.compile(r"^[A-Z]{2}\d{2}$")
MAX_TEXT = 2000  # characters in one config field: a name, a title, an address


def shown(value: Any) -> str:
    """A value as a message quotes it: repr, cut short."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "…"


class Section(BaseModel):
    """A settings table; a commune may add keys of its own (e.g. `[sender] phone`)."""

    model_config = ConfigDict(frozen=True, extra="allow", str_max_length=MAX_TEXT)


def _email(value: str) -> str:
    if not EMAIL_RE.match(value):
        raise ValueError(f"not an email address: {value!r}")
    return value


class Commune(Section):
    name: str
    authority: str
    authority_short: str
    province: str
    plan_ref: str
    # The plan's movements: full names in email bodies and the workbook, the short form
    # in subjects.
    movements: tuple[str, ...] = ()
    movement_short: str = "Thi đua"


class Tier(Section):
    """`[tier]`: the words of the tier an instance serves, read by every report text (a
    tier is config, not a fork).  The defaults are the commune's; the province's config
    sets its own (config/tiers/ninh-binh/settings.toml)."""

    level: str = "xã"  # tên cấp: "XÃ PHONG DOANH" in the header, "trên địa bàn xã"
    authority: str = "UBND xã"  # who decides: "Chủ tịch UBND xã tặng …"
    whole: str = "toàn xã"  # "Các tỷ lệ chính toàn xã"
    lead_office: str = "Phòng Văn hoá – Xã hội"  # cơ quan chủ trì: guides and approves
    lead_office_code: str = "VHXH"  # its initials in "Lưu: VT, VHXH."
    unit_noun: str = "đơn vị"  # what a reporting unit is called: "3 đơn vị chưa nộp"
    members: str = "các cơ quan, đơn vị, thôn, xóm và doanh nghiệp"  # every reporting unit
    # The commendation documents (`award_docs`): the form the tier's chairman awards in
    # its Quyết định, the offices its Điều 3 charges, and where its Tờ trình goes up to
    # ({province} is `[commune] province`) with the office the copy goes through.
    own_award: str = "Giấy khen"
    decision_executors: str = "Chánh Văn phòng HĐND và UBND xã, Trưởng phòng Văn hoá – Xã hội"
    proposal_to: str = "Chủ tịch UBND tỉnh {province} (qua Sở Nội vụ – Ban Thi đua – Khen thưởng)"
    proposal_office: str = "Sở Nội vụ (Ban TĐKT)"  # nơi nhận of the Tờ trình

    @property
    def council(self) -> str:
        return f"Hội đồng Thi đua – Khen thưởng {self.level}"


class Contact(Section):
    name: str
    email: str
    phone: str | None = None

    _check_email = field_validator("email")(_email)


class Admin(Contact):
    # Unit kinds whose `don-doc` reminder is an escalation (head and admin in copy); the
    # plan only invites companies, so by default they are not among them.
    escalate_kinds: tuple[str, ...] = ("co_quan", "mat_tran_doan_the", "thon_xom")


class Signer(Section):
    on_behalf: str
    capacity: str
    title: str
    name: str


class CalendarSettings(Section):
    timezone: str
    send_hour: int = Field(ge=0, le=23)
    extra_days_off: tuple[date, ...] = ()  # announced days off beyond the holidays
    makeup_working_days: tuple[date, ...] = ()  # Saturdays announced as working days

    @field_validator("timezone")
    @classmethod
    def _iana(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"not an IANA time zone: {value!r}") from None
        return value

    @property
    def tz(self) -> ZoneInfo:
        """The commune's time zone: the one way thidua tells local time."""
        return ZoneInfo(self.timezone)

    def now(self) -> datetime:
        return datetime.now(self.tz)

    def today(self) -> date:
        return self.now().date()


class Checks(Section):
    yoy_factor: float = Field(gt=1)
    # A flow is compared with last year's scaled by the lengths of the two periods (nam-2025
    # covers 116 days); beyond this ratio of lengths the comparison is skipped.
    yoy_max_length_ratio: float = Field(default=4.0, gt=1)
    max_file_mb: float = Field(gt=0)
    max_unpacked_mb: float = Field(gt=0)
    max_zip_ratio: float = Field(gt=0)
    # ThongTin narrative fields (tom_tat, mo_hinh, kho_khan, de_xuat): characters each;
    # the template refuses longer text as it is typed, the checks warn about a pasted one.
    narrative_max_chars: int = Field(default=1500, ge=1, le=32767)


class AwardSettings(Section):
    """The register of awards (docs/khen-thuong.md): within what period an earlier award
    of the same or a higher form makes a new proposal a warning for the council —
    `cycle` (the same reporting cycle), `phase` (the same giai đoạn: 2025–2027,
    2028–2030) or `movement` (any earlier award of the movement).  The legal limit on
    repeated awards is to be confirmed by the commune's thi đua officer."""

    repeat_within: Literal["cycle", "phase", "movement"] = "phase"


class Scoring(Section):
    on_time: float = Field(ge=0)
    late: float = Field(ge=0)
    missing: float = Field(ge=0)
    quality: float = Field(ge=0)
    quality_with_warnings: float = Field(ge=0)
    performance: float = Field(ge=0)
    # Lateness counts once, in timeliness: "content" counts only the warnings about the
    # figures (not the `late` one); "all" counts every warning of the counted version.
    quality_warnings: Literal["content", "all"] = "content"
    # A ratio that applies to the unit's kind but that it left empty (or with a zero
    # denominator): "zero" ranks it 0 and keeps it in the mean; "skip" leaves it out.
    empty_ratio: Literal["zero", "skip"] = "zero"
    # A ratio whose numerator the unit registered a target for scores achieved / target,
    # capped at this (1: 100 %, exceeding the target earns no more than meeting it).
    target_cap: float = Field(default=1.0, gt=0)


TAG_RE = re.compile(r"^[a-z][a-z0-9-]*$")  # a registry tag: mot-cua


class Ratio(Section):
    """A derived ratio (%): sum(numerator) / sum(denominator) over the units of one kind
    (`population`: staff of offices, households of villages... never a mix), narrowed to
    the units carrying one of `population_tags` when given (the public-service centre,
    `mot-cua`, for dossiers), that report the numerator.  The config check refuses a
    population that some unit of it does not hold both terms for."""

    key: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    numerator: str = Field(pattern=INDICATOR_CODE_RE.pattern)
    denominator: str = Field(pattern=INDICATOR_CODE_RE.pattern)
    population: str = Field(pattern=r"^[a-z][a-z0-9_]*$")  # a unit kind of [kinds]
    population_tags: tuple[Annotated[str, Field(pattern=TAG_RE.pattern)], ...] = ()
    name_vi: str


class RollupSettings(Section):
    """What the rollup weighs and counts: indicator codes of `indicators.csv`."""

    weight: str = Field(pattern=INDICATOR_CODE_RE.pattern)  # percents weighted by
    initiatives: str = Field(pattern=INDICATOR_CODE_RE.pattern)  # counts SangKien rows
    ratios: tuple[Ratio, ...]
    # Kinds the plan only invites (companies): reported as participation, left out of
    # the commune's reporting and on-time rates.
    invited_kinds: tuple[str, ...] = ()
    # Who each kind's TS01 counts ("CBCCVC, người lao động"), so every ratio of the
    # report names its base; a kind not listed is named by its [kinds] label.
    populations: dict[str, str] = {}

    @field_validator("ratios")
    @classmethod
    def _unique(cls, ratios: tuple[Ratio, ...]) -> tuple[Ratio, ...]:
        keys = [r.key for r in ratios]
        if len(set(keys)) != len(keys):
            raise ValueError(f"duplicate ratio key in {keys}")
        return ratios


class SmtpSettingsIn(Section):
    """SMTP as configured; `thidua.mailer.SmtpSettings` derives port and security."""

    host: str | None = None  # none: every message goes to the outbox
    port: int | None = Field(default=None, ge=1, le=65535)
    security: Literal["starttls", "ssl", "none"] | None = None
    user: str | None = None
    password: SecretStr | None = None
    sender: str | None = None
    retry_delays: Annotated[tuple[float, ...], NoDecode] = (2.0, 10.0, 30.0)
    alert_after: int = Field(default=3, ge=1)  # failed attempts before the admin is told

    @field_validator("retry_delays", mode="before")
    @classmethod
    def _seconds(cls, value: Any) -> Any:
        if isinstance(value, str):  # "2,10,30" from the environment
            return tuple(x for x in value.split(",") if x.strip())
        return value

    @field_validator("security", mode="before")
    @classmethod
    def _lower(cls, value: Any) -> Any:
        return value.lower() if isinstance(value, str) else value


class ImapSettingsIn(Section):
    """The commune's mailbox as configured; `thidua.mailbox.ImapSettings` completes it."""

    host: str | None = None  # none: no mailbox, the inbox folder only
    port: int | None = Field(default=None, ge=1, le=65535)
    security: Literal["ssl", "starttls", "none"] = "ssl"
    user: str | None = None
    password: SecretStr | None = None
    folder: str = "INBOX"
    processed_folder: str = "Đã xử lý"
    quarantine_folder: str = "Cần kiểm tra"
    batch: int = Field(default=200, ge=1)  # messages per FETCH
    authserv_id: str | None = None  # the commune's server in Authentication-Results
    max_message_mb: float = Field(default=25.0, gt=0)  # larger: answered, not fetched

    @field_validator("security", mode="before")
    @classmethod
    def _lower(cls, value: Any) -> Any:
        return value.lower() if isinstance(value, str) else value


class WebSettings(Section):
    """`[web]`: the units' upload page and the officer's review (`thidua web`).

    `secret_key` (signs the units' links and the officer's session) and
    `officer_password_hash` (`thidua web hash-password`) come only from
    `THIDUA_WEB_SECRET_KEY` / `THIDUA_WEB_OFFICER_PASSWORD_HASH` or `secrets.toml`;
    the web app refuses to start without the key.
    """

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    base_url: str = Field(default="http://127.0.0.1:8000", pattern=r"^https?://[^\s]+$")
    secret_key: SecretStr | None = None
    max_upload_mb: float = Field(default=10, gt=0)
    link_valid_days: int | None = Field(default=None, gt=0)  # none: due date + 60 days
    officer_password_hash: SecretStr | None = None
    rollup_counts: Literal["accepted", "approved"] = "accepted"
    # "batched": uploads that arrive while a collection runs are collected together
    # (group commit, one consumer thread, a kept parsing worker); "serial": each alone,
    # one at a time, as first built (the baseline of bench/web_upload.py)
    uploads: Literal["batched", "serial"] = "batched"
    # The upload page also takes a package's manifest (.json) beside its workbook, as the
    # folder and the mailbox do (`thidua.package`): on at the tier that collects packages.
    package_manifest: bool = False

    @field_validator("secret_key")
    @classmethod
    def _long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < 16:
            raise ValueError("at least 16 characters")
        return value

    @property
    def links_enabled(self) -> bool:
        """Reminders carry each unit's upload link when the key and address are set."""
        return bool(self.secret_key and self.base_url)


WEB_SECRETS = ("secret_key", "officer_password_hash")  # never in settings.toml


class Settings(BaseSettings):
    """Everything a run needs to know besides the registry, indicators and cycles."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter="_",
        env_nested_max_split=1,
        env_ignore_empty=True,
        extra="ignore",
        frozen=True,
        str_max_length=MAX_TEXT,
    )

    home: Path = Path("var")  # THIDUA_HOME: the data directory
    inbox: Path | None = None  # THIDUA_INBOX: default home/inbox
    lock_timeout: float = Field(default=900, gt=0)  # s to wait for another run's lock
    commune: Commune
    tier: Tier = Tier()
    sender: Contact  # VHXH: signs every email to units
    admin: Admin  # failure alerts, copies of chasers
    province_office: Contact  # Sở Nội vụ: receives the rollups
    signer: Signer
    calendar: CalendarSettings
    checks: Checks
    scoring: Scoring
    kinds: dict[str, str]
    blocks: dict[str, str]
    # Registry tags (units.csv `tags`): what a unit holds beyond its kind, e.g. `mot-cua`
    # for the public-service centre that receives the administrative dossiers once.
    # Indicators (indicators.csv `tags`) and ratios (`population_tags`) name them.
    tags: dict[str, str] = Field(default_factory=dict)
    rollup: RollupSettings
    smtp: SmtpSettingsIn = SmtpSettingsIn()
    imap: ImapSettingsIn = ImapSettingsIn()
    web: WebSettings = WebSettings()
    awards: AwardSettings = AwardSettings()

    @model_validator(mode="after")
    def _nonempty(self) -> Settings:
        if not self.blocks:
            raise ValueError("[blocks]: at least one block")
        bad = [
            f"{r.key}: {r.population!r}"
            for r in self.rollup.ratios
            if r.population not in self.kinds
        ]
        if bad:
            raise ValueError(
                f"[rollup] ratios: population must be a unit kind of [kinds] "
                f"({', '.join(self.kinds)}): {'; '.join(bad)}"
            )
        for key, kinds in (
            ("[admin] escalate_kinds", self.admin.escalate_kinds),
            ("[rollup] invited_kinds", self.rollup.invited_kinds),
            ("[rollup] populations", tuple(self.rollup.populations)),
        ):
            unknown = [k for k in kinds if k not in self.kinds]
            if unknown:
                raise ValueError(
                    f"{key}: not a unit kind of [kinds] "
                    f"({', '.join(self.kinds)}): {', '.join(unknown)}"
                )
        bad = [
            f"{r.key}: {t!r}"
            for r in self.rollup.ratios
            for t in r.population_tags
            if t not in self.tags
        ]
        if bad:
            raise ValueError(
                f"[rollup] ratios: population_tags must be tags of [tags] "
                f"({', '.join(self.tags) or 'none'}): {'; '.join(bad)}"
            )
        bad = [t for t in self.tags if not TAG_RE.match(t)]
        if bad:
            raise ValueError(f"[tags]: not a tag (a-z, 0-9, '-'): {', '.join(bad)}")
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        files, env = _SOURCES.get()
        return (
            init_settings,
            _Env(settings_cls, env),
            *(TomlConfigSettingsSource(settings_cls, f) for f in reversed(files)),
        )


class _Env(EnvSettingsSource):
    """The environment source, read from a given mapping (os.environ in a run)."""

    def __init__(self, settings_cls: type[BaseSettings], env: Mapping[str, str]) -> None:
        self._env = env
        super().__init__(settings_cls)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        return {
            k.lower(): v
            for k, v in self._env.items()
            if k.startswith(ENV_PREFIX) and (v or not self.env_ignore_empty)
        }


_SOURCES: ContextVar[tuple[tuple[Path, ...], Mapping[str, str]]] = ContextVar("sources")


def config_dir(env: Mapping[str, str] = os.environ) -> Path:
    """`THIDUA_CONFIG`, else `./config`, else the sample Phong Doanh config of the repo."""
    given = env.get("THIDUA_CONFIG")
    if given:
        return Path(given).absolute()
    here = Path("config")
    return (here if (here / "settings.toml").is_file() else REPO_CONFIG).absolute()


def resolve_settings(directory: Path, env: Mapping[str, str] = os.environ) -> Settings:
    """settings.toml → secrets.toml → THIDUA_* of `env`; ConfigError naming file, line,
    section and key (or the environment variable) of every problem."""
    files = [directory / "settings.toml"]
    if not files[0].is_file():
        raise ConfigError([f"{files[0]}: file not found"])
    if (directory / "secrets.toml").is_file():
        files.append(directory / "secrets.toml")
    for path in files:
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError([f"{path}: {exc}"]) from None
        if path == files[0]:  # the committed file must not carry the web secrets
            leaked = [k for k in WEB_SECRETS if k in data.get("web", {})]
            if leaked:
                raise ConfigError(
                    [
                        f"{path}:{_line_of(path, 'web', k)}: [web] {k}: a secret: set it in "
                        f"secrets.toml or {ENV_PREFIX}WEB_{k.upper()}, not here"
                        for k in leaked
                    ]
                )
    token = _SOURCES.set((tuple(files), env))
    try:
        return Settings()  # type: ignore[call-arg]  # its fields come from the sources set above
    except ValidationError as exc:
        raise ConfigError([_problem(err, files, env) for err in exc.errors()]) from None
    finally:
        _SOURCES.reset(token)


def _problem(err: Mapping[str, Any], files: list[Path], env: Mapping[str, str]) -> str:
    """One validation error as `file:line: [section] key: message`."""
    loc = [str(part) for part in err["loc"]]
    section, key = (loc[0], ".".join(loc[1:])) if len(loc) > 1 else ("", loc[0] if loc else "")
    field = f"[{section}] {key}" if section else key
    message = err["msg"].removeprefix("Value error, ")[:300]
    if err["type"] == "missing":
        message = "missing"
    elif "input" in err and not isinstance(err["input"], dict | list | tuple):
        secret = "password" in field or "secret" in field or "hash" in field
        if not secret and repr(err["input"]) not in message:
            message += f" (got {shown(err['input'])})"
    name = f"{ENV_PREFIX}{'_'.join(loc[:2]).upper()}"
    if name in env:
        return f"environment {name}: {field}: {message}"
    for path in reversed(files):  # the file whose value won
        line = _line_of(path, section, loc[1] if len(loc) > 1 else loc[0] if loc else "")
        if line:
            return f"{path}:{line}: {field}: {message}"
    return f"{files[0]}: {field}: {message}"


def _line_of(path: Path, section: str, key: str) -> int | None:
    """Line of `key = …` in `[section]` (or of the section's header), 1-based."""
    current, header = "", None
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        stripped = line.strip()
        table = re.match(r"\[+\s*([^\]]+?)\s*\]", stripped)
        if table:
            current = table.group(1)
            if current == section:
                header = n
        elif current == section and re.match(rf"{re.escape(key)}\s*=", stripped):
            return n
    return header
