"""Time the import page's steps on a generated police register (docs/imports.md, Limits).

    python -m devtools.import_page_timing ROWS [DATABASE_URL]

Builds the app as the tests do (a fresh SQLite file, or the given PostgreSQL database,
emptied first), signs a supervisor in, uploads a generated XLSX with 1 % bad rows, reads
the check page, confirms "without the bad rows" and reads the batch page, through the
page's own requests (Flask test client). Prints the counts and the seconds of each step.
"""

from __future__ import annotations

import io
import re
import sys
import tempfile
import time
from pathlib import Path


def main(argv: list[str]) -> None:
    import pyotp

    from caseapp.accounts import services
    from caseapp.accounts import two_factor as tf
    from caseapp.extensions import db
    from devtools.import_samples import write_police_xlsx
    from tests.conftest import (
        PASSWORD,
        csrf_from,
        login,
        make_app,
        migrate_and_seed,
        reset_database,
    )

    rows = int(argv[0])
    url = argv[1] if len(argv) > 1 else None
    tmp = Path(tempfile.mkdtemp())
    if url:
        reset_database(url)
    app = make_app(tmp, url)
    app.config["IMPORT_PAGE_MAX_ROWS"] = 0  # time the steps, whatever the page's limit
    migrate_and_seed(app)
    path = tmp / "reta.xlsx"
    write_police_xlsx(path, rows, bad=0.01)
    data = path.read_bytes()
    with app.app_context():
        user = services.create_user(
            None,
            email="timing@x.test",
            role="supervisor",
            org_code="PNP-TRATA-MDD",
            password=PASSWORD,
        )
        secret = tf.start_enrolment(user)
        tf.confirm_enrolment(user, pyotp.TOTP(secret).at(int(time.time()) - 30))
        db.session.commit()
    client = app.test_client()
    with app.app_context():
        assert login(client, "timing@x.test").status_code == 302
    token = csrf_from(client.get("/imports/").get_data(as_text=True))
    t0 = time.perf_counter()
    response = client.post(
        "/imports/",
        data={
            "csrf_token": token,
            "profile": "police-register",
            "file": (io.BytesIO(data), "reta.xlsx"),
        },
        content_type="multipart/form-data",
    )
    t1 = time.perf_counter()
    assert response.status_code == 303, response.status_code
    batch = response.headers["Location"]
    page = client.get(batch).get_data(as_text=True)
    t2 = time.perf_counter()
    counts = dict(re.findall(r'data-count="(\w+)">(\d+)<', page))
    response = client.post(
        batch + "/confirm", data={"csrf_token": csrf_from(page), "skip_bad_rows": "y"}
    )
    t3 = time.perf_counter()
    assert response.status_code == 303, response.status_code
    client.get(batch)
    t4 = time.perf_counter()
    backend = "postgresql" if url else "sqlite"
    print(f"rows={rows} file={len(data) / 1e6:.2f} MB database={backend} counts={counts}")
    print(
        f"check {t1 - t0:.2f} s, check page {t2 - t1:.2f} s, "
        f"import {t3 - t2:.2f} s, batch page {t4 - t3:.2f} s"
    )


if __name__ == "__main__":
    main(sys.argv[1:])
