"""Statistics: agreement, gold, calibration, status."""
