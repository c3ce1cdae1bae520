"""Foundation every stage uses: configuration, AgentLog's own error log, redaction, the session id."""
