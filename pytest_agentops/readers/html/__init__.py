"""The HTML report: one self-contained page from trace files."""
