"""The embedded OTLP receiver: HTTP reader, decoders, memory budget, span store."""
