"""The intake workflow: screening a person is one step that records the screening, plans
the referrals and writes the statistics fact, in one transaction. The screening page and
endpoint, and the case and result documents, live here because they show all three."""
