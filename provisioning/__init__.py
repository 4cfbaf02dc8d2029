"""Registers kiosks and renders their credentials, the broker's ACL and config bundles.

`python -m provisioning` is the entry point; see provisioning/DEPLOYING.md.
"""
