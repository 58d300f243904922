"""Secret detection for every sink: value rules, secret names, keyed placeholders.

``rules`` says what a secret looks like (detect-secrets' plugins plus our own rules), ``detect``
finds them in a string (through layers of URL, JSON and base64 encoding), ``names`` says which
field, header and parameter names carry a secret whatever the value, and ``placeholder`` turns a
secret into a stable ``<redacted:KIND:HASH8>``.
"""
