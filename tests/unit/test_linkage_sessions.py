"""m is trained in sessions (model.estimate_m_sessions): the pairs with an exact date of
birth train the names, the pairs with both names exact train the date, u fixed to the
random-pair u.

Blocked non-matches agree on what brought them together: in one EM over all blocked
pairs, "same date, different family name" looks like such a non-match, so a true pair
whose family name differs (a typo in a short name, a married name) is pushed far below
the threshold (FEBRL4 without documents: −12.3 bits for a differing family name, 234
true pairs lost). Within a session the choosing fields carry no evidence."""

from __future__ import annotations

import numpy as np

from caseapp.facts import model

GIVEN, FAMILY, DOB, SEX = (model.FIELDS.index(f) for f in ("given", "family", "dob", "sex"))


def blocked_levels(rng: np.random.Generator) -> np.ndarray:
    """Matches (family name differs in 20 %, date in 10 %), and non-matches blocked on
    the date or on both names, as a blocking on those keys would bring them."""
    matches = np.full((2000, len(model.FIELDS)), -1, dtype=np.int8)
    matches[:, GIVEN] = np.where(rng.random(2000) < 0.9, 0, 4)
    matches[:, FAMILY] = np.where(rng.random(2000) < 0.8, 0, 4)
    matches[:, DOB] = np.where(rng.random(2000) < 0.9, 0, 5)
    matches[:, SEX] = np.where(rng.random(2000) < 0.99, 0, 1)
    by_date = np.full((20000, len(model.FIELDS)), -1, dtype=np.int8)
    by_date[:, DOB] = 0
    by_date[:, GIVEN] = np.where(rng.random(20000) < 0.01, 0, 4)
    by_date[:, FAMILY] = np.where(rng.random(20000) < 0.005, 0, 4)
    by_date[:, SEX] = np.where(rng.random(20000) < 0.5, 0, 1)
    by_name = np.full((5000, len(model.FIELDS)), -1, dtype=np.int8)
    by_name[:, GIVEN] = 0
    by_name[:, FAMILY] = 0
    by_name[:, DOB] = 5
    by_name[:, SEX] = np.where(rng.random(5000) < 0.5, 0, 1)
    return np.concatenate([matches, by_date, by_name])


def random_u() -> dict[str, list[float]]:
    u = model.default_model().u
    u["given"] = [0.01, 0.0001, 0.0001, 0.0001, 0.9897]
    u["family"] = [0.005, 0.0001, 0.0001, 0.0001, 0.9947]
    u["dob"] = [0.001, 0.0001, 0.0001, 0.0001, 0.0001, 0.9986]
    return u


def test_sessions_recover_m_of_a_field_the_blocking_correlates() -> None:
    levels = blocked_levels(np.random.default_rng(1))
    m, untrained = model.estimate_m_sessions(levels, random_u(), model.default_model())
    assert untrained == []
    assert abs(m["family"][4] - 0.2) < 0.03
    assert abs(m["given"][4] - 0.1) < 0.03
    assert m["dob"][0] > 0.8  # trained on the name pairs: mostly the same date


def test_one_em_over_all_blocked_pairs_makes_a_differing_family_name_a_veto() -> None:
    """Why the sessions: the single EM's m of "family name different" is far too low."""
    levels = blocked_levels(np.random.default_rng(1))
    u = random_u()
    joint, _ = model.estimate_m(levels, u, model.default_model())
    sessions, _ = model.estimate_m_sessions(levels, u, model.default_model())
    assert joint["family"][4] < sessions["family"][4] / 2


def test_a_field_without_enough_session_pairs_keeps_the_starting_m() -> None:
    levels = blocked_levels(np.random.default_rng(1))
    levels = levels[levels[:, DOB] != 0]  # no pair with an exact date: no names session
    start = model.default_model()
    m, untrained = model.estimate_m_sessions(levels, random_u(), start)
    assert set(untrained) == {"given", "family"}
    assert m["given"] == start.m["given"]
