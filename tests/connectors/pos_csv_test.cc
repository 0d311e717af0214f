// Placeholder: filled in by the connector's change.
