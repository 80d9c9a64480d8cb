"""Templates to identities: 1:N search indexes and score calibration."""
