// Placeholder: filled in by the connector's change.
namespace tessera::connectors {}
