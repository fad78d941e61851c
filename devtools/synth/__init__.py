"""Synthetic persons and screenings for demos, benchmarks and linkage quality (api.md §1).

``generate`` invents ``persons`` trafficking victims and the screenings that several
organizations of the seeded directory would record about each of them, with the record
noise real registers have (typos, dropped accents, surnames first, a missing document,
an age instead of a date of birth…), and stores them as real rows: ``cases``,
``persons`` (AES-GCM encrypted exactly as ``EncryptedText`` does), ``screenings`` (the
decision of ``screening.rules.determine``/``profile``) and ``screening_facts`` with
their purposes (the values of ``facts.services.record``). Then ``facts.relink_all``
computes the unduplicated persons in one pass, and the true person of every screening,
kept in memory only, measures the linkage (``pairwise_quality``).

Synthetic screenings skip referral planning, for speed: the statistics do not read
referrals, so there are no referrals, gaps or referral alerts (``consent_missing``…) for
them. One audit event records the run, not one per row. Rows are built in forked worker
processes for large runs and written in batches (COPY on PostgreSQL). Distributions,
noise model and measurements: docs/decisions/0006-synthetic-data-and-linkage-quality.md.
The same seed gives the same persons and screenings (uuids, database ids and ciphertext
nonces aside); the linkage result also depends slightly on the index key, which places
the Bloom-filter bits, and on the model estimated on the data.
"""

from devtools.synth.population import Directory, OrgRef, Population
from devtools.synth.quality import LinkageQuality, pairwise_quality
from devtools.synth.rows import (
    _JSON_COLUMNS,
    FACT_COLUMNS,
    LINK_COLUMNS,
    PERSON_COLUMNS,
    SCREENING_COLUMNS,
    TABLES,
    IdAssigner,
    RowBuilder,
    facts_json,
    plain,
)
from devtools.synth.run import SynthResult, generate

__all__ = [
    "FACT_COLUMNS",
    "LINK_COLUMNS",
    "PERSON_COLUMNS",
    "SCREENING_COLUMNS",
    "TABLES",
    "_JSON_COLUMNS",
    "Directory",
    "IdAssigner",
    "LinkageQuality",
    "OrgRef",
    "Population",
    "RowBuilder",
    "SynthResult",
    "facts_json",
    "generate",
    "pairwise_quality",
    "plain",
]
