"""Pure rules (functions of touchpoints, T and rules) and the tracked view writers."""
