"""Incidents: lifecycle, the refresh recorder, run links, postmortem export."""
