"""The pure core: model, signals, diagnosis, SLO math, runbook parsing. No I/O, no Textual."""
