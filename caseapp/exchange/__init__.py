"""Exchange formats: HTCDS 2.0 cases (export and import) and the service directory as
Open Referral HSDS 3.0 (export and import). docs/exchange.md describes both."""
