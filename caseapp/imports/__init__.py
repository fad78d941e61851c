"""Register import: existing registers (police, prosecutors, NGOs) brought in through
mapping profiles and the screening contract (docs/imports.md, ADR 0022)."""
