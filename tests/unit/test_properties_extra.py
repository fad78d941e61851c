"""Hypothesis properties that complement the ones next to each rules module.

Already covered there (and not repeated here): adding one element never lowers the
determination, a child never misses means, stated consent never changes the status
(test_screening_rules.py); the engine never proposes an ineligible, inactive or full
provider (test_referral_rules.py); suppression never leaves a small cell recoverable,
in one, two and three dimensions and with declared subtotals (test_disclosure.py).

Added here:
* for a child, means never decide whether the elements are present: indicated exactly
  on act + purpose, with any means or none (stronger than "means is never missing");
* adding any set of elements, of several kinds at once, never lowers the determination;
* the consent recorded in a screening request never reaches the rules at all;
* re-routing after a decline (``choose_provider`` with excluded providers) never returns
  an excluded, ineligible, inactive or full provider, and says why when it returns none.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import UTC

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from caseapp.core import codes
from caseapp.referrals.rules import ProviderFacts, ReferralFacts, choose_provider, eligible
from caseapp.screening import rules
from caseapp.screening.rules import ScreeningFacts, determine
from caseapp.screening.schema import ConsentInput, ScreeningInput
from tests.unit.test_referral_rules import COORDS, directories
from tests.unit.test_referral_rules import facts_strategy as referral_facts
from tests.unit.test_screening_rules import ELEMENT_LISTS, facts_strategy, rank

SETTINGS = settings(
    max_examples=200,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
RESIDENTIAL = frozenset(codes.RESIDENTIAL_SERVICES)


@st.composite
def children(draw: st.DrawFn) -> ScreeningFacts:
    """Screenings of a person known to be a child (recorded age) or presumed one."""
    facts = draw(facts_strategy)
    if draw(st.booleans()):
        person = replace(facts.person, date_of_birth=None, age_years=draw(st.integers(0, 17)))
    else:
        person = replace(facts.person, date_of_birth=None, age_years=None, appears_minor=True)
    return replace(facts, person=person)


@SETTINGS
@given(facts=children(), means=st.frozensets(st.sampled_from(codes.MEANS.codes)))
def test_for_a_child_means_never_decide_indicated(
    facts: ScreeningFacts, means: frozenset[str]
) -> None:
    assert "child" in rules.profile(facts).tags  # the strategy really makes children
    without = determine(replace(facts, means=frozenset()))
    with_means = determine(replace(facts, means=means))
    assert "means" not in without.missing_elements
    # domain.md §1.2: a child is indicated on act + purpose alone. (Means can still lift
    # act-only to "possible" under §1.3, which is the same for every age.)
    assert (with_means.status == "indicated") == (without.status == "indicated")
    assert with_means.missing_elements == without.missing_elements
    assert (without.status == "indicated") == bool(facts.acts and facts.purposes)


@SETTINGS
@given(facts=facts_strategy, data=st.data())
def test_adding_elements_of_several_kinds_never_lowers_the_determination(
    facts: ScreeningFacts, data: st.DataObject
) -> None:
    additions = {
        kind: data.draw(st.frozensets(st.sampled_from(code_list.codes), max_size=4))
        for kind, code_list in ELEMENT_LISTS.items()
    }
    more = replace(facts, **{k: getattr(facts, k) | v for k, v in additions.items()})
    assert rank(determine(more).status) >= rank(determine(facts).status)
    assert set(determine(more).missing_elements) <= set(determine(facts).missing_elements)


consents = st.one_of(
    st.none(),
    st.builds(
        ConsentInput,
        given=st.booleans(),
        scope=st.one_of(
            st.just(("all",)),
            st.lists(st.sampled_from(codes.get("service_type").codes), min_size=1, max_size=4).map(
                tuple
            ),
        ),
        given_by=st.sampled_from(codes.get("consent_given_by").codes),
        method=st.sampled_from(codes.get("consent_method").codes),
    ),
)


@SETTINGS
@given(facts=facts_strategy, first=consents, second=consents)
def test_the_consent_in_a_request_never_reaches_the_rules(
    facts: ScreeningFacts, first: ConsentInput | None, second: ConsentInput | None
) -> None:
    """The request's consent drives referrals only; the facts the rules see, and so the
    determination, are the same whatever it says (domain.md §1.7)."""
    from caseapp.screening.schema import ContextInput, PersonInput
    from caseapp.screening.services import facts_from

    p = facts.person
    # built from facts the rules accept, not from a request: no request validation here
    request = ScreeningInput.model_construct(
        identified_at=facts.identified_at.astimezone(UTC),
        region=facts.region,
        person=PersonInput.model_construct(
            sex=p.sex,
            gender_identity=p.gender_identity,
            lgbtqi=p.lgbtqi,
            date_of_birth=p.date_of_birth,
            age_years=p.age_years,
            age_estimated=p.age_estimated,
            appears_minor=p.appears_minor,
            nationality=p.nationality,
            languages=p.languages,
            migration_status=p.migration_status,
            unaccompanied=p.unaccompanied,
            pregnant=p.pregnant,
            disability=p.disability,
        ),
        acts=tuple(sorted(facts.acts)),
        means=tuple(sorted(facts.means)),
        purposes=tuple(sorted(facts.purposes)),
        indicators=tuple(sorted(facts.indicators)),
        stated_consent=facts.stated_consent,
        context=ContextInput(),
    )
    a = facts_from(request.model_copy(update={"consent": first}))
    b = facts_from(request.model_copy(update={"consent": second}))
    assert a == b
    assert determine(a) == determine(b)
    assert rules.profile(a) == rules.profile(b)


def test_rerouting_never_returns_an_excluded_ineligible_or_full_provider() -> None:
    seen: Counter[str] = Counter()

    @settings(
        max_examples=150, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck)
    )
    @given(facts=referral_facts(), directory=directories(), data=st.data())
    def prop(
        facts: ReferralFacts, directory: tuple[ProviderFacts, ...], data: st.DataObject
    ) -> None:
        service_types = sorted({p.service_type for p in directory}) or ["ngo_shelter"]
        service_type = data.draw(st.sampled_from(service_types))
        of_type = sorted({p.code for p in directory if p.service_type == service_type})
        # no decline at all is drawn as often as some declines (the plain case must be
        # seen in every run, not only when the generator happens to draw an empty list)
        declined = frozenset(
            data.draw(st.one_of(st.just([]), st.lists(st.sampled_from(of_type or ["X"]))))
        )
        provider, gap = choose_provider(service_type, facts, directory, COORDS, declined)
        if provider is None:
            assert gap is not None, "no provider and no gap: the unmet need would be invisible"
            seen["gap"] += 1
            return
        seen["provider after a decline" if declined else "provider"] += 1
        assert provider.code not in declined
        assert provider in directory and provider.service_type == service_type
        assert provider.is_active
        assert eligible(provider, facts) == (True, None)
        if service_type in RESIDENTIAL and provider.capacity is not None:
            assert provider.occupancy < provider.capacity, "a full shelter was proposed"

    prop()
    # not vacuous: providers chosen, after declines too, and gaps named
    assert seen["gap"] and seen["provider"] and seen["provider after a decline"], seen
