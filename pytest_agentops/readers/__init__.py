"""Everything that only reads runs or trace files: assertions, figures, scorecard, baseline, trace files,
PII masking, OTel, html."""
