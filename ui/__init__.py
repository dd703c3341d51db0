"""Clients of the HTTP API: the Streamlit chat and the Slack bot. Neither imports the engine."""
