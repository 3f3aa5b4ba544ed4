"""Consent: a ledger of every grant and withdrawal, per purpose, with how and under which notice
(Decree 356/2025 Art. 6). A customer's current consent for a purpose is the latest entry for it.
Customers turn their consents on and off on My data (views.py, whose blueprint is defined there:
the account's record reads the ledger's models, so this package must not load its views)."""
