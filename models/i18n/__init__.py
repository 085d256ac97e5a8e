"""The answer's sentences in the user's language: records that remember how they were said (text.py), and the
gettext catalogs that say them in each language (catalogs.py, locales/; docs/translating.md)."""
