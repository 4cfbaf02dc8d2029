"""Registers kiosks and renders their credentials, the broker's ACL and config bundles.

Built in the provisioning issue; `python -m provisioning` will be its entry point.
"""
