"""Every code of codes.md in a list HTCDS also has maps to an HTCDS value, or is listed
as unmapped with its reason; every HTCDS value read from a file means a Ruta code."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from caseapp.core import codes, htcds

SPEC = Path(__file__).resolve().parents[2].parent / "shared" / "spec" / "codes.md"

#: crosswalk list → where codes.md names its codes: a table row (``| name |``), the purpose
#: table's first column, or a paragraph (until the next blank line) starting with the text
SPEC_ROWS = {
    "sex": "| sex |",
    "gender_identity": "| gender_identity |",
    "language": "| languages |",
    "indicator": "Strong (each alone",
    "purpose": "PURPOSE TABLE",
    "sector": "Sector of exploitation",
    "trafficker_relation": "| trafficker_relation |",
    "recruitment_method": "| recruitment_method |",
    "org_kind": "Organization kinds",
}


def spec_codes(start: str) -> set[str]:
    lines = SPEC.read_text(encoding="utf-8").splitlines()
    if start == "PURPOSE TABLE":
        rows = [ln for ln in lines if re.match(r"^\| `[a-z_]+` \|.*\| 0204\d \|$", ln)]
        text = " ".join(row.split("|")[1] for row in rows)
    else:
        first = next(i for i, ln in enumerate(lines) if ln.startswith(start))
        block = [lines[first]]
        if not start.startswith("|"):
            for ln in lines[first + 1 :]:
                if not ln.strip():
                    break
                block.append(ln)
        text = re.sub(r"\([^)]*\)", "", " ".join(block))  # "(each alone … `possible`)"
    return set(re.findall(r"`([A-Za-z_0-9]+)`", text))


@pytest.mark.skipif(not SPEC.exists(), reason="the shared spec is not beside the repository")
@pytest.mark.parametrize("list_name", sorted(SPEC_ROWS))
def test_every_spec_code_is_mapped_or_explained(list_name: str) -> None:
    crosswalk = htcds.CROSSWALKS[list_name]
    in_spec = spec_codes(SPEC_ROWS[list_name]) - {"true", "false", "null"}
    assert in_spec, f"no codes found for {list_name} in codes.md"
    missing = in_spec - set(crosswalk.to_htcds) - set(crosswalk.unmapped)
    assert not missing, f"{list_name}: codes with no HTCDS value and no reason: {missing}"
    for code, reason in crosswalk.unmapped.items():
        assert len(reason) > 10, f"{list_name}.{code}: say why it is unmapped"
        assert code not in crosswalk.to_htcds


@pytest.mark.parametrize("name", sorted(htcds.CROSSWALKS))
def test_crosswalk_covers_the_whole_ruta_list(name: str) -> None:
    crosswalk = htcds.CROSSWALKS[name]
    ruta = set(codes.get(crosswalk.ruta_list).codes)
    assert set(crosswalk.to_htcds) | set(crosswalk.unmapped) == ruta


@pytest.mark.parametrize("name", sorted(htcds.CROSSWALKS))
def test_every_htcds_value_reads_back_as_a_ruta_code(name: str) -> None:
    crosswalk = htcds.CROSSWALKS[name]
    ruta = set(codes.get(crosswalk.ruta_list).codes)
    for value in crosswalk.to_htcds.values():
        assert value in crosswalk.from_htcds, f"{name}: {value} cannot be read back"
    for value, code in crosswalk.from_htcds.items():
        assert code is None or code in ruta, f"{name}: {value} → unknown code {code}"


def test_one_to_one_values_round_trip() -> None:
    for code in codes.GENDER_IDENTITY.codes:
        assert htcds.GENDER.ruta(htcds.GENDER.to_htcds[code]) == code
    assert htcds.NATIONALITY.htcds("PER") == "PE"
    assert htcds.country_alpha3("ve") == "VEN"
    assert htcds.NATIONALITY.htcds("XXA") is None


def test_lossy_values_and_unknown_values() -> None:
    assert htcds.METHODS_OF_CONTROL.htcds_many(["isolation", "hazardous_work", "threats"]) == [
        "Other",
        "Threats",
    ]
    assert htcds.TYPE_OF_EXPLOITATION.htcds("organ_removal") == "Other"
    assert htcds.FORCED_LABOUR_INDUSTRY.htcds("commercial_sex") is None
    with pytest.raises(KeyError):
        htcds.METHODS_OF_CONTROL.ruta("Telepathy")
