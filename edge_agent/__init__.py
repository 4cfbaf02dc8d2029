"""The kiosk side: durable outbox, MQTT publisher, simulator (vision and capture come later)."""
