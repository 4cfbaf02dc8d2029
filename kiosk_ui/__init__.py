"""The candidate's screens on the kiosk (check-in, rules, quiz, warnings, result).

A small Flask app bound to 127.0.0.1 that talks only to the local edge agent; built in the
kiosk-screens issue.
"""
