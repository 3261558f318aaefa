"""Review settings: `review.toml` at the project root (or `--settings PATH`).

The file says which screening stages the review has, how many independent
screeners each needs, the exclusion reasons offered, keywords to highlight and
who the reviewers are. `sync_settings` copies the per-stage part into the
`review_settings` table so the screening views (litrev/views.py) use it.
"""

import json
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from litrev.db import now, write_transaction
from litrev.errors import LitrevError

DEFAULT_PATH = "review.toml"
STAGES = ("title-abstract", "full-text")
NOT_RETRIEVED = "Report not retrieved"
# Fits the PRISMA 2020 "Reports excluded: reason" box (PICO + design + report problems).
DEFAULT_REASONS = [
    "Wrong population",
    "Wrong intervention",
    "Wrong comparator",
    "Wrong outcomes",
    "Wrong study design",
    "Wrong publication type",
    "Wrong setting",
    "Duplicate report",
    NOT_RETRIEVED,
]
KNOWN_KEYS = {
    "review": {"name", "reviewers", "publish_reviewer_names", "publish_suggestions"},
    "stages": set(STAGES),
    "stage": {"screeners", "reason_required"},
    "exclusion": {"reasons"},
    "keywords": {"include", "exclude"},
    "screen": {"prioritise", "blind_priority", "pilot_seed", "blind", "recall_target", "confidence"},
}


class SettingsError(LitrevError):
    """review.toml is missing (when given), unreadable or has a bad value."""


@dataclass
class StageSettings:
    name: str
    screeners: int = 1
    reason_required: bool = False


@dataclass
class ReviewSettings:
    name: str = "litrev review"
    stages: dict[str, StageSettings] = field(
        default_factory=lambda: {s: StageSettings(s, 1, s == "full-text") for s in STAGES}
    )
    reasons: list[str] = field(default_factory=lambda: list(DEFAULT_REASONS))
    include_keywords: list[str] = field(default_factory=list)
    exclude_keywords: list[str] = field(default_factory=list)
    reviewers: list[str] = field(default_factory=list)
    publish_reviewer_names: bool = False
    publish_suggestions: bool = True  # false: the public site shows reviewers' tags only
    prioritise: bool = True
    blind_priority: bool = True
    pilot_seed: int = 2020
    blind: bool = True  # screeners never see each other's votes (the team web app)
    # The stopping rule (litrev.screen.stopping): "you can stop" once at least `recall_target` of
    # the relevant works are found with this `confidence`.
    recall_target: float = 0.95
    confidence: float = 0.95
    path: str | None = None

    def stage(self, name: str) -> StageSettings:
        if name not in self.stages:
            where = self.path or "the default settings"
            raise SettingsError(
                f"Unknown stage {name!r} (stages in {where}: {', '.join(self.stages)}). "
                "Use --stage with one of those."
            )
        return self.stages[name]

    def reasons_for(self, stage: str) -> list[str]:
        """Reasons offered at `stage`; "Report not retrieved" only makes sense at full text."""
        if stage == "full-text":
            return self.reasons
        return [r for r in self.reasons if r != NOT_RETRIEVED]

    def check_reviewer(self, reviewer: str | None) -> str:
        reviewer = (reviewer or "").strip()
        if not reviewer:
            raise SettingsError("No reviewer name given. Pass --reviewer NAME.")
        if self.reviewers and reviewer not in self.reviewers:
            raise SettingsError(
                f"Reviewer {reviewer!r} is not listed in {self.path or 'review.toml'} "
                f"({', '.join(self.reviewers)}). Check the spelling or add the name to [review] reviewers."
            )
        return reviewer


def settings_path(path: str | Path | None = None) -> Path:
    return Path(path or os.environ.get("LITREV_SETTINGS") or DEFAULT_PATH)


def load_settings(path: str | Path | None = None) -> ReviewSettings:
    """Read review settings; without a file at the default path, the defaults apply."""
    explicit = path is not None or bool(os.environ.get("LITREV_SETTINGS"))
    p = settings_path(path)
    if not p.exists():
        if explicit:
            raise SettingsError(f"No review settings file at {p}. Check --settings or $LITREV_SETTINGS.")
        return ReviewSettings()
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise SettingsError(f"{p} is not valid TOML ({e}). Fix the file.")
    return parse_settings(data, str(p))


