"""Changes: keyword-only `noun_verb` functions that check, change, time-line and audit in
one transaction, one module per section of casework."""
