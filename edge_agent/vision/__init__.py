"""On-device vision: stages that turn a camera frame into an Observation for the rules."""
