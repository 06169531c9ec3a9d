"""Grading: reading and comparing answers, checking derivations, batch grading and class reports."""
