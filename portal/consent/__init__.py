"""Consent: a ledger of every grant and withdrawal, per purpose, with how and under which notice
(Decree 356/2025 Art. 6). A customer's current consent for a purpose is the latest entry for it."""
