"""The statistics write side: one coded fact per screening, linked into unduplicated persons.

`services.record` runs in the screening's transaction; `linkage` and `fuzzy` hold the keyed
record linkage. The read side (queries, disclosure, layouts) is `caseapp.reports`.
"""
