"""The HTCDS round trip at small size (benchmarks/htcds_roundtrip.py at ~30 cases):
synthetic cases, statistics, export of every organization, import into an empty database,
and the same statistics (persons, overlap of registers, sex × age)."""

from __future__ import annotations

import base64
import secrets

import sqlalchemy as sa

from benchmarks import htcds_roundtrip as rt


def test_statistics_survive_export_and_import(tmp_path):
    keys = {
        k: base64.b64encode(secrets.token_bytes(32)).decode()
        for k in ("SECRET_KEY", "DATA_KEY", "INDEX_KEY", "AUDIT_KEY", "AUDIT_SIGNING_KEY")
    }
    source = rt.make_app(f"sqlite:///{tmp_path / 'source.sqlite3'}", tmp_path, keys)
    target = rt.make_app(f"sqlite:///{tmp_path / 'target.sqlite3'}", tmp_path, keys)
    rt.prepare(source)
    rt.prepare(target)
    with source.app_context():
        cases = rt.synthesize(22, seed=3)
        rt.relink()
        before = rt.statistics()
        files = rt.export_all()
    assert 25 <= cases <= 45
    assert len(files) > 3  # several registers, so the overlap table means something
    with target.app_context():
        from caseapp.extensions import db
        from caseapp.referrals.models import Referral
        from caseapp.screening.models import Case

        assert db.session.scalar(sa.select(sa.func.count()).select_from(Case)) == 0
        assert rt.import_all(files) == cases
        rt.relink()
        after = rt.statistics()
        # historical cases plan no referrals
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Referral)) == 0
        assert rt.import_all(files) == 0  # idempotent
    assert before["overlap"]["totals"]["persons"]["count"] < cases  # duplicates were linked
    assert len(before["overlap"]["cells"]) > 1
    assert after == before
