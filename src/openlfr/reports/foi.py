"""FOI disclosure packs: the deployment records of a period (with the cameras and system
type), and optionally the contracts, with a redaction profile applied. Profiles are TOML
data (see profiles/default.toml). Withheld fields read 'Withheld - s31(1)' in the HTML and
PDF documents and are absent from the CSV and JSON files; a cover note lists what was
withheld under which section, and a manifest gives each file's SHA-256."""

from __future__ import annotations

import hashlib
import json
import tomllib
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from openlfr.errors import ConfigError
from openlfr.reports.columns import CONTRACT_COLUMNS, RECORD_COLUMNS, SYSTEM_COLUMNS, Withheld
from openlfr.reports.document import Document, Table, Text, machine_rows, to_csv, to_html, to_json
from openlfr.reports.pdf import to_pdf
from openlfr.reports.register import register, totals
from openlfr.store import Store

PROFILES = Path(__file__).parent / "profiles"
FOI_COLUMNS = RECORD_COLUMNS + SYSTEM_COLUMNS
FIELDS = {c.key for c in FOI_COLUMNS + CONTRACT_COLUMNS}


@dataclass(frozen=True)
class Exemption:
    field: str
    section: str
    exemption: str
    reason: str


@dataclass(frozen=True)
class Profile:
    name: str
    description: str
    withhold: tuple[Exemption, ...]

    def section_for(self, key: str) -> str | None:
        return next((w.section for w in self.withhold if w.field == key), None)


def profile_names() -> list[str]:
    return sorted(p.stem for p in PROFILES.glob("*.toml"))


def load_profile(name_or_path: str) -> Profile:
    """A profile by name (one shipped in reports/profiles) or from a TOML file."""
    path = Path(name_or_path)
    if not (path.suffix == ".toml" and path.is_file()):
        path = PROFILES / f"{name_or_path}.toml"
        if not path.is_file():
            raise ConfigError(
                f"no redaction profile {name_or_path!r}: use one of {', '.join(profile_names())} "
                "or a path to a .toml file"
            )
    try:
        data = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read redaction profile {path}: {exc}") from None
    unknown = set(data) - {"name", "description", "withhold"}
    if unknown:
        raise ConfigError(f"redaction profile {path}: unknown keys {sorted(unknown)}")
    items = []
    for i, w in enumerate(data.get("withhold", [])):
        if not isinstance(w, dict) or not {"field", "section", "reason"} <= set(w):
            raise ConfigError(
                f"redaction profile {path}: withhold[{i}] needs field, section, reason"
            )
        if w["field"] not in FIELDS:
            raise ConfigError(
                f"redaction profile {path}: withhold[{i}] names unknown field {w['field']!r}; "
                f"fields: {', '.join(sorted(FIELDS))}"
            )
        items.append(
            Exemption(
                str(w["field"]), str(w["section"]), str(w.get("exemption", "")), str(w["reason"])
            )
        )
    return Profile(str(data.get("name", path.stem)), str(data.get("description", "")), tuple(items))


def load_contracts(path: str | Path) -> list[dict[str, object]]:
    """Contracts from a TOML file: [[contract]] supplier, description, start, end, value."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read contracts {path}: {exc}") from None
    rows = []
    for i, c in enumerate(data.get("contract", [])):
        missing = {"supplier", "description", "value"} - set(c)
        if missing:
            raise ConfigError(f"contracts {path}: contract[{i}] lacks {sorted(missing)}")
        if not isinstance(c["value"], (int, float)):
            raise ConfigError(f"contracts {path}: contract[{i}].value must be a number")
        rows.append({
            "supplier": str(c["supplier"]), "description": str(c["description"]),
            "start": c.get("start"), "end": c.get("end"), "contract_value": float(c["value"]),
        })  # fmt: skip
    return rows


def redact(rows: list[dict], profile: Profile) -> list[dict]:
    out = []
    for row in rows:
        row = dict(row)
        for w in profile.withhold:
            if w.field in row:
                row[w.field] = Withheld(w.section)
        out.append(row)
    return out


def cover_note(
    profile: Profile, date_from: date, date_to: date, n: int, contracts: bool
) -> list[str]:
    lines = [
        f"Disclosure of Live Facial Recognition deployment records, {date_from:%d/%m/%Y} to "
        f"{date_to:%d/%m/%Y}: {n} deployment{'s' if n != 1 else ''}.",
        f"Redaction profile: {profile.name}. {profile.description}".strip(),
    ]
    if profile.withhold:
        lines.append("Information withheld:")
        for w in profile.withhold:
            label = next(
                (c.label for c in FOI_COLUMNS + CONTRACT_COLUMNS if c.key == w.field), w.field
            )
            what = f" ({w.exemption})" if w.exemption else ""
            lines.append(f"- {label}: withheld under section {w.section}{what}. {w.reason}")
        lines.append(
            "Withheld values read 'Withheld - <section>' in the HTML and PDF documents and "
            "are left out of the CSV and JSON files."
        )
    else:
        lines.append("No information has been withheld.")
    if not contracts:
        lines.append("No contract information was included in this pack.")
    return lines


def write_pack(
    store: Store, date_from: date, date_to: date, profile: Profile, out: str | Path,
    contracts: list[dict] | None = None,
) -> list[Path]:  # fmt: skip
    """Write the pack into `out` (created); returns the files written."""
    if date_to < date_from:
        raise ConfigError(f"the period ends ({date_to}) before it starts ({date_from})")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    rows = redact(register(store, date_from, date_to), profile)
    contract_rows = redact(contracts or [], profile)
    note = cover_note(profile, date_from, date_to, len(rows), bool(contracts))
    t = totals(rows)
    footer = {k: v for k, v in t.as_dict().items() if k != "deployments"}
    footer["location"] = f"Total: {t.deployments} deployments"
    sections: list = [
        Text("Cover note", note),
        Table("Deployment records", FOI_COLUMNS, rows, footer=footer),
    ]
    if contract_rows:
        sections.append(Table("Contracts", CONTRACT_COLUMNS, contract_rows))
    doc = Document(
        "Freedom of Information disclosure: LFR deployments",
        f"{date_from:%d/%m/%Y} to {date_to:%d/%m/%Y} · profile {profile.name}",
        sections,
    )
    payload = {
        "period": {"from": date_from, "to": date_to},
        "profile": profile.name,
        "deployments": machine_rows(FOI_COLUMNS, rows),
    }
    files: dict[str, bytes] = {
        "cover-note.txt": ("\n".join(note) + "\n").encode(),
        "deployment-records.html": to_html(doc).encode(),
        "deployment-records.pdf": to_pdf(doc),
        "deployment-records.csv": to_csv(FOI_COLUMNS, rows).encode(),
        "deployment-records.json": to_json(payload).encode(),
    }
    if contract_rows:
        files["contracts.csv"] = to_csv(CONTRACT_COLUMNS, contract_rows).encode()
        files["contracts.json"] = to_json(
            {"contracts": machine_rows(CONTRACT_COLUMNS, contract_rows)}
        ).encode()
    manifest = {name: hashlib.sha256(data).hexdigest() for name, data in files.items()}
    files["manifest.json"] = (json.dumps({"sha256": manifest}, indent=2) + "\n").encode()
    written = []
    for name, data in files.items():
        (out / name).write_bytes(data)
        written.append(out / name)
    return written
