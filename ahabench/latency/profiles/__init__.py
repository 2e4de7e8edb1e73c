"""Shipped latency profiles: one YAML file per profile (loaded by ahabench.latency.profile)."""
