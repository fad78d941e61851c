"""Pure statistical methods behind the reports: disclosure control (small-cell and
complementary suppression, cell-key perturbation) and multiple systems estimation.
No Flask, no SQL: numbers in, numbers out; `caseapp.reports` feeds them and publishes."""
