"""Free text that explains an audited action, kept out of the audit log itself.

The audit log is kept forever, shown to administrators (who see no case data) and
copied into every dump; free text typed by people (a legal hold's order, the reason
for a two-factor reset) can name a person. So ``audit.record(... details=...)`` holds
only codes and ids, and such text is stored here, encrypted with AES-GCM like case
notes (``EncryptedText``), and referenced from the event by the note's id
(``details["note"]``). Notes about a case are purged with the case's personal data
(``maintenance/retention.py``); the event, its codes and its chain stay.

ADR: docs/decisions/0014-no-free-text-in-audit-and-logs.md.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from caseapp.core.db import EncryptedText, UTCDateTime, new_uuid, utcnow
from caseapp.extensions import db


class AuditNote(db.Model):  # type: ignore[name-defined]
    """The free text of one audited action (its event's ``details["note"]`` is ``uuid``)."""

    __tablename__ = "audit_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = mapped_column(sa.String(36), unique=True, default=new_uuid)
    kind: Mapped[str] = mapped_column(sa.String(40))  # e.g. legal_hold_reason
    subject_type: Mapped[str] = mapped_column(sa.String(20))  # case | user
    subject_id: Mapped[str] = mapped_column(sa.String(64), index=True)  # its public uuid
    text: Mapped[str | None] = mapped_column(EncryptedText("audit_notes.text"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


def keep(kind: str, subject_type: str, subject_id: str, text: str) -> str:
    """Store ``text`` encrypted; returns the id to put in the audit event's details."""
    note = AuditNote(kind=kind, subject_type=subject_type, subject_id=subject_id, text=text)
    db.session.add(note)
    db.session.flush()
    return note.uuid


def read(note_id: str) -> str | None:
    """The text of a note (None once purged or unknown)."""
    return db.session.scalar(sa.select(AuditNote.text).where(AuditNote.uuid == note_id))


def purge_for(subject_type: str, subject_ids: Iterable[str]) -> None:
    """NULL the text of every note about these subjects (retention)."""
    ids = list(subject_ids)
    if ids:
        db.session.execute(
            sa.update(AuditNote)
            .where(AuditNote.subject_type == subject_type, AuditNote.subject_id.in_(ids))
            .values(text=None)
        )
