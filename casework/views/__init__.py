"""Pages: thin, one module per section of casework. Each reads through selectors and
changes through services; none decides a rule itself."""
