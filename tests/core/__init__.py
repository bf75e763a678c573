"""The pure core: classification, SLOs, formatting, redaction, formats."""
