"""The console, driven by Textual's Pilot, and its snapshots."""