def parse_settings(data: dict[str, Any], path: str = "review.toml") -> ReviewSettings:
    _check_keys(data, path)
    review = data.get("review", {})
    settings = ReviewSettings(path=path)
    settings.name = _typed(review, "name", str, settings.name, path, "review")
    settings.reviewers = _str_list(review, "reviewers", [], path, "review")
    if len(set(settings.reviewers)) != len(settings.reviewers):
        raise SettingsError(f"{path}: [review] reviewers lists a name twice. Remove the repeat.")
    settings.publish_reviewer_names = _typed(review, "publish_reviewer_names", bool, False, path, "review")
    settings.publish_suggestions = _typed(review, "publish_suggestions", bool, True, path, "review")
    if "stages" in data:
        settings.stages = {}
        for name in STAGES:  # always in screening order, whatever the file order
            if name in data["stages"]:
                settings.stages[name] = _stage(name, data["stages"][name], path)
        if "title-abstract" not in settings.stages:
            raise SettingsError(f"{path}: [stages] needs a title-abstract stage. Add [stages.title-abstract].")
    reasons = _str_list(data.get("exclusion", {}), "reasons", DEFAULT_REASONS, path, "exclusion")
    if not reasons:
        raise SettingsError(f"{path}: [exclusion] reasons is empty. List at least one reason.")
    if NOT_RETRIEVED not in reasons:
        reasons.append(NOT_RETRIEVED)  # PRISMA counts "reports not retrieved" from this reason
    settings.reasons = reasons
    keywords = data.get("keywords", {})
    settings.include_keywords = _str_list(keywords, "include", [], path, "keywords")
    settings.exclude_keywords = _str_list(keywords, "exclude", [], path, "keywords")
    screen = data.get("screen", {})
    settings.prioritise = _typed(screen, "prioritise", bool, True, path, "screen")
    settings.blind_priority = _typed(screen, "blind_priority", bool, True, path, "screen")
    settings.pilot_seed = _typed(screen, "pilot_seed", int, 2020, path, "screen")
    settings.blind = _typed(screen, "blind", bool, True, path, "screen")
    settings.recall_target = _proportion(screen, "recall_target", 0.95, path)
    settings.confidence = _proportion(screen, "confidence", 0.95, path)
    return settings


def _proportion(table: dict, key: str, default: float, path: str) -> float:
    """A [screen] proportion strictly between 0 and 1 (0.95, not 95 or 95%)."""
    value = table.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < 1:
        raise SettingsError(
            f"{path}: [screen] {key} = {value!r} is not a proportion between 0 and 1. "
            f"Write e.g. {key} = 0.95."
        )
    return float(value)


def _stage(name: str, table: Any, path: str) -> StageSettings:
    section = f"stages.{name}"
    if not isinstance(table, dict):
        raise SettingsError(f"{path}: [{section}] must be a table. Write [{section}] screeners = 1.")
    _only_known(table, KNOWN_KEYS["stage"], path, section)
    screeners = _typed(table, "screeners", int, 1, path, section)
    if screeners not in (1, 2):
        raise SettingsError(f"{path}: [{section}] screeners = {screeners}; use 1 or 2.")
    required = _typed(table, "reason_required", bool, name == "full-text", path, section)
    if name == "full-text" and not required:
        raise SettingsError(
            f"{path}: [{section}] reason_required = false; PRISMA 2020 reports full-text "
            "exclusions per reason. Remove the line."
        )
    return StageSettings(name, screeners, required)


def _check_keys(data: dict[str, Any], path: str) -> None:
    for section, value in data.items():
        if section not in KNOWN_KEYS or section == "stage":
            raise SettingsError(
                f"{path}: unknown section [{section}]. "
                "Known: review, stages, exclusion, keywords, screen."
            )
        if not isinstance(value, dict):
            raise SettingsError(f"{path}: {section} must be a table ([{section}]). Fix the file.")
        _only_known(value, KNOWN_KEYS[section], path, section)


def _only_known(table: dict[str, Any], known: set[str], path: str, section: str) -> None:
    unknown = set(table) - known
    if unknown:
        raise SettingsError(
            f"{path}: unknown key {min(unknown)!r} in [{section}]. "
            f"Known keys: {', '.join(sorted(known))}."
        )


def _typed(table: dict, key: str, kind: type, default: Any, path: str, section: str) -> Any:
    value = table.get(key, default)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise SettingsError(f"{path}: [{section}] {key} must be a {kind.__name__}, not {value!r}. Fix the value.")
    return value


def _str_list(table: dict, key: str, default: list[str], path: str, section: str) -> list[str]:
    value = table.get(key, default)
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise SettingsError(f"{path}: [{section}] {key} must be a list of non-empty strings. Fix the value.")
    return [v.strip() for v in value]


def settings_for_db(db: Database, settings: ReviewSettings) -> ReviewSettings:
    """Sync a settings file into the database; without a file, keep the database's stages.

    So a command run from another directory (no review.toml there) never resets a dual
    screening review to the one-screener defaults.
    """
    if settings.path:
        sync_settings(db, settings)
        return settings
    rows = list(db.query("select stage, screeners, reason_required from review_settings order by position"))
    if rows:
        settings.stages = {
            r["stage"]: StageSettings(r["stage"], r["screeners"], bool(r["reason_required"])) for r in rows
        }
    return settings


def sync_settings(db: Database, settings: ReviewSettings) -> None:
    """Make `review_settings` match `settings` (writes only when something changed)."""
    wanted = {
        s.name: {
            "stage": s.name,
            "position": i + 1,
            "screeners": s.screeners,
            "reason_required": int(s.reason_required),
            "reasons": json.dumps(settings.reasons_for(s.name), ensure_ascii=False),
        }
        for i, s in enumerate(settings.stages.values())
    }
    current = {
        row["stage"]: {k: row[k] for k in ("stage", "position", "screeners", "reason_required", "reasons")}
        for row in db.query("select * from review_settings")
    }
    if current == wanted:
        return
    with write_transaction(db):
        db.execute("delete from review_settings")
        db["review_settings"].insert_all([{**row, "updated_at": now()} for row in wanted.values()])
