"""The statistics write side: one coded fact per screening, linked into unduplicated persons.

`services.record` runs in the screening's transaction. Linkage (docs/linkage.md):
`encoding` (keyed encodings), `blocking`, `model` (Fellegi–Sunter), `cluster`
(constrained clustering), `probabilistic` (the pipeline, and `flask linkage evaluate`);
`linkage` keeps the name/document normalization and the old exact keys (a baseline).
The read side (queries, disclosure, layouts) is `caseapp.reports`.
"""
