"""B6's reference: Splink (plaintext, DuckDB) on a linkage CSV, trained as its tutorials do.

``python -m benchmarks.b6_splink FILE.csv --clusters OUT.csv [--threshold P]`` reads the
same file ``flask linkage evaluate`` reads, writes one ``record_id,cluster`` row per
record and prints a JSON line (``records``, ``persons``, ``seconds``, the model's
settings). Run in its own process by benchmarks/b6_linkage.py, so that its CPU time,
memory and imports are measured like Ruta's command. A benchmark dependency only
(pyproject.toml ``bench``; docs/decisions/0021-linkage-benchmark-against-splink.md).

The model follows Splink's own examples (the FEBRL3 and "50k synthetic" deduplication
notebooks): light cleaning a user would do (lower case, accents and punctuation out),
``ForenameSurnameComparison`` with term frequencies on the full name,
``DateOfBirthComparison``, Damerau-Levenshtein on the document, exact sex, and birth
years (±1) where a record has only an age; a columns that is empty in the whole file
is left out, as a user would. The prior from deterministic rules with an assumed recall,
u from random sampling, m by EM on two blocking rules (names; date of birth), then
``predict`` and connected components at a match probability threshold.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from typing import Any

DEFAULT_THRESHOLD = 0.95  # the clustering threshold of Splink's 50k-synthetic example
PREDICT_THRESHOLD = 0.2  # pairs kept by predict (the FEBRL3 example's value)
PRIOR_RECALL = 0.7  # assumed recall of the deterministic rules (examples use 0.6–0.9)
U_MAX_PAIRS = 1e7
EM_MAX_PAIRS = 1e7

_CLEAN = "nullif(trim(regexp_replace(lower(strip_accents({c})), '[^a-z]+', ' ', 'g')), '')"


def prepare(con: Any, path: str) -> dict[str, bool]:
    """Load the CSV into table ``records`` with Splink's columns; say which are filled."""
    con.execute(
        "CREATE TABLE raw AS SELECT * FROM read_csv(?, header = true, all_varchar = true, "
        "quote = '\"', escape = '\"')",
        [path],
    ).fetchall()
    con.execute(
        f"""
        CREATE TABLE records AS
        SELECT
            record_id AS unique_id,
            {_CLEAN.format(c="coalesce(given_names, '')")} AS given_names,
            {_CLEAN.format(c="coalesce(family_names, '')")} AS family_names,
            nullif(trim(coalesce(date_of_birth, '')), '') AS date_of_birth,
            nullif(trim(coalesce(sex, '')), '') AS sex,
            CASE WHEN trim(coalesce(date_of_birth, '')) = ''
                 THEN try_cast(nullif(trim(coalesce(birth_year, '')), '') AS INTEGER) END
                AS age_only_year,
            CASE WHEN trim(coalesce(document_number, '')) <> ''
                 THEN coalesce(document_type, '') || ':' ||
                      regexp_replace(upper(document_number), '[^0-9A-Z]+', '', 'g') END
                AS document
        FROM raw
        """
    ).fetchall()
    con.execute(
        """
        CREATE OR REPLACE TABLE records AS
        SELECT *,
            nullif(concat_ws(' ', given_names, family_names), '') AS full_name,
            coalesce(year(try_cast(date_of_birth AS DATE)), age_only_year) AS birth_year_any
        FROM records
        """
    ).fetchall()
    row = con.execute(
        "SELECT count(*), count(document), count(sex), count(age_only_year) FROM records"
    ).fetchall()[0]
    return {
        "records": int(row[0]),
        "document": row[1] > 0,
        "sex": row[2] > 0,
        "age_only": row[3] > 0,
    }


