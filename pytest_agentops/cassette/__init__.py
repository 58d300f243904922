"""Cassettes: the on-disk format, matching, redaction and bodies."""
