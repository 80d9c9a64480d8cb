"""Measurements that keep the engine honest: verification, open-set 1:N, demographics."""
