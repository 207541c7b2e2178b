"""Reads, already scoped to what the asking user may see: one module per section of
casework."""
