"""Trust score, quiz score and the exam result: pure functions, no database (see
docs/trust-score.md). The services in central.services.results feed them from the tables."""
