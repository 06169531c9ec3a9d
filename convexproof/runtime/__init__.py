"""Runtime: limits, errors, safe input and output, shipped resources."""
