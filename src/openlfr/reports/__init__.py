"""Transparency reports: the deployment record and the register of deployments (HTML, CSV,
JSON, PDF), the annual report with charts, and FOI disclosure packs with redaction profiles.

    record_document(store, deployment_id, "pdf") -> bytes
    register_document(store, date_from, date_to, "csv") -> bytes
    annual_report(store, date_from, date_to).write(out_dir)
    write_pack(store, date_from, date_to, load_profile("default"), out_dir)
"""

from __future__ import annotations

from openlfr.reports.annual import AnnualReport, annual_report
from openlfr.reports.foi import Profile, load_contracts, load_profile, profile_names, write_pack
from openlfr.reports.records import FORMATS, MEDIA, record_document, register_document
from openlfr.reports.register import register, totals

__all__ = [
    "FORMATS",
    "MEDIA",
    "AnnualReport",
    "Profile",
    "annual_report",
    "load_contracts",
    "load_profile",
    "profile_names",
    "record_document",
    "register",
    "register_document",
    "totals",
    "write_pack",
]