def settings(filled: dict[str, bool]) -> tuple[Any, list[Any]]:
    """The Splink settings and the deterministic rules for the prior."""
    import splink.comparison_library as cl
    from splink import SettingsCreator, block_on

    swapped = (
        "l.given_names = r.family_names AND l.family_names = r.given_names "
        "AND l.date_of_birth = r.date_of_birth"
    )
    comparisons: list[Any] = [
        cl.ForenameSurnameComparison(
            "given_names", "family_names", forename_surname_concat_col_name="full_name"
        ),
        cl.DateOfBirthComparison("date_of_birth", input_is_string=True),
    ]
    blocking: list[Any] = [
        block_on("given_names", "family_names"),
        block_on("given_names", "date_of_birth"),
        block_on("family_names", "date_of_birth"),
        "l.given_names = r.family_names AND l.family_names = r.given_names",
        block_on("substr(given_names, 1, 2)", "substr(family_names, 1, 2)", "birth_year_any"),
    ]
    deterministic: list[Any] = [block_on("given_names", "family_names", "date_of_birth"), swapped]
    if filled["age_only"]:
        comparisons.append(
            cl.CustomComparison(
                output_column_name="birth_year",
                comparison_levels=[
                    {
                        "sql_condition": "(age_only_year_l IS NULL AND age_only_year_r IS NULL)"
                        " OR birth_year_any_l IS NULL OR birth_year_any_r IS NULL",
                        "label_for_charts": "both dated, or a year missing",
                        "is_null_level": True,
                    },
                    {
                        "sql_condition": "birth_year_any_l = birth_year_any_r",
                        "label_for_charts": "same birth year",
                    },
                    {
                        "sql_condition": "abs(birth_year_any_l - birth_year_any_r) <= 1",
                        "label_for_charts": "birth years one apart",
                    },
                    {"sql_condition": "ELSE", "label_for_charts": "all other"},
                ],
            )
        )
    if filled["sex"]:
        comparisons.append(cl.ExactMatch("sex"))
    if filled["document"]:
        comparisons.append(cl.DamerauLevenshteinAtThresholds("document", [1, 2]))
        blocking.insert(0, block_on("document"))
        deterministic.insert(0, block_on("document"))
    creator = SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="unique_id",
        comparisons=comparisons,
        blocking_rules_to_generate_predictions=blocking,
        retain_matching_columns=False,
        retain_intermediate_calculation_columns=False,
    )
    return creator, deterministic


def link(path: str, out: str, threshold: float = DEFAULT_THRESHOLD) -> dict[str, Any]:
    """Train, predict, cluster; write ``record_id,cluster``; return the summary."""
    import duckdb
    from splink import DuckDBAPI, Linker, block_on

    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="b6-splink-") as spill:
        con = duckdb.connect(
            config={
                "temp_directory": spill,
                "memory_limit": os.environ.get("B6_DUCKDB_MEMORY", "8GB"),
            }
        )
        filled = prepare(con, path)
        creator, deterministic = settings(filled)
        db_api = DuckDBAPI(connection=con)
        linker = Linker(db_api.register("records"), creator, log_level=logging.WARNING)
        linker.training.estimate_probability_two_random_records_match(
            deterministic, recall=PRIOR_RECALL
        )
        linker.training.estimate_u_using_random_sampling(max_pairs=U_MAX_PAIRS, seed=1)
        for rule in (block_on("given_names", "family_names"), block_on("date_of_birth")):
            linker.training.estimate_parameters_using_expectation_maximisation(
                rule, estimate_without_term_frequencies=True, max_pairs=EM_MAX_PAIRS
            )
        predictions = linker.inference.predict(threshold_match_probability=PREDICT_THRESHOLD)
        clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
            predictions, threshold_match_probability=threshold
        )
        relation = clusters.as_duckdbpyrelation()
        con.register("clusters_out", relation)
        con.execute(
            "COPY (SELECT unique_id AS record_id, cluster_id AS cluster FROM clusters_out "
            "ORDER BY unique_id) TO ? (HEADER, DELIMITER ',')",
            [out],
        ).fetchall()
        persons = con.execute("SELECT count(DISTINCT cluster_id) FROM clusters_out").fetchall()[0][
            0
        ]
        pairs = con.execute(f"SELECT count(*) FROM {predictions.physical_name}").fetchall()[0][0]
        con.close()
    return {
        "records": filled["records"],
        "persons": int(persons),
        "scored_pairs": int(pairs),
        "threshold": threshold,
        "columns": [k for k in ("document", "sex", "age_only") if filled[k]],
        "seconds": time.perf_counter() - started,
    }


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.b6_splink", description=__doc__)
    p.add_argument("csv")
    p.add_argument("--clusters", required=True, help="where to write record_id,cluster")
    p.add_argument("--threshold", type=float, default=DEFAULT_THRESHOLD)
    a = p.parse_args(argv)
    import splink

    summary = link(a.csv, a.clusters, a.threshold)
    summary["splink"] = splink.__version__
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
